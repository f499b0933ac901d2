// Issue 16: the shipped defaults over time, on synthetic signals whose answer is known: false
// alarms per sensor-day on noise, drift, a fault that comes back, a level that stays, history
// that fades, and a drifting sensor edging past its extremes.
import { describe, expect, it } from 'vitest';
import { createDetector, type SensorDetectorSpec } from '../../src/stream/detectors/create-detector.js';
import { detector as detectorSchema } from '../../src/config/pipelines-schema.js';
import type { Detector } from '../../src/stream/detectors/detector.js';
import { seededRandom } from '../../src/sources/simulated/signal.js';
import { TAIL_BINS, binOf } from '../../src/stream/detectors/tail-counter.js';
import { noveltyCore, type NoveltyOptions } from '../../src/stream/detectors/novelty.js';

const DAY = 86_400; // readings at 1 Hz
const T0 = 1_795_000_000_000;
const spec = (o: Record<string, unknown>) => detectorSchema.parse(o) as SensorDetectorSpec;
/** Standard normal noise (Box-Muller), seeded. */
function gaussian(seed: number): () => number {
  const r = seededRandom(seed);
  return () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
}
/** Indexes of the readings that made an event, at 1 Hz. */
function events(d: Detector, n: number, value: (i: number) => number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) if (d.observe(T0 + i * 1000, value(i), T0 + i * 1000)) out.push(i);
  return out;
}

describe('ewma and cusum at their shipped defaults (residuals in units of the sensor\'s own noise)', () => {
  for (const type of ['ewma', 'cusum']) {
    it(`${type}: at most one false alarm in a day of 1 Hz noise, independent or wandering (AR(1), phi 0.9)`, () => {
      const g = gaussian(101);
      expect(events(createDetector(spec({ type })), DAY, () => 50 + g()).length).toBeLessThanOrEqual(1);
      const h = gaussian(102);
      let x = 0;
      const wandering = () => (x = 0.9 * x + Math.sqrt(1 - 0.81) * h());
      expect(events(createDetector(spec({ type })), DAY, () => 50 + wandering()).length).toBeLessThanOrEqual(1);
    });
    it(`${type}: on a steady drift, no false alarm; with detrend a 4-deviation step on top is caught within 30 s, which a level-only baseline misses`, () => {
      // 1 Hz, noise sd 1, drifting 0.05 deviations a reading (a warming room, a filling tank);
      // the trend is learned within about an hour, the step comes at three
      const g = gaussian(103);
      const drift = Array.from({ length: 4 * 3600 }, (_, i) => 20 + 0.05 * i + g());
      const step = drift.map((v, i) => v + (i >= 3 * 3600 ? 4 : 0));
      for (const detrend of [true, false]) expect(events(createDetector(spec({ type, detrend })), drift.length, (i) => drift[i]!), `detrend ${detrend}`).toEqual([]);
      const got = events(createDetector(spec({ type })), step.length, (i) => step[i]!);
      expect(got[0]! - 3 * 3600).toBeGreaterThanOrEqual(0);
      expect(got[0]! - 3 * 3600).toBeLessThan(30);
      // without the trend the baseline lags 5 deviations behind, and its deviation has grown to match
      expect(events(createDetector(spec({ type, detrend: false })), step.length, (i) => step[i]!).filter((i) => i < 3 * 3600 + 30)).toEqual([]);
    });
    it(`${type}: one gross reading (a 1e9 glitch) does not blind it: a fault of 8 deviations five minutes later is caught`, () => {
      const g = gaussian(105);
      const got = events(createDetector(spec({ type })), 3600 + 300 + 120, (i) => (i === 3600 ? 1e9 : 50 + g() + (i >= 3900 ? 8 : 0)));
      expect(got.filter((i) => i >= 3900 && i < 3960).length).toBe(1);
    });
    it(`${type}: float noise on a constant sensor is not a shift`, () => {
      expect(events(createDetector(spec({ type })), 600, (i) => (i >= 300 && i < 303 ? 20 + 4e-15 : 20))).toEqual([]);
    });
  }
});

