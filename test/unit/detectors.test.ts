// Every detector: what it catches, what it leaves alone, its evidence and message, warm-up,
// one event per fault, and (one contract for all) exact continuation after save/restore and
// causality (a reading's score never depends on later readings).
import { describe, expect, it } from 'vitest';
import { createDetector, type SensorDetectorSpec } from '../../src/stream/detectors/create-detector.js';
import { detector as detectorSchema } from '../../src/config/pipelines-schema.js';
import type { Detector, Verdict } from '../../src/stream/detectors/detector.js';
import { seededRandom } from '../../src/sources/simulated/signal.js';

const MIN = 60_000;
const noise = (seed: number) => {
  const r = seededRandom(seed);
  return () => (r() + r() + r() + r() - 2) * 0.5; // roughly normal, sd ~0.29
};
/** Feeds (ts, value) pairs; returns the verdicts by index. */
function feed(d: Detector, points: Array<[number, number]>): Map<number, Verdict> {
  const out = new Map<number, Verdict>();
  points.forEach(([ts, v], i) => {
    const verdict = d.observe(ts, v, ts);
    if (verdict) out.set(i, verdict);
  });
  return out;
}
const series = (n: number, f: (i: number) => number, stepMs = MIN): Array<[number, number]> => Array.from({ length: n }, (_, i) => [1_795_000_000_000 + i * stepMs, f(i)]);

const SPECS: SensorDetectorSpec[] = [
  { type: 'threshold', min: 0, max: 45, hysteresis: 2, severity: 'critical' },
  { type: 'zscore', threshold: 4, window: 60, minSamples: 10, cooldown: 1, severity: 'warning' },
  { type: 'ewma', lambda: 0.1, limit: 4.5, alpha: 0.01, minSamples: 30, detrend: true, cooldown: 10, severity: 'warning' },
  { type: 'cusum', k: 0.5, h: 13, alpha: 0.01, minSamples: 30, detrend: true, cooldown: 10, severity: 'warning' },
  { type: 'mad', threshold: 5, window: 60, minSamples: 10, cooldown: 1, severity: 'warning' },
  { type: 'rate', maxPerSecond: 0.05, cooldown: 1, severity: 'warning' },
  { type: 'flatline', duration: 30 * MIN, tolerance: 0, cooldown: 1, severity: 'warning' },
  { type: 'gap', duration: 5 * MIN, severity: 'warning' },
  { type: 'novelty', threshold: 0.5, minSamples: 100, learnFor: 86_400_000, daily: true, halfLife: 86_400, rareWeight: 1, extremeMargin: 0.2, cooldown: 20, severity: 'warning' },
  { type: 'variance', window: 30, ratio: 2.5, alpha: 0.005, minSamples: 100, cooldown: 60, severity: 'warning' },
  // history fading fast and faults learned lightly: weights that are not whole readings
  { type: 'novelty', threshold: 0.5, minSamples: 100, learnFor: 0, daily: true, halfLife: 1000, rareWeight: 0.05, extremeMargin: 0.2, cooldown: 20, severity: 'warning' },
];

describe('threshold', () => {
  it('fires once per excursion, re-arming only past the hysteresis', () => {
    const d = createDetector({ type: 'threshold', min: 0, max: 45, hysteresis: 2, severity: 'critical' });
    const got = feed(d, series(9, (i) => [20, 46, 50, 44, 46, 42, 47, -1, 3][i]!));
    expect([...got.keys()]).toEqual([1, 6, 7]); // 44 is inside but within 2 of 45: no re-arm; 42 re-arms
    expect(got.get(1)).toMatchObject({ detector: 'threshold', severity: 'critical', score: 1, message: 'value 46 is above the maximum 45', evidence: { min: 0, max: 45, hysteresis: 2 } });
    expect(got.get(7)!.message).toBe('value -1 is below the minimum 0');
  });
});

