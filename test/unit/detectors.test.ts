import { describe, expect, it } from 'vitest';
import { createThresholdDetector } from '../../src/stream/detectors/threshold.js';
import { createZScoreDetector } from '../../src/stream/detectors/zscore.js';
import { seededRandom } from '../../src/sources/simulated/signal.js';

describe('threshold detector', () => {
  it('fires once when a value leaves the range and re-arms when it is back', () => {
    const d = createThresholdDetector({ min: 0, max: 45, severity: 'critical' });
    const verdicts = [20, 46, 50, 44, 47, -1].map((v, i) => d.observe(i, v));
    expect(verdicts.map((v) => v?.message)).toEqual([
      undefined,
      'value 46 is above the maximum 45',
      undefined,
      undefined,
      'value 47 is above the maximum 45',
      'value -1 is below the minimum 0',
    ]);
    expect(verdicts[1]).toMatchObject({ detector: 'threshold', severity: 'critical', score: 1, evidence: { min: 0, max: 45 } });
  });
  it('works with only one bound', () => {
    const d = createThresholdDetector({ max: 10, severity: 'warning' });
    expect(d.observe(0, -1e9)).toBeUndefined();
    expect(d.observe(1, 11)?.severity).toBe('warning');
  });
});

describe('z-score detector', () => {
  const noise = (seed: number) => {
    const r = seededRandom(seed);
    return () => (r() + r() + r() + r() - 2) * 0.5; // roughly normal, sd ~0.29
  };

  it('stays quiet on noise and says nothing before minSamples', () => {
    const d = createZScoreDetector({ threshold: 6, window: 100, minSamples: 10, severity: 'warning' });
    const n = noise(1);
    let fired = 0;
    expect(d.observe(0, 1e6)).toBeUndefined(); // first reading: no baseline, no verdict
    for (let i = 1; i < 5000; i++) if (d.observe(i, 20 + n())) fired++;
    expect(fired).toBe(0);
  });

  it('catches a spike with evidence, once, and scores it', () => {
    const d = createZScoreDetector({ threshold: 4, window: 60, minSamples: 10, severity: 'warning' });
    const n = noise(2);
    for (let i = 0; i < 200; i++) d.observe(i, 20 + n());
    const v = d.observe(200, 30);
    expect(v).toMatchObject({ detector: 'zscore', severity: 'warning' });
    expect(v!.score).toBeGreaterThan(0.5);
    expect(v!.score).toBeLessThanOrEqual(1);
    expect(v!.evidence.mean).toBeCloseTo(20, 0);
    expect(v!.evidence.z).toBeGreaterThan(4);
    expect(v!.message).toMatch(/deviations above the rolling mean/);
    expect(d.observe(201, 31)).toBeUndefined(); // still out: no second event
  });

  it('keeps its baseline exact over long runs of large values', () => {
    const d = createZScoreDetector({ threshold: 4, window: 50, minSamples: 10, severity: 'warning' });
    for (let i = 0; i < 100_000; i++) d.observe(i, 1e9 + (i % 2));
    const v = d.observe(100_000, 1e9 + 0.5 + 0.5 * 4.1 * Math.sqrt(50 / 49));
    expect(v?.evidence.stddev).toBeCloseTo(0.5 * Math.sqrt(50 / 49), 5);
  });

  it('treats any change from a perfectly flat baseline as anomalous', () => {
    const d = createZScoreDetector({ threshold: 4, window: 20, minSamples: 5, severity: 'warning' });
    for (let i = 0; i < 10; i++) d.observe(i, 5);
    expect(d.observe(10, 5)).toBeUndefined();
    expect(d.observe(11, 5.1)?.score).toBe(1);
  });
});
