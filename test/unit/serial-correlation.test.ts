// What n readings are worth as independent ones, from the lag-1 correlation: the estimate
// novelty uses to weigh a value just past the extremes of a smooth channel.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createSerialCorrelation } from '../../src/stream/detectors/serial-correlation.js';
import { seededRandom } from '../../src/sources/simulated/signal.js';

function gaussian(seed: number): () => number {
  const r = seededRandom(seed);
  return () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
}
function ar1(phi: number, seed: number, n: number): number[] {
  const g = gaussian(seed);
  let x = 0;
  return Array.from({ length: n }, () => (x = phi * x + Math.sqrt(1 - phi * phi) * g()));
}
const worth = (values: number[], n = 1000) => {
  const s = createSerialCorrelation();
  for (const v of values) s.add(v);
  return s.effective(n);
};

describe('serial correlation: effective sample size', () => {
  it('independent readings are worth about their number; AR(1) phi 0.9 about n (1 - phi) / (1 + phi); a random walk next to nothing', () => {
    expect(worth(ar1(0, 1, 20_000))).toBeGreaterThan(900);
    const e = worth(ar1(0.9, 2, 20_000));
    expect(e).toBeGreaterThan(1000 * (0.1 / 1.9) * 0.6);
    expect(e).toBeLessThan(1000 * (0.1 / 1.9) * 1.6);
    const g = gaussian(3);
    let x = 0;
    expect(worth(Array.from({ length: 20_000 }, () => (x += g())))).toBeLessThan(20);
  });
  it('a constant or a single reading counts as independent (no evidence of correlation)', () => {
    expect(worth([5, 5, 5, 5])).toBe(1000);
    expect(worth([7])).toBe(1000);
    expect(worth([])).toBe(1000);
  });
  it('never less than 1 nor more than n, always finite, for any readings (huge ones included); a restore continues exactly', () => {
    const reading = fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.double({ min: -1e3, max: 1e3, noNaN: true }));
    fc.assert(
      fc.property(fc.array(reading.map((v) => v + 0), { maxLength: 200 }), fc.nat({ max: 200 }), fc.integer({ min: 1, max: 1e7 }), (values, cut, n) => {
        const whole = createSerialCorrelation();
        let part = createSerialCorrelation();
        values.forEach((v, i) => {
          whole.add(v);
          if (i === cut) part = createSerialCorrelation(JSON.parse(JSON.stringify(part.save())));
          part.add(v);
          const e = whole.effective(n);
          expect(Number.isFinite(e)).toBe(true);
          expect(e).toBeGreaterThanOrEqual(1);
          expect(e).toBeLessThanOrEqual(Math.max(1, n));
        });
        expect(part.save()).toEqual(whole.save());
      }),
    );
  });
  it('a damaged saved state starts afresh instead of carrying NaN', () => {
    for (const bad of [null, 'x', [1, 2, 3], [1, 2, 3, 4, Number.NaN], [1, 2, 3, 4, 5, 6]]) {
      const s = createSerialCorrelation(bad);
      expect(s.save()).toEqual([0, 0, 0, 0, 0]);
      expect(s.effective(50)).toBe(50);
    }
  });
});
