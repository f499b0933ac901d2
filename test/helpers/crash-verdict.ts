// The verdict of a crash test (SIGKILL or power cut): what reached the fleet broker against
// what the sensors sent. Every reading the sensor got a PUBACK for must be in the summaries,
// with zero allowance. A reading sent but not acknowledged when its agent died may or may not
// be in (committed, its PUBACK lost with the process), and then only as an arrival-order prefix
// of that instance's unacknowledged readings of the sensor (the journal commits in order, and
// each sensor is published by one connection). No window or anomaly emitted twice, no id with
// two contents, ids contiguous, no partial summary.
import { expect } from 'vitest';
import type { Received } from './fleet.js';
import { seqOf } from './fleet.js';
import { emptyMoments, addValue, stddev } from '../../src/stream/moments.js';

export interface Sent {
  sensor: string;
  /** Event time, epoch ms (a tumbling window of windowMs is floor(ts / windowMs)). */
  ts: number;
  value: number;
  /** Publish order over the whole test. */
  order: number;
  /** Which agent process received it. */
  instance: number;
  ackedAt?: number;
}

export interface Verdict {
  summaries: number;
  anomalies: number;
  /** Windows whose every reading was acknowledged, matched exactly. */
  exact: number;
  /** Windows with unacknowledged readings at a kill, matched to one allowed set. */
  withRisk: number;
  acked: number;
  unacked: number;
  /** Unacknowledged readings that were committed and summarized. */
  unackedKept: number;
  duplicates: number;
}

export function crashVerdict(received: readonly Received[], sent: readonly Sent[], killed: ReadonlySet<number>, windowMs: number): Verdict {
  const byId = new Map<string, string>();
  let deliveries = 0;
  for (const m of received.filter((r) => /\/(summary|anomaly)\//.test(r.topic))) {
    deliveries++;
    const id = String(m.json!.id);
    const prev = byId.get(id);
    if (prev !== undefined) expect(m.payload, `id ${id} delivered twice with different content`).toBe(prev);
    byId.set(id, m.payload);
  }
  const seqs = [...byId.keys()].map(seqOf).sort((a, b) => a - b);
  // A new database's ids start at the clock's seed (store/seq-seed.ts), not at 1.
  expect(seqs[0], 'ids start at a seed past 1').toBeGreaterThan(1);
  expect(seqs, 'ids upstream are contiguous').toEqual(Array.from({ length: seqs.length }, (_, i) => seqs[0]! + i));
  const messages = [...byId.values()].map((p) => JSON.parse(p) as Record<string, unknown>);
  const summaries = messages.filter((m) => m.window !== undefined) as Array<Record<string, unknown> & { window: { start: string } }>;
  const anomalies = messages.filter((m) => m.detector !== undefined);
  expect(summaries.filter((s) => s.partial), 'partial summaries').toEqual([]);
  const windowKey = (sensor: unknown, start: number) => `${String(sensor)}@${start}`;
  const upstream = new Map<string, Record<string, unknown>>();
  for (const s of summaries) {
    const key = windowKey(s.sensor, Date.parse(s.window.start));
    expect(upstream.has(key), `window ${key} summarized twice`).toBe(false);
    upstream.set(key, s);
  }
  const anomalyKeys = anomalies.map((a) => `${String(a.sensor)}@${String(a.ts)}`);
  expect(new Set(anomalyKeys).size, 'anomalies emitted twice').toBe(anomalyKeys.length);

  const atRisk = (s: Sent) => s.ackedAt === undefined && killed.has(s.instance);
  const windows = new Map<string, { safe: Sent[]; risky: Sent[] }>();
  for (const s of sent) {
    if (s.ackedAt === undefined && !atRisk(s)) continue;
    const key = windowKey(s.sensor, Math.floor(s.ts / windowMs) * windowMs);
    const w = windows.get(key) ?? { safe: [], risky: [] };
    (atRisk(s) ? w.risky : w.safe).push(s);
    windows.set(key, w);
  }
  const describe = (readings: Sent[]) => {
    const m = emptyMoments();
    for (const r of [...readings].sort((a, b) => a.order - b.order)) addValue(m, r.ts, r.value);
    return { count: m.count, min: m.min, max: m.max, mean: m.mean, stddev: stddev(m), first: m.first, last: m.last };
  };
  const close = (a: number, b: unknown) => b === undefined || Math.abs(a - Number(b)) <= 1e-9 * Math.max(1, Math.abs(a));
  let exact = 0;
  let withRisk = 0;
  let summarized = 0;
  for (const [key, w] of windows) {
    const got = upstream.get(key);
    if (w.safe.length === 0 && !got) continue; // only unacknowledged readings, all lost: allowed
    expect(got, `window ${key} with ${w.safe.length} acknowledged readings is missing upstream`).toBeDefined();
    const risky = [...w.risky].sort((a, b) => a.order - b.order);
    const perInstance = [...new Set(risky.map((r) => r.instance))].map((i) => risky.filter((r) => r.instance === i));
    let sets: Sent[][] = [w.safe];
    for (const group of perInstance) sets = sets.flatMap((base) => Array.from({ length: group.length + 1 }, (_, j) => [...base, ...group.slice(0, j)]));
    const match = sets.map(describe).find((c) => c.count === got!.count && close(c.min, got!.min) && close(c.max, got!.max) && close(c.first, got!.first) && close(c.last, got!.last) && close(c.mean, got!.mean) && close(c.stddev, got!.stddev));
    expect(match, `window ${key}: upstream ${JSON.stringify(got)} matches no allowed reading set (acknowledged ${w.safe.length}, at risk ${risky.length})`).toBeDefined();
    expect(got!.late).toBe(0);
    summarized += Number(got!.count);
    if (risky.length === 0) exact++;
    else withRisk++;
    upstream.delete(key);
  }
  expect([...upstream.keys()], 'summaries upstream for windows that had no acknowledged readings').toEqual([]);
  const acked = sent.filter((s) => s.ackedAt !== undefined).length;
  return { summaries: summaries.length, anomalies: anomalies.length, exact, withRisk, acked, unacked: sent.filter(atRisk).length, unackedKept: summarized - acked, duplicates: deliveries - byId.size };
}
