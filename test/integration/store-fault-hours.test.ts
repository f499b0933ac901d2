// A store that cannot commit for six hours (injected clock, real SQLite underneath, every write
// refused as on a full disk), while a sensor keeps reading at 10 Hz and windows close every
// second: what is held stays bounded (a handful of coalesced batches, the message and journal
// limits), delivered messages leave it, and when the disk is back the held work is committed
// in bounded pieces (no transaction larger than one piece) with contiguous ids and nothing
// thrown. Before: one held batch per commit attempt (21,600 here), an UPDATE per batch at
// recovery, and one transaction of everything that could outgrow the page ceiling for good.
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { tempDir } from '../helpers/agent-config.js';
import { diskFault } from '../helpers/disk-fault.js';
import { openStore } from '../../src/store/open-store.js';
import { openOutbox } from '../../src/store/outbox.js';
import { createGroupCommit } from '../../src/store/group-commit.js';
import { PIECE_BYTES } from '../../src/store/held-batches.js';
import { waitFor } from '../helpers/wait.js';
import { createLogger, silentLogger } from '../../src/ops/logger.js';
import type { Database } from '../../src/store/sqlite.js';
import { upstreamEncoder } from '../../src/wire/render.js';

const HOURS = 6;
const STEP_MS = 100; // a reading every 100 ms
const RETRY_STEPS = 10; // a commit attempt a second, as the group commit retries while failing

describe('a six-hour store fault', () => {
  it('stays bounded while failing, then commits the held work in bounded pieces', async () => {
    const fault = diskFault('read-only'); // injected: every write refused
    const real = await openStore(join(tempDir(), 'outpost.db'));
    // Measure each transaction's size as it commits.
    const pieces: number[] = [];
    const wrapped = fault.wrap(real);
    const db: Database = {
      ...wrapped,
      transaction: (fn) =>
        wrapped.transaction(async (tx) => {
          let bytes = 0;
          const counting = { ...tx, runPrepared: (sql: string, p: readonly unknown[]) => ((bytes += JSON.stringify(p).length), tx.runPrepared(sql, p)), run: (sql: string, p?: readonly unknown[]) => ((bytes += JSON.stringify(p ?? []).length), tx.run(sql, p)) };
          const out = await fn(counting);
          pieces.push(bytes);
          return out;
        }),
    };
    const outbox = await openOutbox(db);
    let now = Date.parse('2026-11-29T00:00:00Z');
    const writer = createGroupCommit({
      db,
      outbox,
      device: 'hours-01', encode: upstreamEncoder('hours-01'),
      commitIntervalMs: 60_000, // driven by hand below
      commitReadings: 1_000_000,
      journal: true,
      snapshot: () => ({ specs: '[]', state: '{}' }),
      clock: () => now,
      log: silentLogger(),
      onQueued: () => undefined,
    });
    const first = outbox.nextSeq();
    fault.start();
    let sent = 0;
    let maxBatches = 0;
    let maxHeld = 0;
    const steps = (HOURS * 3_600_000) / STEP_MS;
    for (let i = 0; i < steps; i++) {
      now += STEP_MS;
      writer.reading('s/1', now, i, now, false);
      if (i % 10 === 0) writer.write({ kind: 'summary', sensor: 's/1', start: now - 1000, end: now, count: 10, values: { count: 10, mean: i }, late: 0, partial: false }, now);
      if (i % 50 === 0) writer.requestCheckpoint();
      if (i % RETRY_STEPS === 0) await writer.flush();
      // The uplink sends what it can live, now and then (a flaky link): those leave the held data.
      if (i % 18_000 === 0) {
        for (const r of writer.unwritten('summary', 0, 200)) {
          writer.delivered(r.seq);
          sent++;
        }
      }
      const h = writer.health();
      maxHeld = Math.max(maxHeld, h.heldMessages);
      maxBatches = Math.max(maxBatches, h.heldBatches);
    }
    expect(writer.writable()).toBe(false);
    expect(maxHeld).toBeLessThanOrEqual(10_000); // the message limit
    expect(maxBatches).toBeLessThan(20); // coalesced, not one per attempt
    const shed = writer.health().shed;
    expect(shed.summaries).toBeGreaterThan(0); // six hours of summaries do not fit: the oldest went
    expect(shed.journalReadings).toBeGreaterThan(0);

    fault.end();
    pieces.length = 0;
    await writer.flush();
    for (let i = 0; i < 100 && writer.waiting() > 0; i++) await writer.flush();
    expect(writer.writable()).toBe(true);
    expect(writer.waiting()).toBe(0);
    expect(pieces.length).toBeGreaterThan(1); // more than one piece: held work was split
    expect(Math.max(...pieces)).toBeLessThan(3 * PIECE_BYTES);
    const rows = await real.all<{ seq: number }>('SELECT seq FROM outbox ORDER BY seq');
    const next = (await real.get<{ value: number }>("SELECT value FROM meta WHERE key = 'next_seq'"))!.value;
    // Every id reserved is either in the outbox, sent live, or shed (counted); none reused, the counter past them all.
    expect(new Set(rows.map((r) => r.seq)).size).toBe(rows.length);
    expect(rows.length + sent + shed.summaries).toBe(next - first);
    console.log(`six-hour fault: ${steps / RETRY_STEPS} commit attempts, at most ${maxHeld} messages in ${maxBatches} batches held, ${sent} sent live, shed ${JSON.stringify(shed)}; recovery in ${pieces.length} pieces, largest ${Math.max(...pieces)} bytes`);
    await real.close();
  }, 120_000);
});

