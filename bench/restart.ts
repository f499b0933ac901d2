// Restart time: a database holding a checkpoint with 10,000 open windows and 1,000,000 journal
// rows after it; measures `agent.start()` (open, migrate, load checkpoint, replay, first
// checkpoint) until the agent serves.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../src/store/open-store.js';
import { appendJournalTx } from '../src/store/journal.js';
import { createJournalBatch } from '../src/store/journal-codec.js';
import { saveCheckpointTx } from '../src/store/checkpoint.js';
import { createStream, type PipelineSpec, type StreamOutput } from '../src/stream/stream.js';
import { parseConfigText } from '../src/config/load.js';
import { createAgent } from '../src/agent/agent.js';
import { silentLogger } from '../src/ops/logger.js';

export interface RestartResult {
  openWindows: number;
  journalRows: number;
  readyMs: number;
  replayed: number;
}

export async function benchRestart({ sensors = 10_000, journalRows = 1_000_000 } = {}): Promise<RestartResult> {
  const dir = mkdtempSync(join(tmpdir(), 'outpost-restart-'));
  const loaded = parseConfigText(`
device: { id: restart }
broker: { enabled: false }
sources: [ { type: mqtt, url: "mqtt://127.0.0.1:1", topic: "sensors/#" } ]
pipelines: [ { match: ["**"], window: { type: tumbling, size: 1h }, detectors: [ { type: zscore, threshold: 6 } ] } ]
uplink: { url: "mqtt://127.0.0.1:1" }
storage: { path: ./restart.db, checkpointInterval: 1h }
http: { enabled: false }
limits: { maxSensors: ${sensors} }
`, { dir });
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
  const specs: PipelineSpec[] = loaded.config.pipelines;

  // A checkpoint with one open window per sensor (an hour-long window that stays open).
  const t0 = Math.floor(Date.now() / 3_600_000) * 3_600_000;
  const stream = createStream(specs);
  const out: StreamOutput[] = [];
  for (let i = 0; i < sensors; i++) stream.ingest({ sensor: `s/${i}`, ts: t0 + 1, value: i % 10, receivedAt: t0 + 1 }, out);
  const db = await openStore(loaded.config.storage.path);
  await db.transaction(async (tx) => {
    await saveCheckpointTx(tx, { journalId: 0, nextSeq: 1, specs: JSON.stringify(specs), state: JSON.stringify(stream.save()), createdAt: Date.now() });
    // as the agent writes them: one batch per group commit of 500 readings
    const batch = createJournalBatch();
    for (let i = 0; i < journalRows; i++) {
      const ts = t0 + 2 + Math.floor(i / sensors);
      batch.reading(`s/${i % sensors}`, ts, (i % 97) / 10, ts, false);
      if (batch.count === 500 || i === journalRows - 1) {
        const { count, firstReceived, lastReceived } = batch;
        await appendJournalTx(tx, batch.take(), count, firstReceived, lastReceived);
      }
    }
  });
  await db.close();

  const agent = createAgent({ config: loaded.config, log: silentLogger() });
  const startedAt = process.hrtime.bigint();
  await agent.start();
  const readyMs = Number(process.hrtime.bigint() - startedAt) / 1e6;
  const h = await agent.health();
  await agent.stop();
  return { openWindows: h.ingest.openWindows, journalRows, readyMs: Math.round(readyMs), replayed: journalRows };
}
