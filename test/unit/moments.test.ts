import { describe, expect, it } from 'vitest';
import { addValue, emptyMoments, mergeMoments, stddev, type Moments } from '../../src/stream/moments.js';
import { seededRandom } from '../../src/sources/simulated/signal.js';

const of = (values: number[], t0 = 0): Moments => {
  const m = emptyMoments();
  values.forEach((v, i) => addValue(m, t0 + i, v));
  return m;
};

describe('moment aggregates', () => {
  it('are exact on known values', () => {
    const m = of([2, 4, 4, 4, 5, 5, 7, 9]);
    expect(m).toMatchObject({ count: 8, sum: 40, min: 2, max: 9, mean: 5, first: 2, last: 9 });
    expect(stddev(m)).toBeCloseTo(Math.sqrt(32 / 7), 12);
    expect(stddev(of([3]))).toBe(0);
  });

  it('follow event time for first and last, not arrival', () => {
    const m = emptyMoments();
    addValue(m, 20, 2);
    addValue(m, 10, 1);
    addValue(m, 30, 3);
    addValue(m, 25, 9);
    expect([m.first, m.last]).toEqual([1, 3]);
  });

  it('stay accurate for large values with small spread (no sum-of-squares cancellation)', () => {
    const m = of([1e9 + 1, 1e9 + 2, 1e9 + 3]);
    expect(stddev(m)).toBeCloseTo(1, 9);
  });

  it('merge exactly: merge(a, b) equals the moments of a\'s and b\'s readings', () => {
    const random = seededRandom(3);
    for (let trial = 0; trial < 50; trial++) {
      const xs = Array.from({ length: 1 + Math.floor(random() * 200) }, () => random() * 100 - 50);
      const ys = Array.from({ length: 1 + Math.floor(random() * 200) }, () => random() * 1000);
      const merged = mergeMoments(of(xs, 0), of(ys, 1000));
      const whole = of([...xs, ...ys]);
      expect(merged.count).toBe(whole.count);
      expect(merged.min).toBe(whole.min);
      expect(merged.max).toBe(whole.max);
      expect(merged.first).toBe(whole.first);
      expect(merged.last).toBe(whole.last);
      expect(merged.sum).toBeCloseTo(whole.sum, 8);
      expect(merged.mean).toBeCloseTo(whole.mean, 10);
      expect(stddev(merged)).toBeCloseTo(stddev(whole), 9);
    }
    expect(mergeMoments(emptyMoments(), of([1]))).toEqual(of([1]));
  });
});
