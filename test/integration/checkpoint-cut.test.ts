// A checkpoint must never be cut between a reading's state change and the outputs it caused:
// recovery loads the checkpoint and replays the journal after it, so outputs of a reading the
// checkpoint already covers are never re-created. A size-triggered commit (commitReadings) used
// to cut inside writer.reading(), called before the reading's outputs were emitted: a window's
// summary went into the next commit, and a crash before that commit lost it for good.
// Real SQLite file, the agent's own ingest, writer and recovery; the "crash" is closing the
// database with the next commit never run.
import { afterAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { tempDir } from '../helpers/agent-config.js';
import { waitFor } from '../helpers/wait.js';
import { openStore } from '../../src/store/open-store.js';
import { openOutbox } from '../../src/store/outbox.js';
import { createGroupCommit } from '../../src/store/group-commit.js';
import type { GroupCommit } from '../../src/store/group-commit-types.js';
import { recoverStream } from '../../src/agent/recovery.js';
import { createIngest } from '../../src/agent/ingest.js';
import { createAdmission } from '../../src/stream/admission.js';
import type { PipelineSpec, Stream } from '../../src/stream/stream.js';
import { createStats } from '../../src/ops/stats.js';
import { silentLogger } from '../../src/ops/logger.js';
import type { Database } from '../../src/store/sqlite.js';
import { upstreamEncoder } from '../../src/wire/render.js';

const SPECS: PipelineSpec[] = [{ match: ['**'], window: { size: 1_000, lateness: 0 }, aggregates: ['count', 'mean'], detectors: [] }];
const T0 = Date.parse('2026-11-29T12:00:00Z');
const open: Database[] = [];
afterAll(async () => {
  for (const db of open) await db.close().catch(() => undefined);
});

async function agentParts(path: string, commitReadings: number) {
  const db = await openStore(path);
  open.push(db);
  const outbox = await openOutbox(db);
  const built: { stream?: Stream } = {};
  const writer: GroupCommit = createGroupCommit({
    db,
    outbox,
    device: 'cut-01', encode: upstreamEncoder('cut-01'),
    commitIntervalMs: 60_000, // only size-triggered and explicit commits in this test
    commitReadings,
    journal: true,
    snapshot: () => (built.stream ? { specs: JSON.stringify(SPECS), state: JSON.stringify(built.stream.save()) } : undefined),
    clock: () => T0,
    log: silentLogger(),
    onQueued: () => undefined,
  });
  const recovered = await recoverStream({ db, outbox, writer, pipelines: SPECS, journal: true, idleTtlMs: 0, clock: () => T0, log: silentLogger() });
  const stream = (built.stream = recovered.stream);
  const ingest = createIngest({
    admission: createAdmission({ maxSensorIdLength: 200, maxSensors: 100, maxFutureSkew: 60_000, floor: 0 }),
    stream,
    writer,
    stats: createStats(T0),
    clock: () => T0 + 10_000,
    log: silentLogger(),
    maxLatest: 10,
    trusted: () => true,
    mono: () => 0,
    holdReadings: 10,
  });
  return { db, outbox, writer, ingest, recovered };
}

const summaries = (db: Database) => db.all<{ seq: number; payload: string }>("SELECT seq, payload FROM outbox WHERE kind = 'summary' ORDER BY seq");

describe('checkpoint cuts', () => {
  it('a size-triggered commit with a checkpoint never separates a reading from its outputs', async () => {
    const path = join(tempDir(), 'outpost.db');
    const a = await agentParts(path, 2);
    const sink = a.ingest.sinkFor('test');
    a.writer.requestCheckpoint();
    sink.reading({ sensor: 's/1', ts: T0 + 100, value: 1, receivedAt: T0 + 100 });
    // The second reading fills commitReadings and closes the window [T0, T0+1000).
    sink.reading({ sensor: 's/1', ts: T0 + 1_500, value: 2, receivedAt: T0 + 1_500 });
    // The size-triggered commit, and nothing after it (the timer is a minute away).
    await waitFor('the size-triggered commit with its checkpoint', () => a.writer.checkpointedJournalId() > 0, 5_000);
    // Crash: the process dies here; nothing else is committed.
    await a.db.close();

    const b = await agentParts(path, 2);
    await b.writer.flush();
    const rows = await summaries(b.db);
    expect(rows.map((r) => JSON.parse(r.payload) as Record<string, unknown>)).toMatchObject([{ sensor: 's/1', count: 1, mean: 1, window: { start: new Date(T0).toISOString() } }]);
    expect(rows).toHaveLength(1);
  });
});
