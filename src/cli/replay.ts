// `outpost replay --config FILE [--from T] [--to T] [--sensor GLOB] [--publish]`: re-runs the
// journaled readings through the config's pipelines, e.g. to backfill after a config change.
// Prints the summaries and anomalies as JSON lines; with --publish, queues them in the outbox
// (marked "replayed": true) for the agent to send when it next runs.
import { appendReplayed, readingStore, stoppedStore } from '../store/cli-store.js';
import type { Database } from '../store/sqlite.js';
import type { StreamOutput } from '../stream/stream.js';
import { rerunJournal } from '../agent/backfill.js';
import { compileGlob } from '../stream/glob.js';
import { renderBody, upstreamEncoder } from '../wire/render.js';
import type { Io } from './io.js';
import { journalCommand, type JournalArgs } from './journal-command.js';
import { agentUrl } from './agent-url.js';

export interface ReplayArgs extends JournalArgs {
  sensor?: string;
  publish?: boolean;
}

export async function replay(a: ReplayArgs, io: Io): Promise<number> {
  const opened = journalCommand(a, io, 'replay');
  if (typeof opened === 'number') return opened;
  const { cfg, from, to } = opened;
  if (a.publish && (await agentAnswers(cfg.http))) {
    io.err('outpost replay --publish: the agent is running; stop it first (it owns the outbox seq counter)');
    return 1;
  }
  const matches = a.sensor ? compileGlob(a.sensor) : () => true;
  const rerun = (db: Database) => rerunJournal(db, cfg.pipelines, { from, to, matches }, cfg.derived);
  const said = (readings: number, outputs: StreamOutput[]) =>
    io.err(`replayed ${readings} readings: ${outputs.filter((o) => o.kind === 'summary').length} summaries, ${outputs.filter((o) => o.kind === 'anomaly').length} anomalies${a.publish ? ' queued in the outbox' : ''}`);

  if (!a.publish) {
    // Only reads: fine while the agent runs.
    const { outputs, readings } = await readingStore(cfg.storage.path, rerun);
    for (const o of outputs) io.out(`{${renderBody(cfg.device.id, o)}}`);
    said(readings, outputs);
    return 0;
  }
  // Writes: only while no agent runs, under its lock (a running one is refused with a clear message).
  let result: { outputs: StreamOutput[]; readings: number; clean: boolean };
  try {
    result = await stoppedStore(cfg.storage.path, async (db) => {
      const { outputs, readings } = await rerun(db);
      const now = Date.now();
      const encode = upstreamEncoder(cfg.device.id, { replayed: true });
      const clean = await appendReplayed(db, outputs.length, (first) =>
        outputs.map((o, i) => ({ seq: first + i, kind: o.kind, sensor: o.sensor, createdAt: now, ...encode(first + i, o) })),
      );
      return { outputs, readings, clean };
    });
  } catch (err) {
    io.err(`outpost replay --publish: ${(err as Error).message}`);
    return 1;
  }
  if (!result.clean) {
    io.err('outpost replay --publish: the agent did not stop cleanly last time; start it once (it recovers) and stop it, then replay');
    return 1;
  }
  said(result.readings, result.outputs);
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
