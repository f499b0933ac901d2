// `outpost replay --config FILE [--from T] [--to T] [--sensor GLOB] [--publish]`: re-runs the
// journaled readings through the config's pipelines, e.g. to backfill after a config change.
// Prints the summaries and anomalies as JSON lines; with --publish, queues them in the outbox
// (marked "replayed": true) for the agent to send when it next runs.
import { existsSync } from 'node:fs';
import { loadConfigFile } from '../config/load.js';
import { openStore } from '../store/open-store.js';
import { openOutbox } from '../store/outbox.js';
import { saveSketch } from '../stream/quantile-sketch.js';
import { loadCheckpoint } from '../store/checkpoint.js';
import { replayJournal } from '../store/journal.js';
import { createStream, type StreamOutput } from '../stream/stream.js';
import { compileGlob } from '../stream/glob.js';
import { renderBody, wrapBody } from '../wire/render.js';
import { reportProblems } from './check-config.js';
import type { Io } from './io.js';
import { agentUrl } from './agent-url.js';

export interface ReplayArgs {
  config: string;
  from?: string;
  to?: string;
  sensor?: string;
  publish?: boolean;
}

export async function replay(a: ReplayArgs, io: Io): Promise<number> {
  const loaded = loadConfigFile(a.config);
  if (!loaded.ok) return reportProblems(a.config, loaded, io);
  const cfg = loaded.config;
  const from = a.from === undefined ? -Infinity : Date.parse(a.from);
  const to = a.to === undefined ? Infinity : Date.parse(a.to);
  if (Number.isNaN(from) || Number.isNaN(to)) {
    io.err(`--from/--to: write ISO 8601 times, e.g. 2026-11-22T10:00:00Z`);
    return 64;
  }
  if (!existsSync(cfg.storage.path)) {
    io.err(`outpost replay: ${cfg.storage.path} does not exist: nothing was journaled yet`);
    return 1;
  }
  if (a.publish && (await agentAnswers(cfg.http))) {
    io.err('outpost replay --publish: the agent is running; stop it first (it owns the outbox seq counter)');
    return 1;
  }
  const matches = a.sensor ? compileGlob(a.sensor) : () => true;
  const db = await openStore(cfg.storage.path);
  const stream = createStream(cfg.pipelines);
  const out: StreamOutput[] = [];
  const outputs: StreamOutput[] = [];
  let readings = 0;
  await replayJournal(db, 0, (e) => {
    if (e.shift) {
      stream.shiftArrivals(e.value);
    } else if (e.sensor === null) {
      stream.tick(e.ts, out);
    } else if (e.ts >= from && e.ts < to && matches(e.sensor)) {
      readings++;
      stream.ingest({ sensor: e.sensor, ts: e.ts, value: e.value, receivedAt: e.receivedAt }, out);
    }
    outputs.push(...out);
    out.length = 0;
  });
  stream.flush(outputs); // windows the journal ends in: partial

  if (!a.publish) {
    for (const o of outputs) io.out(`{${renderBody(cfg.device.id, o)}}`);
  } else {
    // Recovery after a crash regenerates seqs from the checkpoint's counter: new rows are only
    // safe after a clean stop, and the checkpoint's counter moves with them, in one transaction.
    const outbox = await openOutbox(db);
    const cp = await loadCheckpoint(db);
    const head = (await db.get<{ id: number | null }>('SELECT MAX(id) AS id FROM journal'))?.id ?? 0;
    if (cp && (cp.nextSeq !== outbox.nextSeq() || cp.journalId !== head)) {
      await db.close();
      io.err('outpost replay --publish: the agent did not stop cleanly last time; start it once (it recovers) and stop it, then replay');
      return 1;
    }
    const now = Date.now();
    const first = outbox.reserve(outputs.length);
    const rows = outputs.map((o, i) => ({
      seq: first + i,
      kind: o.kind,
      sensor: o.sensor,
      payload: wrapBody(cfg.device.id, first + i, `${renderBody(cfg.device.id, o)},"replayed":true`),
      createdAt: now,
      sketch: o.kind === 'summary' && o.sketch ? JSON.stringify(saveSketch(o.sketch)) : null,
    }));
    await db.transaction(async (tx) => {
      await outbox.appendTx(tx, rows, outbox.nextSeq());
      if (cp) await tx.run('UPDATE checkpoint SET next_seq = ? WHERE id = 1', [outbox.nextSeq()]);
    });
    outbox.settle(true);
  }
  await db.close();
  io.err(`replayed ${readings} readings: ${outputs.filter((o) => o.kind === 'summary').length} summaries, ${outputs.filter((o) => o.kind === 'anomaly').length} anomalies${a.publish ? ' queued in the outbox' : ''}`);
  return 0;
}

async function agentAnswers(http: { enabled: boolean; host: string; port: number }): Promise<boolean> {
  if (!http.enabled) return false;
  try {
    await fetch(agentUrl(http, '/healthz'), { signal: AbortSignal.timeout(1000) });
    return true;
  } catch {
    return false;
  }
}
