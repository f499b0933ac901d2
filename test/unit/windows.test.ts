import { describe, expect, it } from 'vitest';
import { createAlignedWindows } from '../../src/stream/aligned-windows.js';
import type { WindowResult } from '../../src/stream/windows.js';
import { createStream, type StreamOutput, type Summary } from '../../src/stream/stream.js';

const T0 = Date.parse('2026-11-22T10:00:00.000Z'); // a minute boundary
const reading = (sensor: string, tsOffset: number, value: number, receivedOffset = tsOffset) => ({
  sensor,
  ts: T0 + tsOffset,
  value,
  receivedAt: T0 + receivedOffset,
});

describe('tumbling windows', () => {
  it('aligns to the epoch and is half-open [start, end)', () => {
    const w = createAlignedWindows({ sizeMs: 60_000, latenessMs: 0 });
    const out: WindowResult[] = [];
    w.add(reading('s', 0, 1), out);
    w.add(reading('s', 59_999, 2), out);
    expect(out).toEqual([]);
    w.add(reading('s', 60_000, 3), out); // belongs to the next window and closes the first
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({ sensor: 's', start: T0, end: T0 + 60_000, late: 0, partial: false });
    expect(out[0]!.moments.count).toBe(2);
  });

  it('starts windows on the epoch grid whatever the first reading', () => {
    const w = createAlignedWindows({ sizeMs: 5_000, latenessMs: 0 });
    const out: WindowResult[] = [];
    w.add(reading('s', 7_321, 1), out);
    w.add(reading('s', 10_000, 1), out);
    expect(out[0]).toMatchObject({ start: T0 + 5_000, end: T0 + 10_000 });
  });

  it('keeps windows open for the allowed lateness and puts out-of-order readings in the right one', () => {
    const w = createAlignedWindows({ sizeMs: 10_000, latenessMs: 5_000 });
    const out: WindowResult[] = [];
    w.add(reading('s', 1_000, 1), out);
    w.add(reading('s', 12_000, 10), out); // watermark 7 s: window [0,10) still open
    w.add(reading('s', 9_000, 2), out); // out of order, within lateness
    expect(out).toEqual([]);
    w.add(reading('s', 15_000, 11), out); // watermark 10 s: closes [0,10)
    expect(out).toHaveLength(1);
    expect(out[0]!.moments).toMatchObject({ count: 2, min: 1, max: 2, first: 1, last: 2 });
  });

  it('counts readings for closed windows as late, reported in the next summary', () => {
    const w = createAlignedWindows({ sizeMs: 10_000, latenessMs: 0 });
    const out: WindowResult[] = [];
    w.add(reading('s', 1_000, 1), out);
    w.add(reading('s', 10_000, 2), out);
    expect(w.add(reading('s', 5_000, 99), out)).toBe(false);
    expect(w.add(reading('s', 6_000, 99), out)).toBe(false);
    w.add(reading('s', 20_000, 3), out);
    expect(out.map((r) => [r.start - T0, r.moments.count, r.late])).toEqual([
      [0, 1, 0],
      [10_000, 1, 2],
    ]);
    expect(out[1]!.moments.max).toBe(2); // the late 99s were not folded in
  });

  it('closes a quiet sensor\'s window by wall clock after end + lateness', () => {
    const w = createAlignedWindows({ sizeMs: 10_000, latenessMs: 2_000 });
    const out: WindowResult[] = [];
    w.add(reading('s', 3_000, 1), out);
    w.tick(T0 + 11_999, out);
    expect(out).toEqual([]);
    w.tick(T0 + 12_000, out);
    expect(out).toHaveLength(1);
    // and a straggler for it is late, not a second summary
    expect(w.add(reading('s', 4_000, 5, 12_500), out)).toBe(false);
  });

  it('advances a quiet sensor by elapsed wall time even when its clock is skewed', () => {
    const w = createAlignedWindows({ sizeMs: 10_000, latenessMs: 0 });
    const out: WindowResult[] = [];
    // the sensor stamps 1 h behind the agent's clock
    w.add(reading('s', 3_000, 1, 3_603_000), out);
    w.tick(T0 + 3_603_000 + 6_999, out);
    expect(out).toEqual([]);
    w.tick(T0 + 3_603_000 + 7_000, out);
    expect(out).toHaveLength(1);
  });

  it('flushes partial copies of open windows on shutdown, and keeps them open', () => {
    const w = createAlignedWindows({ sizeMs: 10_000, latenessMs: 0 });
    const out: WindowResult[] = [];
    w.add(reading('a', 1_000, 1), out);
    w.add(reading('b', 2_000, 1), out);
    expect(w.openWindows()).toBe(2);
    w.flush(out);
    expect(out.map((r) => [r.sensor, r.partial, r.moments.count])).toEqual([['a', true, 1], ['b', true, 1]]);
    expect(w.openWindows()).toBe(2);
    w.add(reading('a', 3_000, 5), out);
    w.add(reading('a', 10_000, 0), out);
    expect(out[2]).toMatchObject({ sensor: 'a', partial: false, moments: { count: 2, max: 5 } });
  });

  it('keeps sensors independent', () => {
    const w = createAlignedWindows({ sizeMs: 10_000, latenessMs: 0 });
    const out: WindowResult[] = [];
    w.add(reading('a', 1_000, 1), out);
    w.add(reading('b', 25_000, 1), out);
    expect(out).toEqual([]);
  });
});

