import { describe, expect, it } from 'vitest';
import { mergeSummaries } from '../../src/stream/merge.js';
import { createStream, type Summary, type StreamOutput } from '../../src/stream/stream.js';
import { seededRandom } from '../../src/sources/simulated/signal.js';

const ALL = ['count', 'sum', 'min', 'max', 'mean', 'stddev', 'first', 'last', 'p50', 'p90', 'p95', 'p99'] as const;

/** Summaries of one sensor's windows, computed by the real stream. */
function summarize(values: Array<[number, number]>, size: number): Summary[] {
  const s = createStream([{ match: ['**'], window: { size, lateness: 0 }, aggregates: [...ALL], detectors: [] }]);
  const out: StreamOutput[] = [];
  for (const [ts, v] of values) s.ingest({ sensor: 'x', ts, value: v, receivedAt: ts }, out);
  s.tick(Number.MAX_SAFE_INTEGER / 2, out);
  return out.filter((o): o is Summary => o.kind === 'summary');
}

describe('mergeSummaries', () => {
  it('merge(a, b) equals the summary of a\'s and b\'s readings', () => {
    const random = seededRandom(11);
    let checked = 0;
    for (let trial = 0; trial < 40; trial++) {
      const n = 2 + Math.floor(random() * 300);
      const values: Array<[number, number]> = Array.from({ length: n }, (_, i) => [i * 10, (random() - 0.3) * 1000]);
      const [a, b] = summarize(values, 5 * (n + 1)); // two windows of the same readings...
      const coarse = summarize(values, 10 * (n + 1)); // ...and one window twice as long
      if (!a || !b || coarse.length !== 1) continue;
      const merged = mergeSummaries(a, b);
      const whole = coarse[0]!;
      expect(merged.count).toBe(whole.count);
      expect([merged.start, merged.end]).toEqual([whole.start, whole.end]);
      for (const k of ['count', 'min', 'max', 'first', 'last', 'p50', 'p90', 'p95', 'p99'] as const) expect(merged.values[k]).toBe(whole.values[k]);
      expect(merged.values.sum).toBeCloseTo(whole.values.sum!, 6);
      expect(merged.values.mean).toBeCloseTo(whole.values.mean!, 9);
      expect(merged.values.stddev).toBeCloseTo(whole.values.stddev!, 9);
      checked++;
    }
    expect(checked).toBeGreaterThan(30);
  });

  it('is associative over a run of windows (how compaction folds many into one)', () => {
    const random = seededRandom(5);
    const values: Array<[number, number]> = Array.from({ length: 1000 }, (_, i) => [i * 7, random() * 50]);
    const fine = summarize(values, 700);
    const folded = fine.reduce((acc, s) => mergeSummaries(acc, s));
    const whole = summarize(values, 7000 * 10)[0]!;
    expect(folded.count).toBe(1000);
    expect(folded.values.mean).toBeCloseTo(whole.values.mean!, 9);
    expect(folded.values.stddev).toBeCloseTo(whole.values.stddev!, 9);
    expect([folded.values.min, folded.values.max, folded.values.first, folded.values.last]).toEqual([whole.values.min, whole.values.max, whole.values.first, whole.values.last]);
  });

  it('adds late counts, keeps partial, and refuses overlapping or foreign summaries', () => {
    const base: Summary = { kind: 'summary', sensor: 'x', start: 0, end: 10, count: 1, values: { count: 1, mean: 1, stddev: 0 }, late: 2, partial: false };
    const next: Summary = { ...base, start: 10, end: 20, late: 1, partial: true };
    expect(mergeSummaries(base, next)).toMatchObject({ late: 3, partial: true, start: 0, end: 20, count: 2 });
    expect(() => mergeSummaries(next, base)).toThrow(/out of order/);
    expect(() => mergeSummaries(base, { ...next, sensor: 'y' })).toThrow(/cannot merge/);
  });
});
