// A commit in flight, deterministically (found by tracing a rare test failure under load):
// - the messages of the piece out for a commit are still counted as waiting, so "nothing
//   waiting, nothing in the backlog" is never said while they are neither held nor committed
//   (a test, or an operator, would think everything was sent);
// - while a piece is out, the uplink is lent nothing from memory: it would read past the
//   piece's seqs, and once the piece commits they would sit in the outbox behind its cursor.
import { expect, it } from 'vitest';
import { join } from 'node:path';
import { tempDir } from '../helpers/agent-config.js';
import { diskFault } from '../helpers/disk-fault.js';
import { openStore } from '../../src/store/open-store.js';
import { openOutbox } from '../../src/store/outbox.js';
import { createGroupCommit } from '../../src/store/group-commit.js';
import { createDrainLanes } from '../../src/outputs/uplink/drain-lanes.js';
import { silentLogger } from '../../src/ops/logger.js';
import { upstreamEncoder } from '../../src/wire/render.js';
import type { Database } from '../../src/store/sqlite.js';

it('a summary in a commit in flight still counts as waiting until it is in the backlog', async () => {
  const real = await openStore(join(tempDir(), 'outpost.db'));
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let slow = false; // a slow commit (fsync on a loaded machine)
  const db: Database = { ...real, transaction: async (fn) => { if (slow) await gate; return real.transaction(fn); } };
  const outbox = await openOutbox(db);
  const now = Date.now();
  const writer = createGroupCommit({ db, outbox, device: 'd', encode: upstreamEncoder('d'), commitIntervalMs: 60_000, commitReadings: 1_000_000, journal: true, snapshot: () => undefined, clock: () => now, log: silentLogger(), onQueued: () => undefined });
  writer.write({ kind: 'summary', sensor: 's/1', start: now - 200, end: now, count: 10, values: { count: 10 }, late: 0, partial: false }, now);
  expect(writer.waiting()).toBe(1);
  slow = true;
  const flushing = writer.flush();
  await new Promise((r) => setTimeout(r, 20));
  const stats = await outbox.stats();
  const seen = { waiting: writer.waiting(), healthWaiting: writer.health().waiting, backlogRows: stats.rows };
  release();
  await flushing;
  const after = { waiting: writer.waiting(), backlogRows: (await outbox.stats()).rows };
  expect(seen).toEqual({ waiting: 1, healthWaiting: 1, backlogRows: 0 });
  expect(after.waiting).toBe(0);
  expect(after.backlogRows).toBe(1);
  await real.close();
});

it('after a store fault, every held row is drained, the piece being committed included', async () => {
  const fault = diskFault('read-only');
  const real = await openStore(join(tempDir(), 'outpost.db'));
  const wrapped = fault.wrap(real);
  let gate: Promise<void> | undefined;
  let release!: () => void;
  const db: Database = { ...wrapped, transaction: async (fn) => { if (gate) await gate; return wrapped.transaction(fn); } };
  const outbox = await openOutbox(db);
  const now = Date.now();
  const enc = upstreamEncoder('p');
  const pad = 'x'.repeat(2000);
  const writer = createGroupCommit({ db, outbox, device: 'p', encode: (seq, o) => { const r = enc(seq, o); return { ...r, payload: r.payload.replace('"device":"p"', `"device":"p","pad":"${pad}"`) }; }, commitIntervalMs: 60_000, commitReadings: 1_000_000, journal: false, snapshot: () => undefined, clock: () => now, log: silentLogger(), onQueued: () => undefined });
  const first = outbox.nextSeq();
  fault.start();
  for (let b = 0; b < 4; b++) {
    for (let i = 0; i < 300; i++) writer.write({ kind: 'summary', sensor: `s/${i % 5}`, start: now + i, end: now + i + 1, count: 1, values: { count: 1 }, late: 0, partial: false }, now);
    await writer.flush();
  }
  expect(writer.writable()).toBe(false);
  expect(writer.health().heldMessages).toBe(1200);
  const lanes = createDrainLanes({ outbox, memory: writer, readRows: 256, log: silentLogger(), onRead: () => undefined });
  fault.end();
  gate = new Promise<void>((r) => (release = r));
  const committing = writer.flush(); // piece 1 out for its commit, the commit held at the gate
  await new Promise((r) => setTimeout(r, 10));
  const got: number[] = [];
  const firstRow = await lanes.next(() => true, () => false); // the uplink reads now: memory lane still lent
  if (firstRow) got.push(firstRow.seq);
  gate = undefined;
  release();
  await committing;
  for (let i = 0; i < 20 && (writer.health().heldBatches > 0 || writer.waiting() > 0); i++) await writer.flush();
  expect(writer.writable()).toBe(true);
  lanes.wake(false);
  for (;;) {
    const r = await lanes.next(() => true, () => false);
    if (!r) break;
    got.push(r.seq);
  }
  const inOutbox = (await outbox.stats()).rows;
  const never = [];
  for (let s = first; s < first + 1200; s++) if (!got.includes(s)) never.push(s);
  expect(inOutbox).toBe(1200); // nothing was acknowledged: every row committed, and every one read
  expect(never).toEqual([]);
  await real.close();
});