describe('a fault that comes back', () => {
  // 1 Hz, noise sd 1 around 50; a 30 s fault at +8, three times
  const faulty = (seed: number, at: number[]) => {
    const g = gaussian(seed);
    const v = Array.from({ length: at.at(-1)! + 600 }, () => 50 + g());
    for (const a of at) for (let i = a; i < a + 30; i++) v[i] = v[i]! + 8;
    return v;
  };
  const caught = (d: Detector, v: number[], at: number[]) => {
    const got = events(d, v.length, (i) => v[i]!);
    return at.map((a) => got.some((i) => i >= a && i < a + 30));
  };
  it('novelty (default) catches it each time when it comes back twelve hours later', () => {
    const at = [6 * 3600, 18 * 3600, 30 * 3600];
    expect(caught(createDetector(spec({ type: 'novelty' })), faulty(111, at), at)).toEqual([true, true, true]);
  });
  it('an hour apart, the default has learned it (30 of 7,000 readings) and misses the repeats; rareWeight keeps it rare', () => {
    const at = [2 * 3600, 3 * 3600, 4 * 3600];
    const v = faulty(112, at);
    expect(caught(createDetector(spec({ type: 'novelty' })), v, at)).toEqual([true, false, false]);
    expect(caught(createDetector(spec({ type: 'novelty', rareWeight: 0.05 })), v, at)).toEqual([true, true, true]);
  });
  it('detectors with a moving baseline (zscore, mad, ewma, cusum) catch every repeat at any spacing', () => {
    const at = [2 * 3600, 3 * 3600, 4 * 3600];
    const v = faulty(113, at);
    for (const type of ['zscore', 'mad', 'ewma', 'cusum']) expect(caught(createDetector(spec({ type })), v, at), type).toEqual([true, true, true]);
  });
});

