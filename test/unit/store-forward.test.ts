// The pure pieces of store-and-forward: merging stored summary messages exactly, the bounds on
// what is held in memory while the store cannot commit, the uplink's rate limit, password
// hashes, subscription ACLs, and how store errors are told apart.
import { describe, expect, it } from 'vitest';
import { canMerge, mergeStored, parseStoredSummary } from '../../src/wire/merge-stored.js';
import { renderBody, wrapBody } from '../../src/wire/render.js';
import { addValue, emptyMoments, stddev } from '../../src/stream/moments.js';
import { addToSketch, emptySketch, saveSketch, quantile } from '../../src/stream/quantile-sketch.js';
import type { Summary } from '../../src/stream/stream.js';
import { createHeldBatches, type Batch } from '../../src/store/held-batches.js';
import { createTokenBucket } from '../../src/outputs/uplink/token-bucket.js';
import { createPasswordChecker, hashPassword, isPasswordHash } from '../../src/ops/password-hash.js';
import { filterCovers } from '../../src/broker/topic-acl.js';
import { classifyStoreError } from '../../src/store/store-errors.js';
import { seededRandom } from '../../src/sources/simulated/signal.js';

function stored(seq: number, sensor: string, start: number, values: number[]) {
  const m = emptyMoments();
  const sketch = emptySketch();
  values.forEach((v, i) => {
    addValue(m, start + i, v);
    addToSketch(sketch, v);
  });
  const s: Summary = {
    kind: 'summary',
    sensor,
    start,
    end: start + 1000,
    count: m.count,
    values: { count: m.count, min: m.min, max: m.max, mean: m.mean, stddev: stddev(m), first: m.first, last: m.last, p90: quantile(sketch, 0.9) },
    late: 0,
    partial: false,
    sketch,
  };
  return { seq, payload: wrapBody('d1', seq, renderBody('d1', s)), sketch: JSON.stringify(saveSketch(sketch)) };
}

describe('merging stored summaries', () => {
  it('gives exactly the summary of both windows\' readings, under the earlier id', () => {
    const random = seededRandom(7);
    const a = Array.from({ length: 37 }, () => random() * 100 - 20);
    const b = Array.from({ length: 23 }, () => random() * 100 - 20);
    const pa = parseStoredSummary(stored(10, 's/1', 0, a))!;
    const pb = parseStoredSummary(stored(14, 's/1', 1000, b))!;
    expect(canMerge(pa, pb)).toBe(true);
    const m = mergeStored('d1', 10, pa, pb);
    const json = JSON.parse(m.payload) as Record<string, unknown>;
    const whole = parseStoredSummary(stored(10, 's/1', 0, [...a, ...b]))!.summary.values;
    expect(json).toMatchObject({ v: 1, id: 'd1:10', sensor: 's/1', count: 60, merged: 2, window: { start: new Date(0).toISOString(), end: new Date(2000).toISOString() } });
    expect(json.min).toBe(whole.min);
    expect(json.max).toBe(whole.max);
    expect(json.first).toBe(a[0]);
    expect(json.last).toBe(b[b.length - 1]);
    expect(json.mean as number).toBeCloseTo(whole.mean!, 10);
    expect(json.stddev as number).toBeCloseTo(whole.stddev!, 10);
    expect(json.p90).toBe(whole.p90); // sketches merge exactly
    // and again: a merged message merges on, counting the windows it covers
    const pc = parseStoredSummary(stored(20, 's/1', 2000, [5]))!;
    const again = JSON.parse(mergeStored('d1', 10, parseStoredSummary({ seq: 10, ...m })!, pc).payload) as Record<string, unknown>;
    expect(again).toMatchObject({ count: 61, merged: 3 });
  });

  it('refuses pairs that overlap, differ in sensor or fields, or come out of order', () => {
    const a = parseStoredSummary(stored(1, 's/1', 0, [1, 2]))!;
    expect(canMerge(a, parseStoredSummary(stored(2, 's/2', 1000, [3]))!)).toBe(false);
    expect(canMerge(a, parseStoredSummary(stored(2, 's/1', 500, [3]))!)).toBe(false); // overlaps (hopping, or a partial then its rest)
    expect(canMerge(parseStoredSummary(stored(2, 's/1', 1000, [3]))!, a)).toBe(false);
    const noP90 = stored(3, 's/1', 1000, [3]);
    noP90.payload = noP90.payload.replace(/,"p90":[^,}]+/, '');
    expect(canMerge(a, parseStoredSummary(noP90)!)).toBe(false);
    expect(parseStoredSummary({ seq: 1, payload: '{not json', sketch: null })).toBeUndefined();
  });
});