describe('a stop while the store cannot commit', () => {
  it('says what it could not keep, keeps the seq counter if it can, and never reuses an id', async () => {
    const path = join(tempDir(), 'outpost.db');
    const real = await openStore(path);
    const lines: Array<Record<string, unknown>> = [];
    const log = createLogger('info', { write: (l: string) => void lines.push(JSON.parse(l) as Record<string, unknown>) });
    const outbox = await openOutbox(real);
    const now = Date.parse('2026-11-29T00:00:00Z');
    // Every write but the one-row counter update fails: a disk with room for nothing larger.
    const db: Database = {
      ...real,
      transaction: () => Promise.reject(Object.assign(new Error('SQLITE_FULL: database or disk is full'), { code: 'SQLITE_FULL' })),
    };
    const writer = createGroupCommit({ db, outbox, device: 'stop-01', encode: upstreamEncoder('stop-01'), commitIntervalMs: 60_000, commitReadings: 1_000_000, journal: true, snapshot: () => ({ specs: '[]', state: '{}' }), clock: () => now, log, onQueued: () => undefined });
    const first = outbox.nextSeq();
    for (let i = 0; i < 50; i++) {
      writer.reading('s/1', now + i, i, now + i, false);
      writer.write({ kind: 'summary', sensor: 's/1', start: now + i, end: now + i + 1, count: 1, values: { count: 1 }, late: 0, partial: false }, now);
    }
    await writer.flush();
    expect(writer.writable()).toBe(false);
    await writer.close();
    const said = lines.find((l) => /stopping while the store cannot commit/.test(String(l.msg)));
    expect(said).toMatchObject({ readings: 50, summaries: 50, counterKept: true, ids: `stop-01:${first}..${first + 49}` });
    // The next start hands out ids after those (they may have gone upstream live).
    const again = await openOutbox(real);
    expect(again.nextSeq()).toBe(first + 50);
    await real.close();
  });
});

describe('held work larger than one piece', () => {
  it('is all committed once the store is back, checkpoint and acknowledgements included, and close() returns', async () => {
    const db = await openStore(join(tempDir(), 'outpost.db'));
    const outbox = await openOutbox(db);
    let fail = true;
    const now = Date.parse('2026-11-29T00:00:00Z');
    const writer = createGroupCommit({
      db, outbox, device: 'piece-01', encode: upstreamEncoder('piece-01'), commitIntervalMs: 100, commitReadings: 1_000_000, journal: true,
      snapshot: () => ({ specs: '[]', state: '{}' }), clock: () => now, log: silentLogger(), onQueued: () => undefined,
      hooks: { beforeCommit: async () => { if (fail) throw Object.assign(new Error('SQLITE_FULL: database or disk is full'), { code: 'SQLITE_FULL' }); }, afterFull: async () => false },
    });
    for (let i = 0; i < 40_000; i++) writer.reading('s/1', now + i, i, now + i, false); // one cut over a piece (1 MB)
    await writer.flush();
    expect(writer.writable()).toBe(false);
    writer.requestCheckpoint();
    let acked = false;
    fail = false;
    writer.reading('s/1', now + 50_000, 1, now + 50_000, false);
    void writer.durable().then(() => (acked = true));
    await waitFor('held work committed', () => writer.health().heldBatches === 0 && writer.waiting() === 0 && writer.writable(), 5_000);
    await waitFor('the acknowledgement', () => acked, 5_000);
    expect(writer.checkpointedJournalId()).toBeGreaterThan(0);
    const t0 = Date.now();
    await writer.close();
    expect(Date.now() - t0).toBeLessThan(2_000);
    const journaled = await db.get<{ n: number }>('SELECT SUM(count) AS n FROM journal');
    expect(journaled!.n).toBeGreaterThanOrEqual(40_001); // plus the close's tick-free checkpoint
    await db.close();
  });
});