describe('zscore', () => {
  it('catches a spike once, with the baseline it compared against', () => {
    const n = noise(2);
    const got = feed(createDetector(SPECS[1]!), series(203, (i) => (i === 200 || i === 201 ? 30 : 20 + n())));
    expect([...got.keys()]).toEqual([200]);
    const v = got.get(200)!;
    expect(v.score).toBeGreaterThan(0.5);
    expect(v.evidence.mean).toBeCloseTo(20, 0);
    expect(v.evidence.z).toBeGreaterThan(4);
    expect(v.message).toMatch(/^value 30 is \d+\.\d deviations above the rolling mean 20/);
  });
  it('says nothing on noise, nor before minSamples', () => {
    const n = noise(1);
    expect(feed(createDetector({ ...SPECS[1]!, threshold: 6 } as SensorDetectorSpec), series(5000, (i) => (i === 0 ? 1e6 : 20 + n()))).size).toBe(0);
  });
  it('treats any change from a perfectly flat baseline as anomalous', () => {
    const got = feed(createDetector(SPECS[1]!), series(20, (i) => (i === 15 ? 5.1 : 5)));
    expect(got.get(15)?.score).toBe(1);
  });
});

describe('ewma and cusum (level shifts)', () => {
  // A shift of 1.5 deviations: no single reading is remarkable, the run of them is.
  const shifted = (seed: number) => {
    const n = noise(seed);
    return series(600, (i) => 10 + n() + (i >= 400 ? 0.45 : 0));
  };
  for (const spec of [SPECS[2]!, SPECS[3]!]) {
    it(`${spec.type}: finds a small lasting shift soon after it starts, once, and not before`, () => {
      const got = feed(createDetector(spec), shifted(5));
      const at = [...got.keys()];
      expect(at.filter((i) => i < 400)).toEqual([]);
      expect(at.length).toBeGreaterThanOrEqual(1);
      expect(at[0]!).toBeLessThan(440);
      expect(got.get(at[0]!)!.message).toMatch(spec.type === 'ewma' ? /recent readings run .* deviations above what the baseline expected \(10\./ : /shifted up from the expected 10\./);
      expect(feed(createDetector(spec), series(600, () => 10 + noise(9)())).size).toBe(0);
    });
  }
});

describe('from the first hour (issue 16)', () => {
  it('the default (novelty at its shipped settings) catches a new sensor\'s first fault right after its 150-reading warm-up', () => {
    const spec = detectorSchema.parse({ type: 'novelty' }) as SensorDetectorSpec;
    const n = noise(31);
    // 1 Hz: 150 readings are 150 s; the fault at reading 170 (under three minutes after the first)
    const got = [...feed(createDetector(spec), series(400, (i) => 32 + n() + (i >= 170 && i < 180 ? 5 : 0), 1000)).keys()];
    expect(got.filter((i) => i < 170)).toEqual([]);
    expect(got[0]).toBe(170);
  });
  it('a 3% level shift of a noisy reading (noise 1% of it) is caught by cusum and ewma within a minute at 1 Hz', () => {
    for (const type of ['cusum', 'ewma'] as const) {
      const spec = detectorSchema.parse({ type }) as SensorDetectorSpec;
      const r = seededRandom(41);
      const gauss = () => (r() + r() + r() + r() - 2) * Math.sqrt(3); // sd ~1
      const got = [...feed(createDetector(spec), series(1200, (i) => 100 + gauss() + (i >= 900 ? 3 : 0), 1000)).keys()];
      expect(got.filter((i) => i < 900), type).toEqual([]);
      expect(got[0]! - 900, type).toBeLessThan(60);
    }
  });
});

describe('variance (oscillation)', () => {
  const spec = SPECS.find((x) => x.type === 'variance')!;
  it('catches an oscillation whose mean does not move, soon and once; leaves a level shift, a trend and noise alone', () => {
    const n = noise(21);
    // 2,000 readings of noise (sd ~0.29) around 50; then an oscillation of +-0.9 (3 deviations), period 4 readings
    const oscillating = series(2400, (i) => 50 + n() + (i >= 2000 ? 0.9 * Math.sin((2 * Math.PI * i) / 4 + 0.5) : 0));
    const got = [...feed(createDetector(spec), oscillating).keys()];
    expect(got.filter((i) => i < 2000)).toEqual([]);
    expect(got.length).toBeGreaterThanOrEqual(1);
    expect(got[0]!).toBeLessThan(2000 + 2 * 30); // within two of its windows
    const v = feed(createDetector(spec), oscillating).get(got[0]!)!;
    expect(v.message).toMatch(/moves .* times more from one reading to the next than usual/);
    // The mean is what a level detector sees: it did not move.
    const mean = (a: number, b: number) => oscillating.slice(a, b).reduce((s, [, x]) => s + x, 0) / (b - a);
    expect(Math.abs(mean(2000, 2400) - mean(1600, 2000))).toBeLessThan(0.05);
    const m = noise(22);
    expect(feed(createDetector(spec), series(3000, (i) => 50 + m() + (i >= 1500 ? 5 : 0))).size).toBe(0); // a step of 17 deviations
    const k = noise(23);
    expect(feed(createDetector(spec), series(3000, (i) => 50 + k() + i * 0.01)).size).toBe(0); // a trend
    const q = noise(24);
    expect(feed(createDetector(spec), series(20_000, () => 50 + q())).size).toBe(0); // a long quiet stretch
    expect(feed(createDetector(spec), series(600, (i) => (i < 300 ? 20 : 21))).size).toBe(0); // a setpoint that never moved, then one step
  });
  it('a level detector (ewma) misses that oscillation', () => {
    const n = noise(21);
    const oscillating = series(2400, (i) => 50 + n() + (i >= 2000 ? 0.9 * Math.sin((2 * Math.PI * i) / 4 + 0.5) : 0));
    expect([...feed(createDetector(SPECS.find((x) => x.type === 'ewma')!), oscillating).keys()].filter((i) => i >= 2000)).toEqual([]);
  });
});

describe('mad', () => {
  it('is not fooled by earlier outliers the way a deviation is', () => {
    const n = noise(3);
    // every 10th reading wild: inflates the standard deviation, not the median absolute deviation
    const pts = series(300, (i) => (i % 10 === 0 ? 20 + 30 * (i % 20 === 0 ? 1 : -1) : 20 + n()));
    pts[295] = [pts[295]![0], 25];
    expect(feed(createDetector(SPECS[1]!), pts).has(295)).toBe(false);
    const m = feed(createDetector(SPECS[4]!), pts);
    expect(m.has(295)).toBe(true);
    expect(m.get(295)!.evidence.median).toBeCloseTo(20, 0);
  });
});

describe('rate', () => {
  it('fires when the value moves faster than physically believable', () => {
    const got = feed(createDetector(SPECS[5]!), series(6, (i) => [20, 21, 22, 30, 30.5, 31][i]!));
    expect([...got.keys()]).toEqual([3]); // 8 units in 60 s = 0.13/s > 2 * 0.05
    expect(got.get(3)!.message).toBe('value rose from 22 to 30 in 60 s (0.133333/s, the limit is 0.05/s)');
  });
});

describe('flatline', () => {
  it('fires once when a value has not moved for the duration', () => {
    const n = noise(4);
    const got = feed(createDetector(SPECS[6]!), series(200, (i) => (i >= 100 && i < 180 ? 7 : 20 + n())));
    expect([...got.keys()]).toEqual([130]); // 30 minutes after it froze at i = 100
    expect(got.get(130)!.message).toMatch(/^value stuck at 7 \(within 0\) for 1800 s and 31 readings/);
  });
});

describe('gap', () => {
  it('fires once on the wall clock when a sensor goes quiet, and re-arms with the next reading', () => {
    const d = createDetector(SPECS[7]!);
    const t0 = 1_795_000_000_000;
    d.observe(t0, 21.5, t0);
    expect(d.tick!(t0 + 4 * MIN)).toBeUndefined();
    const v = d.tick!(t0 + 5 * MIN);
    expect(v).toMatchObject({ detector: 'gap', score: 1, evidence: { silentSeconds: 300, limitSeconds: 300, lastValue: 21.5 } });
    expect(v!.message).toBe(`no reading for 300 s (the limit is 300 s); the last was 21.5 at ${new Date(t0).toISOString()}`);
    expect(d.tick!(t0 + 20 * MIN)).toBeUndefined();
    d.observe(t0 + 21 * MIN, 22, t0 + 21 * MIN);
    expect(d.tick!(t0 + 27 * MIN)).toBeDefined();
  });
});

describe('novelty', () => {
  const day = (i: number) => 20 + 5 * Math.sin((2 * Math.PI * (i % 288)) / 288); // 5-minute readings
  it('fires on a value beyond the sensor\'s history, once, and not while learning', () => {
    const n = noise(6);
    const got = feed(createDetector(SPECS[8]!), series(3000, (i) => (i >= 2500 && i < 2510 ? 40 : day(i) + n()), 5 * MIN));
    expect([...got.keys()]).toEqual([2500]);
    expect(got.get(2500)!.message).toBe('value 40 is above every one of the 2500 earlier readings');
  });
  it('fires on an ordinary value at the wrong time of day', () => {
    const n = noise(7);
    // 20 days of 5-minute readings; on day 15, at the night's low, the value sits at the
    // middle of its usual range: not rare as a value, rare for the time of day
    const at = 15 * 288 + 216;
    const got = feed(createDetector(SPECS[8]!), series(20 * 288, (i) => (i >= at && i < at + 6 ? 24 : day(i) + n()), 5 * MIN));
    expect(got.has(at)).toBe(true);
    expect(got.get(at)!.message).toMatch(/^value 24 is unusually far from the usual 1\d\.\d+ at this time of day/);
    expect(got.size).toBeLessThanOrEqual(4); // new extremes while it learns; see the next test
  });
  it('stays nearly quiet on a long regular signal, as calibrated', () => {
    const n = noise(8);
    const hits = [...feed(createDetector(SPECS[8]!), series(70 * 288, (i) => day(i) + n(), 5 * MIN)).keys()];
    // Score 0.5 is a reading rarer than about 1 in 2,000 to 5,000 (value, or distance from the
    // usual at that time of day): on 10,000 clean readings a few such come out by chance.
    expect(hits.filter((i) => i >= 35 * 288).length).toBeLessThanOrEqual(5);
    expect(hits.length).toBeLessThanOrEqual(10);
  });
});

describe('every detector (contract)', () => {
  const data = (() => {
    const n = noise(11);
    return series(2000, (i) => (i % 700 === 650 ? 60 : i > 1500 ? 25 + n() : 20 + n() + Math.sin(i / 50)));
  })();
  for (const spec of SPECS) {
    it(`${spec.type}: continues exactly after save and restore, through JSON`, () => {
      const whole = createDetector(spec);
      const a = feed(whole, data);
      const first = createDetector(spec);
      const b = feed(first, data.slice(0, 1000));
      const second = createDetector(spec, JSON.parse(JSON.stringify(first.save())));
      for (const [i, v] of feed(second, data.slice(1000))) b.set(i + 1000, v);
      expect([...b.entries()]).toEqual([...a.entries()]);
      expect(second.score).toBe(whole.score);
    });
    it(`${spec.type}: says how far its warm-up is, from 0 to 1, rising, the same after a restore`, () => {
      const d = createDetector(spec);
      if (!d.learned) return void expect(['threshold', 'rate', 'flatline', 'gap']).toContain(spec.type); // no history to learn
      expect(d.learned()).toBe(0);
      let prev = 0;
      let firstVerdict = -1;
      data.forEach(([t, v], i) => {
        if (d.observe(t, v, t) && firstVerdict < 0) firstVerdict = i;
        const p = d.learned!();
        expect(p).toBeGreaterThanOrEqual(prev);
        expect(p).toBeLessThanOrEqual(1);
        if (firstVerdict === i) expect(p).toBe(1); // no verdict while it says it learns
        prev = p;
      });
      const restored = createDetector(spec, JSON.parse(JSON.stringify(d.save())));
      expect(restored.learned!()).toBe(d.learned());
    });
    it(`${spec.type}: scores are causal and in [0, 1]`, () => {
      const d1 = createDetector(spec);
      const d2 = createDetector(spec);
      const s1: number[] = [];
      const s2: number[] = [];
      const other = data.map(([t, v], i): [number, number] => [t, i >= 1200 ? v * 3 : v]);
      data.forEach(([t, v]) => (d1.observe(t, v, t), s1.push(d1.score)));
      other.forEach(([t, v]) => (d2.observe(t, v, t), s2.push(d2.score)));
      expect(s2.slice(0, 1200)).toEqual(s1.slice(0, 1200));
      for (const s of s1) expect(s >= 0 && s <= 1).toBe(true);
    });
  }
});