describe('novelty: a level that stays becomes usual; history that fades', () => {
  it('a new operating level raises one event, then is usual', () => {
    const g = gaussian(121);
    const got = events(createDetector(spec({ type: 'novelty' })), 20_000, (i) => (i < 8000 ? 50 : 80) + g());
    expect(got.filter((i) => i < 8000)).toEqual([]);
    expect(got.filter((i) => i >= 8000 && i < 8030).length).toBe(1);
    expect(got.filter((i) => i >= 8100)).toEqual([]);
  });
  it('with a short half-life an old level is forgotten and is rare again; without fading it is not', () => {
    // level A for 5,000 readings, B for 40,000 (40 half-lives of 1,000), then A again
    const g = gaussian(122);
    const v = (i: number) => (i < 5000 || i >= 45_000 ? 50 : 80) + g();
    expect(events(createDetector(spec({ type: 'novelty', halfLife: 1000 })), 46_000, v).filter((i) => i >= 45_000 && i < 45_030).length).toBe(1);
    expect(events(createDetector(spec({ type: 'novelty', halfLife: 0 })), 46_000, v).filter((i) => i >= 45_000 && i < 45_030)).toEqual([]);
  });
  it('a short history: a value edging past its extremes is not an event, a leap past them is', () => {
    // Novelty's bins are 10% wide: the bin of 50 holds 47.47 .. 52.22. 300 readings within
    // 47.5 .. 52.0 and one at 52.20; then 52.23, past everything seen but by 0.6% of the range
    // (the next bin, so the bins alone call it a new extreme); later a leap to 60 (two bins up).
    const r = seededRandom(123);
    const v = Array.from({ length: 400 }, (_, i) => (i === 50 ? 52.2 : i === 300 ? 52.23 : i === 380 ? 60 : 47.5 + 4.5 * r()));
    const got = (o: Record<string, unknown>) => events(createDetector(spec({ type: 'novelty', ...o })), v.length, (i) => v[i]!);
    expect(got({})).toEqual([380]);
    expect(got({ extremeMargin: 0 })).toContain(300); // as it was: any new extreme is one in 10 n
  });
  it('a long history of a smooth channel: edging past its extremes is weak evidence (its readings follow each other), past independent readings it is not; a leap is caught in both', () => {
    // 1,500 readings inside the bin 47.47 .. 52.22 (one at 52.2 sets the extreme), then 52.23 at
    // reading 1,500 (past everything seen by 0.7% of the range: the next bin) and 60 at 1,600.
    // Independent readings: 1 in 1,500 is past 1 in 1,000, an event. A smooth channel (AR(1),
    // phi 0.98: 1,500 readings are worth about 15 independent ones) makes no event for it.
    const r = seededRandom(124);
    const g = gaussian(125);
    let z = 0;
    const smooth = () => Math.min(52, Math.max(47.5, 49.75 + 1.2 * (z = 0.98 * z + Math.sqrt(1 - 0.98 ** 2) * g())));
    const make = (next: () => number) => Array.from({ length: 1700 }, (_, i) => (i === 50 ? 52.2 : i === 1500 ? 52.23 : i === 1600 ? 60 : next()));
    const run = (v: number[]) => events(createDetector(spec({ type: 'novelty', halfLife: 0 })), v.length, (i) => v[i]!);
    expect(run(make(() => 47.5 + 4.5 * r()))).toEqual([1500, 1600]);
    expect(run(make(smooth))).toEqual([1600]);
  });
  it('a checkpoint from before the serial weighting (no `serial` in it) loads, and the detector goes on catching leaps', () => {
    const s = spec({ type: 'novelty', halfLife: 0 });
    const r = seededRandom(128);
    const d = createDetector(s);
    for (let i = 0; i < 500; i++) d.observe(T0 + i * 1000, 47.5 + 4.5 * r(), T0 + i * 1000);
    const strip = (x: unknown): unknown => (Array.isArray(x) ? x.map(strip) : x && typeof x === 'object' ? Object.fromEntries(Object.entries(x).filter(([k]) => k !== 'serial').map(([k, v]) => [k, strip(v)])) : x);
    const saved = JSON.parse(JSON.stringify(d.save())) as unknown;
    expect(JSON.stringify(saved)).toContain('"serial"');
    const old = createDetector(s, strip(saved));
    const got: number[] = [];
    for (let i = 500; i < 1200; i++) if (old.observe(T0 + i * 1000, i === 1100 ? 60 : 47.5 + 4.5 * r(), T0 + i * 1000)) got.push(i);
    expect(got).toEqual([1100]);
  });
  it('a burst of glitches does not make independent readings look smooth for long: edging past the extremes an hour later is an event again', () => {
    // The bin 47.47 .. 52.22 again, independent readings; 100 readings of -1e100 (an error code
    // admission lets through) at 700; 52.23 (past everything usual, by a hair) at 6,000.
    const r = seededRandom(126);
    const v = Array.from({ length: 6100 }, (_, i) => (i === 50 ? 52.2 : i >= 700 && i < 800 ? -1e100 : i === 6000 ? 52.23 : 47.5 + 4.5 * r()));
    const got = events(createDetector(spec({ type: 'novelty', halfLife: 0 })), v.length, (i) => v[i]!);
    expect(got.filter((i) => i >= 800)).toEqual([6000]);
  });
  it('a value past everything seen is never less rare than one inside the outermost bin (the score grows with the distance)', () => {
    // A smooth channel (n_eff small) whose top bin holds one reading (55, in 52.22 .. 57.7) and
    // whose range is wide (one reading at 20): past that bin's edge must score at least as high
    // as just inside it, whatever the bins' edges.
    const g = gaussian(127);
    let z = 0;
    const smooth = Array.from({ length: 3000 }, (_, i) => (i === 50 ? 55 : i === 60 ? 20 : Math.min(52, Math.max(47.5, 49.75 + 1.2 * (z = 0.98 * z + Math.sqrt(1 - 0.98 ** 2) * g())))));
    const high = Math.max(...smooth);
    // The top occupied bin's upper edge, found by bisection: probes on both sides of it.
    let [lo, hi] = [high, high * 2];
    for (let k = 0; k < 60; k++) {
      const mid = (lo + hi) / 2;
      if (binOf(mid) === binOf(high)) lo = mid;
      else hi = mid;
    }
    const scores = [high / lo, 1 - 1e-9, 1 + 1e-9, 1.01, 1.03, 1.06, 1.1, 1.2].map((f) => {
      const core = noveltyCore(spec({ type: 'novelty', halfLife: 0 }) as unknown as NoveltyOptions);
      smooth.forEach((x, i) => core.assess(T0 + i * 1000, x));
      return core.assess(T0 + 3000 * 1000, lo * f);
    });
    for (let i = 1; i < scores.length; i++) expect(scores[i]!, `${scores.join(' ')}`).toBeGreaterThanOrEqual(scores[i - 1]!);
  });
});