describe('hopping windows', () => {
  it('puts each reading in size/step windows and closes each at its own end', () => {
    const w = createAlignedWindows({ sizeMs: 10_000, stepMs: 5_000, latenessMs: 0 });
    const out: WindowResult[] = [];
    for (let t = 0; t < 20_000; t += 1_000) w.add(reading('s', t, t / 1000), out);
    w.add(reading('s', 25_000, 99), out);
    // windows starting at -5 s, 0, 5, 10, 15 s have ended by 25 s; 20 s has not
    expect(out.map((r) => [(r.start - T0) / 1000, (r.end - T0) / 1000, r.moments.count, r.moments.min, r.moments.max])).toEqual([
      [-5, 5, 5, 0, 4],
      [0, 10, 10, 0, 9],
      [5, 15, 10, 5, 14],
      [10, 20, 10, 10, 19],
      [15, 25, 5, 15, 19],
    ]);
  });

  it('counts a reading late only when all its windows have closed', () => {
    const w = createAlignedWindows({ sizeMs: 10_000, stepMs: 5_000, latenessMs: 0 });
    const out: WindowResult[] = [];
    w.add(reading('s', 0, 1), out);
    w.add(reading('s', 12_000, 1), out); // closes windows ending at 5 s and 10 s
    expect(w.add(reading('s', 7_000, 2), out)).toBe(true); // [5 s, 15 s) is still open: it goes there
    expect(w.add(reading('s', 4_000, 3), out)).toBe(false); // [-5, 5) and [0, 10) both closed
    w.add(reading('s', 30_000, 1), out);
    const w5 = out.find((r) => r.start === T0 + 5_000)!;
    expect(w5.moments.count).toBe(2);
    expect(w5.late).toBe(1);
  });
});

describe('stream: routing, summaries, anomalies', () => {
  const stream = () =>
    createStream([
      {
        match: ['greenhouse/*'],
        window: { size: 10_000, lateness: 0 },
        aggregates: ['count', 'min', 'max', 'mean', 'stddev', 'first', 'last', 'sum'],
        detectors: [{ type: 'threshold', max: 45, severity: 'critical' }],
      },
      { match: ['**'], window: { size: 60_000, lateness: 0 }, aggregates: ['count', 'mean'], detectors: [] },
    ]);

  it('routes each sensor to the first matching pipeline', () => {
    const s = stream();
    const out: StreamOutput[] = [];
    s.ingest(reading('greenhouse/t', 0, 1), out);
    s.ingest(reading('greenhouse/t', 10_000, 1), out); // closes a 10 s window
    s.ingest(reading('barn/t', 0, 1), out);
    s.ingest(reading('barn/t', 10_000, 1), out); // a 60 s window stays open
    expect(out.map((o) => o.sensor)).toEqual(['greenhouse/t']);
  });

  it('reports unrouted sensors', () => {
    const s = createStream([{ match: ['a/*'], window: { size: 1000, lateness: 0 }, aggregates: ['count'], detectors: [] }]);
    expect(s.ingest(reading('b/x', 0, 1), [])).toBe('unrouted');
  });

  it('computes the configured aggregates exactly', () => {
    const s = stream();
    const out: StreamOutput[] = [];
    [20.5, 21, 22.3, 20.1, 21.9].forEach((v, i) => s.ingest(reading('greenhouse/t', i * 1000, v), out));
    s.ingest(reading('greenhouse/t', 10_000, 0), out);
    const summary = out[0] as Summary;
    expect(summary).toMatchObject({ kind: 'summary', count: 5, late: 0, partial: false });
    expect(summary.values.min).toBe(20.1);
    expect(summary.values.max).toBe(22.3);
    expect(summary.values.first).toBe(20.5);
    expect(summary.values.last).toBe(21.9);
    expect(summary.values.sum).toBeCloseTo(105.8, 10);
    expect(summary.values.mean).toBeCloseTo(21.16, 10);
    expect(summary.values.stddev).toBeCloseTo(Math.sqrt(3.432 / 4), 10); // sample standard deviation (n - 1)
  });

  it('emits the anomaly before the summary of the window it is in', () => {
    const s = stream();
    const out: StreamOutput[] = [];
    s.ingest(reading('greenhouse/t', 0, 20), out);
    s.ingest(reading('greenhouse/t', 1_000, 50), out);
    s.ingest(reading('greenhouse/t', 10_000, 20), out);
    expect(out.map((o) => o.kind)).toEqual(['anomaly', 'summary']);
    expect(out[0]).toMatchObject({ sensor: 'greenhouse/t', value: 50, ts: T0 + 1_000, verdict: { detector: 'threshold', severity: 'critical' } });
  });

  it('reports quantiles within the sketch\'s stated 1% relative error', () => {
    const s = createStream([{ match: ['**'], window: { size: 600_000, lateness: 0 }, aggregates: ['count', 'p50', 'p90', 'p95', 'p99'], detectors: [] }]);
    const out: StreamOutput[] = [];
    const values: number[] = [];
    for (let i = 0; i < 5000; i++) {
      const v = 15 + ((i * 7919) % 1000) / 100; // 15.00 .. 24.99, evenly spread
      values.push(v);
      s.ingest(reading('q', i * 100, v), out);
    }
    s.ingest(reading('q', 600_000, 0), out);
    values.sort((a, b) => a - b);
    const summary = out[0] as Summary;
    for (const [k, q] of [['p50', 0.5], ['p90', 0.9], ['p95', 0.95], ['p99', 0.99]] as const) {
      const truth = values[Math.floor(q * (values.length - 1))]!;
      expect(Math.abs(summary.values[k]! - truth)).toBeLessThanOrEqual(0.01 * truth);
    }
  });
});