describe('held batches (store not writable)', () => {
  const batch = (first: number, summaries: number, anomalies: number, readings: number): Batch => ({
    journal: readings ? [{ data: Buffer.alloc(readings * 29), count: readings, firstReceived: 0, lastReceived: 0 }] : [],
    rows: [
      ...Array.from({ length: anomalies }, (_, i) => ({ seq: first + i, kind: 'anomaly' as const, sensor: 's', payload: `{"a":${first + i}}`, createdAt: 0, sketch: null })),
      ...Array.from({ length: summaries }, (_, i) => ({ seq: first + anomalies + i, kind: 'summary' as const, sensor: 's', payload: `{"s":${first + anomalies + i}}`, createdAt: 0, sketch: null })),
    ],
    nextSeq: first + summaries + anomalies,
    rejections: [],
    checkpoint: undefined,
  });

  it('sheds the oldest journal first, then the oldest summaries, and keeps anomalies longest', () => {
    const held = createHeldBatches({ journalEntries: 150, messages: 10, rejections: 5 });
    held.hold([batch(1, 6, 1, 100)]);
    held.hold([...held.take(), batch(8, 6, 1, 100)]); // as the group commit retries: all held, then the new cut
    expect(held.shed).toEqual({ journalReadings: 100, summaries: 4, anomalies: 0, deadLetters: 0 });
    expect(held.batches).toHaveLength(1); // small batches coalesce
    expect(held.batches[0]!.journal.map((j) => j.count)).toEqual([100]); // the oldest journal went
    expect(held.batches[0]!.rows.map((r) => r.seq)).toEqual([1, 6, 7, 8, 9, 10, 11, 12, 13, 14]); // and the oldest summaries
    expect(held.batches[0]!.nextSeq).toBe(15);
    expect(held.takeJournalGap()).toBe(true);
    expect(held.takeJournalGap()).toBe(false);
    const kinds = held.batches.flatMap((b) => b.rows.map((r) => r.kind));
    expect(kinds.filter((k) => k === 'anomaly')).toHaveLength(2);
    expect(kinds).toHaveLength(10);
  });

  it('lends unsent messages to the uplink in seq order, per class, and skips delivered ones', () => {
    const held = createHeldBatches({ journalEntries: 1000, messages: 100, rejections: 5 });
    held.hold([batch(1, 3, 2, 0)]);
    expect(held.unwritten('anomaly', 0, 10).map((r) => r.seq)).toEqual([1, 2]);
    expect(held.unwritten('summary', 0, 10).map((r) => r.seq)).toEqual([3, 4, 5]);
    held.delivered(4); // it leaves its batch: nothing is kept per delivered message
    expect(held.unwritten('summary', 3, 10).map((r) => r.seq)).toEqual([5]);
    expect(held.batches[0]!.rows.map((r) => r.seq)).toEqual([1, 2, 3, 5]);
    // Delivered while its batch is out for a commit attempt: skipped by that commit, and
    // dropped when the batch comes back after a failure.
    const piece = held.takePiece(1 << 20);
    held.delivered(5);
    expect(held.isDelivered(5)).toBe(true);
    held.hold(piece);
    expect(held.isDelivered(5)).toBe(false);
    expect(held.batches[0]!.rows.map((r) => r.seq)).toEqual([1, 2, 3]);
  });
});

describe('token bucket (uplink.maxRate)', () => {
  it('allows a second\'s worth at once, then the rate; 0 is unlimited', () => {
    const b = createTokenBucket(10, 0);
    let n = 0;
    while (b.take(0)) n++;
    expect(n).toBe(10);
    expect(b.waitMs(0)).toBe(100);
    expect(b.take(100)).toBe(true);
    expect(b.take(100)).toBe(false);
    const free = createTokenBucket(0, 0);
    for (let i = 0; i < 1e4; i++) expect(free.take(0)).toBe(true);
  });
});

describe('password hashes', () => {
  it('verifies the right password only, and plain passwords still work', async () => {
    const hash = await hashPassword('pw');
    expect(isPasswordHash(hash)).toBe(true);
    expect(isPasswordHash(hash.slice(0, -4))).toBe(true); // still well-formed base64, just wrong
    expect(isPasswordHash('$scrypt$N=3,r=8,p=1$AA==$AA==')).toBe(false);
    const check = createPasswordChecker();
    expect(await check.verify('u', Buffer.from('pw'), hash)).toBe(true);
    expect(await check.verify('u', Buffer.from('pw'), hash)).toBe(true); // remembered
    expect(await check.verify('u', Buffer.from('px'), hash)).toBe(false);
    expect(await check.verify('u', Buffer.from('plain'), 'plain')).toBe(true);
    expect(await check.verify('u', Buffer.from('plainx'), 'plain')).toBe(false);
  });
});

describe('subscription ACLs', () => {
  it('lets a subscription through only inside the ACL filter', () => {
    expect(filterCovers('sensors/#', 'sensors/a/+')).toBe(true);
    expect(filterCovers('sensors/+/temp', 'sensors/a/temp')).toBe(true);
    expect(filterCovers('sensors/+/temp', 'sensors/+/temp')).toBe(true);
    expect(filterCovers('sensors/a/#', 'sensors/+/x')).toBe(false);
    expect(filterCovers('sensors/a', 'sensors/#')).toBe(false);
    expect(filterCovers('#', 'anything/#')).toBe(true);
  });
});

describe('store errors', () => {
  it('tells a full disk, a read-only file system, corruption and I/O errors apart', () => {
    expect(classifyStoreError(Object.assign(new Error('SQLITE_FULL: database or disk is full'), { code: 'SQLITE_FULL' }))).toBe('disk-full');
    expect(classifyStoreError(Object.assign(new Error('SQLITE_READONLY: attempt to write a readonly database'), { code: 'SQLITE_READONLY' }))).toBe('read-only');
    expect(classifyStoreError(new Error('SQLITE_CORRUPT: database disk image is malformed'))).toBe('corrupt');
    expect(classifyStoreError(new Error('SQLITE_IOERR: disk I/O error'))).toBe('io-error');
    expect(classifyStoreError(new Error('something else'))).toBe('other');
  });
});
