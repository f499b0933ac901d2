import { describe, expect, it } from 'vitest';
import { addToSketch, emptySketch, mergeSketches, quantile, RELATIVE_ACCURACY, saveSketch, loadSketch } from '../../src/stream/quantile-sketch.js';
import { seededRandom } from '../../src/sources/simulated/signal.js';

const exact = (sorted: number[], q: number) => sorted[Math.floor(q * (sorted.length - 1))]!;

describe('quantile sketch (DDSketch)', () => {
  it.each([
    ['uniform', (r: () => number) => r() * 100],
    ['lognormal, wide range', (r: () => number) => Math.exp(6 * (r() + r() + r() - 1.5))],
    ['signed, with zeros', (r: () => number) => (r() < 0.05 ? 0 : (r() - 0.5) * 1e4)],
    ['sensor-like', (r: () => number) => 21 + 2 * Math.sin(r() * 6.28) + (r() - 0.5) * 0.4],
  ])('stays within the stated relative error on 200,000 random values: %s', (_name, draw) => {
    const random = seededRandom(17);
    const s = emptySketch();
    const values: number[] = [];
    for (let i = 0; i < 200_000; i++) {
      const v = draw(random);
      values.push(v);
      addToSketch(s, v);
    }
    values.sort((a, b) => a - b);
    for (const q of [0, 0.01, 0.25, 0.5, 0.9, 0.95, 0.99, 0.999, 1]) {
      const truth = exact(values, q);
      const got = quantile(s, q);
      expect(Math.abs(got - truth)).toBeLessThanOrEqual(RELATIVE_ACCURACY * Math.abs(truth) + 1e-12);
    }
  });

  it('merges exactly: merge(a, b) answers like the sketch of all values', () => {
    const random = seededRandom(3);
    const a = emptySketch();
    const b = emptySketch();
    const all = emptySketch();
    for (let i = 0; i < 20_000; i++) {
      const v = random() * 1000 - 100;
      addToSketch(i % 3 === 0 ? a : b, v);
      addToSketch(all, v);
    }
    const m = mergeSketches(a, b);
    for (const q of [0.5, 0.9, 0.95, 0.99]) expect(quantile(m, q)).toBe(quantile(all, q));
    expect(quantile(loadSketch(JSON.parse(JSON.stringify(saveSketch(m)))), 0.9)).toBe(quantile(all, 0.9));
  });

  it('stays bounded in memory', () => {
    const s = emptySketch();
    for (let i = -300; i < 300; i++) for (let j = 0; j < 10; j++) addToSketch(s, 10 ** (i / 10));
    expect(s.pos.size).toBeLessThanOrEqual(2048);
    expect(quantile(emptySketch(), 0.5)).toBeNaN();
  });
});