describe('novelty state (fading weights are whole numbers)', () => {
  const walk = (seed: number, n: number) => {
    const g = gaussian(seed);
    let x = 100;
    return Array.from({ length: n }, (_, i) => (x += g() * 0.5) + (i % 5000 === 4999 ? 50 : 0));
  };
  it('continues bit for bit after a restore between rescales of its weights, through JSON', () => {
    const s = spec({ type: 'novelty', halfLife: 1000, rareWeight: 0.05 });
    const v = walk(131, 60_000); // rescales every 20 half-lives or so
    const whole = createDetector(s);
    const a = events(whole, v.length, (i) => v[i]!);
    const first = createDetector(s);
    const b = events(first, 30_000, (i) => v[i]!);
    const second = createDetector(s, JSON.parse(JSON.stringify(first.save())));
    for (let i = 30_000; i < v.length; i++) {
      if (second.observe(T0 + i * 1000, v[i]!, T0 + i * 1000)) b.push(i);
    }
    expect(b).toEqual(a);
    expect(second.score).toBe(whole.score);
    expect(JSON.stringify(second.save())).toBe(JSON.stringify(whole.save()));
  });
  it('is bounded (fixed bins), and with fading the bins of a long-gone past vanish', () => {
    const d = createDetector(spec({ type: 'novelty', halfLife: 1000 }));
    // every magnitude from 1e-7 to 1e13, both signs: every bin there is
    const sweep = Array.from({ length: 4000 }, (_, i) => (i % 2 ? -1 : 1) * 10 ** (-7 + (20 * i) / 4000));
    events(d, sweep.length, (i) => sweep[i]!);
    const bins = (x: Detector) => (x.save() as { core: { values: { bins: unknown[] } } }).core.values.bins.length;
    expect(bins(d)).toBeLessThanOrEqual(TAIL_BINS);
    expect(bins(d)).toBeGreaterThan(800);
    const g = gaussian(133);
    events(d, 60_000, () => 50 + g()); // 60 half-lives at one level
    expect(bins(d)).toBeLessThan(40);
    expect(JSON.stringify(d.save()).length).toBeLessThan(3000);
  });
  it('reads a checkpoint from before fading (counts per bin) and continues as if nothing changed', () => {
    const s = spec({ type: 'novelty', halfLife: 0 });
    const g = gaussian(134);
    const v = Array.from({ length: 3000 }, (_, i) => 50 + g() + (i === 2500 ? 9 : 0));
    const whole = events(createDetector(s), v.length, (i) => v[i]!);
    const first = createDetector(s);
    const a = events(first, 1500, (i) => v[i]!);
    type Core = { values: { bins: Array<[number, number]> }; residuals: { bins: Array<[number, number]> }; seen?: number; lo?: number; hi?: number };
    const saved = JSON.parse(JSON.stringify(first.save())) as { quiet: number; core: Core };
    const old = { ...saved.core, values: saved.core.values.bins.map(([b, w]) => [b, w / 1024]), residuals: saved.core.residuals.bins.map(([b, w]) => [b, w / 1024]) } as Record<string, unknown>;
    delete old.seen;
    const second = createDetector(s, { quiet: saved.quiet, core: old });
    for (let i = 1500; i < v.length; i++) if (second.observe(T0 + i * 1000, v[i]!, T0 + i * 1000)) a.push(i);
    expect(a).toEqual(whole);
    expect(whole).toContain(2500);
  });
});
