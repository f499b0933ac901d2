// The multivariate (per-device) detector: a change in how a device's sensors move together,
// while each stays inside its own range, is caught, by it and by no per-sensor detector; it
// names the sensors that moved; it continues exactly after save and restore (through the
// stream's checkpoint); its scores are causal and in [0, 1]; its state is bounded.
import { describe, expect, it } from 'vitest';
import { createStream, type Anomaly, type PipelineSpec, type StreamOutput } from '../../src/stream/stream.js';
import { detector as detectorSchema } from '../../src/config/pipelines-schema.js';
import type { DetectorSpec } from '../../src/stream/detectors/create-detector.js';
import { createMultivariateModel, chiSquareLog10Tail } from '../../src/stream/detectors/multivariate.js';
import { createDeviceGroup, type GroupSpec } from '../../src/stream/detectors/device-group.js';
import { seededRandom } from '../../src/sources/simulated/signal.js';
import { parseConfigText } from '../../src/config/load.js';

const T0 = 1_795_000_000_000;
const det = (raw: Record<string, unknown>) => detectorSchema.parse(raw) as DetectorSpec;
const pipeline = (detectors: DetectorSpec[]): PipelineSpec => ({ match: ['pump/*'], window: { type: 'tumbling', size: 3_600_000, lateness: 0 }, aggregates: ['count', 'mean'], detectors, staleAfter: 'off' });

/** Flow and current of a pump at 1 Hz: both follow the load; from `breakAt` s, the current runs against it (a dry run), inside its usual range. */
function pumpReadings(seconds: number, breakAt: number, seed = 7): Array<{ sensor: string; ts: number; value: number }> {
  const r = seededRandom(seed);
  const noise = () => (r() + r() + r() + r() - 2) * 0.3;
  const out: Array<{ sensor: string; ts: number; value: number }> = [];
  for (let s = 0; s < seconds; s++) {
    const load = 10 * Math.sin((2 * Math.PI * s) / 2000); // a zero crossing every 1,000 s
    const ts = T0 + s * 1000;
    out.push({ sensor: 'pump/current', ts, value: 50 + (s >= breakAt ? -load : load) + noise() });
    out.push({ sensor: 'pump/flow', ts: ts + 500, value: 30 + 0.8 * load + noise() });
  }
  return out;
}

function run(specs: DetectorSpec[], readings: ReturnType<typeof pumpReadings>): Anomaly[] {
  const stream = createStream([pipeline(specs)]);
  const out: StreamOutput[] = [];
  for (const x of readings) stream.ingest({ ...x, receivedAt: x.ts }, out);
  return out.filter((o): o is Anomaly => o.kind === 'anomaly');
}

describe('multivariate (per device)', () => {
  const multivariate = det({ type: 'multivariate', group: 'pump/*', every: '10s' });
  const readings = pumpReadings(12_000, 6000); // the break at a zero crossing: no jump in either sensor

  it('catches a broken relation between sensors that each stay in range; the per-sensor default does not', () => {
    const got = run([multivariate], readings);
    expect(got.filter((a) => a.ts < T0 + 6000 * 1000)).toEqual([]);
    expect(got.length).toBeGreaterThanOrEqual(1);
    const first = got[0]!;
    expect(first.sensor).toBe('pump/joint');
    expect(first.ts - (T0 + 6000 * 1000)).toBeLessThan(600_000); // within 10 minutes of the break
    expect(first.verdict.message).toMatch(/the joint behaviour of pump\/\* is unusual .*mostly pump\/(current|flow)/);
    expect(Object.keys(first.verdict.evidence)).toEqual(expect.arrayContaining(['t2', 'sensors', 'share:pump/current', 'share:pump/flow']));
    // novelty (the shipped per-sensor default): each value is one it has seen many times.
    expect(run([det({ type: 'novelty' })], readings).filter((a) => a.ts >= T0 + 6000 * 1000)).toEqual([]);
    // zscore, ewma and cusum fire on this swinging load with or without the break: they cannot tell it.
    for (const type of ['zscore', 'ewma', 'cusum']) {
      const count = (rs: typeof readings) => run([det({ type })], rs).filter((a) => a.sensor === 'pump/flow').length;
      expect(count(readings), type).toBe(count(pumpReadings(12_000, Infinity)));
    }
  });

  it('copes with real cadences: a member that reports once a minute, one that falls silent, members by id', () => {
    const spec = det({ type: 'multivariate', group: 'pump/*', every: '10s' }) as GroupSpec;
    // flow every second, current once a minute: rows form, the model learns
    const g = createDeviceGroup(spec);
    for (let s = 0; s < 4000; s++) {
      const load = 10 * Math.sin((2 * Math.PI * s) / 2000);
      if (s % 60 === 0) g.observe('pump/current', T0 + s * 1000, 50 + load);
      g.observe('pump/flow', T0 + s * 1000 + 1, 30 + 0.8 * load);
    }
    expect(g.learned()).toBe(1);
    // three members; after the warm-up one falls silent; the other two break their relation: still caught
    const h = createDeviceGroup(spec);
    const r = seededRandom(5);
    const noise = () => (r() + r() + r() + r() - 2) * 0.3;
    const events: number[] = [];
    for (let s = 0; s < 9000; s++) {
      const load = 10 * Math.sin((2 * Math.PI * s) / 2000);
      const ts = T0 + s * 1000;
      for (const [sensor, v] of [['pump/current', 50 + (s >= 6000 ? -load : load)], ['pump/flow', 30 + 0.8 * load], ['pump/temp', 60 + 0.2 * load]] as const) {
        if (sensor === 'pump/temp' && s >= 5000) continue; // silent from here
        const e = h.observe(sensor, ts, v + noise());
        if (e) events.push(e.ts);
      }
    }
    expect(events.filter((t) => t < T0 + 6000 * 1000)).toEqual([]);
    expect(events.length).toBeGreaterThanOrEqual(1);
    // nine candidates arriving in reverse id order, eight members at most: the first eight by id
    const m = createDeviceGroup(det({ type: 'multivariate', group: 'dev/*', every: '10s' }) as GroupSpec);
    for (let s = 0; s < 100; s++) for (let i = 8; i >= 0; i--) m.observe(`dev/s${i}`, T0 + s * 1000 + i, i + Math.sin(s));
    expect(m.save().members).toEqual(['dev/s0', 'dev/s1', 'dev/s2', 'dev/s3', 'dev/s4', 'dev/s5', 'dev/s6', 'dev/s7']);
  });

  it('watches every sensor its glob matches, even one routed to an earlier pipeline', () => {
    const first: PipelineSpec = { match: ['pump/current'], window: { type: 'tumbling', size: 3_600_000, lateness: 0 }, aggregates: ['count'], detectors: [], staleAfter: 'off' };
    const stream = createStream([first, pipeline([multivariate])]);
    const out: StreamOutput[] = [];
    for (const x of readings) stream.ingest({ ...x, receivedAt: x.ts }, out);
    const got = out.filter((o): o is Anomaly => o.kind === 'anomaly');
    expect(got.length).toBeGreaterThanOrEqual(1);
    expect(got[0]!.ts).toBeGreaterThanOrEqual(T0 + 6000 * 1000);
  });

  it('stays quiet while the relation holds', () => {
    expect(run([multivariate], pumpReadings(20_000, Infinity, 11))).toEqual([]);
  });

  it('continues exactly after the stream is saved and restored (JSON), and says how far its warm-up is', () => {
    const whole = run([multivariate], readings);
    const stream = createStream([pipeline([multivariate])]);
    const out: StreamOutput[] = [];
    const half = readings.length / 2;
    readings.slice(0, half).forEach((x) => stream.ingest({ ...x, receivedAt: x.ts }, out));
    const restored = createStream([pipeline([multivariate])], JSON.parse(JSON.stringify(stream.save())));
    readings.slice(half).forEach((x) => restored.ingest({ ...x, receivedAt: x.ts }, out));
    expect(out.filter((o) => o.kind === 'anomaly')).toEqual(whole);
    expect(restored.learning(5)).toEqual({ detectors: 1, learning: 0, least: [] });
    const young = createStream([pipeline([multivariate])]);
    readings.slice(0, 400).forEach((x) => young.ingest({ ...x, receivedAt: x.ts }, []));
    expect(young.learning(5).least[0]).toMatchObject({ sensor: 'pump/joint', detector: 'multivariate' });
  });

  it('scores are causal and in [0, 1]; state is bounded', () => {
    const r = seededRandom(3);
    const rows = Array.from({ length: 600 }, () => Array.from({ length: 8 }, () => r() * 10));
    // sensors in tiny units (micro-amperes) are not swamped by the ridge: a break still scores
    const tiny = createMultivariateModel(2, { alpha: 0.002, minRows: 60, threshold: 0.5, regimes: 1 });
    const q = seededRandom(9);
    for (let i = 0; i < 500; i++) {
      const f = Math.sin(i / 20);
      tiny.assess([1e-7 * f + 1e-9 * q(), 2e-7 * f + 1e-9 * q()]);
    }
    expect(tiny.assess([1e-7, -2e-7])).toBeGreaterThan(0.5);
    const a = createMultivariateModel(8, { alpha: 0.002, minRows: 60, threshold: 0.5, regimes: 1 });
    const b = createMultivariateModel(8, { alpha: 0.002, minRows: 60, threshold: 0.5, regimes: 1 });
    const sa = rows.map((x) => a.assess(x));
    const sb = rows.map((x, i) => b.assess(i >= 300 ? x.map((v) => v * 5) : x));
    expect(sb.slice(0, 300)).toEqual(sa.slice(0, 300));
    for (const s of [...sa, ...sb]) expect(s === -1 || (s >= 0 && s <= 1)).toBe(true);
    expect(JSON.stringify(a.save()).length).toBeLessThan(4000); // 8 means and a 8 x 8 covariance, whatever the history
  });

  describe('operating states (regimes)', () => {
    // A pump that runs for an hour (flow ~30, current following it), then idles for an hour
    // (flow ~0.5, current ~0.3), every 10 s; in hour 11.5, while idle, three rows half-way
    // between (flow 15, current 5.2): a valve stuck half open, normal for neither state.
    const machine = (seed: number, stuckAt: number) => {
      const r = seededRandom(seed);
      const noise = () => r() + r() + r() + r() - 2; // sd ~0.58
      const out: Array<{ sensor: string; ts: number; value: number }> = [];
      for (let s = 0; s < 12 * 3600; s += 10) {
        const running = Math.floor(s / 3600) % 2 === 0;
        const stuck = s >= stuckAt && s < stuckAt + 30;
        const flow = stuck ? 15 : running ? 30 + noise() : 0.5 + 0.05 * noise();
        const current = stuck ? 5.2 : running ? 0.2 + 0.33 * flow + 0.05 * noise() : 0.3 + 0.02 * noise();
        out.push({ sensor: 'pump/flow', ts: T0 + s * 1000, value: flow }, { sensor: 'pump/current', ts: T0 + s * 1000 + 1, value: current });
      }
      return out;
    };
    const stuckAt = 11.5 * 3600;
    const at = (a: Anomaly[]) => a.filter((x) => x.ts >= T0 + stuckAt * 1000 && x.ts <= T0 + (stuckAt + 60) * 1000).length;
    it('with two remembered states, a row between them is caught; one mean and covariance over both finds it ordinary', () => {
      const two = run([det({ type: 'multivariate', group: 'pump/*', every: '10s', regimes: 2 })], machine(41, stuckAt));
      const one = run([det({ type: 'multivariate', group: 'pump/*', every: '10s' })], machine(41, stuckAt));
      expect(at(two)).toBe(1);
      expect(two.find((x) => x.ts >= T0 + stuckAt * 1000)!.verdict.message).toMatch(/closest to operating state \d of 2/);
      expect(at(one)).toBe(0);
      // once both states are known (after the first idle hour), switching between them is normal
      expect(two.filter((x) => x.ts >= T0 + 3 * 3600 * 1000 && x.ts < T0 + stuckAt * 1000)).toEqual([]);
      // and learning the idle state did not widen the running one: caught as soon as idle is known
      const early = 1.5 * 3600;
      const soon = run([det({ type: 'multivariate', group: 'pump/*', every: '10s', regimes: 2 })], machine(41, early));
      expect(soon.filter((x) => x.ts >= T0 + early * 1000 && x.ts <= T0 + (early + 60) * 1000)).toHaveLength(1);
    });
    it('learns only whole rows while warming up: a member that reports once a minute does not poison the model', () => {
      const g = createDeviceGroup(det({ type: 'multivariate', group: 'pump/*' }) as GroupSpec);
      const r = seededRandom(12);
      for (let t = 0; t < 3 * 3600_000; t += 1000) {
        const x = Math.sin(t / 600_000);
        g.observe('pump/flow', T0 + t, 20 + 10 * x + 0.1 * r());
        g.observe('pump/current', T0 + t, 5 + 2 * x + 0.05 * r());
        if (t % 60_000 === 0) g.observe('pump/temp', T0 + t, 40 + 5 * x + 0.1 * r());
      }
      const saved = g.save().model!;
      expect('regimes' in saved && saved.regimes[0]!.mean.every(Number.isFinite)).toBe(true);
    });
    it('continues exactly after a restore with several states, and keeps the most recently used when fewer are allowed', () => {
      const spec = det({ type: 'multivariate', group: 'pump/*', every: '10s', regimes: 2 });
      const readings = machine(42, stuckAt);
      const whole = run([spec], readings);
      const stream = createStream([pipeline([spec])]);
      const out: StreamOutput[] = [];
      const half = Math.floor(readings.length * 0.6);
      readings.slice(0, half).forEach((x) => stream.ingest({ ...x, receivedAt: x.ts }, out));
      const saved = JSON.parse(JSON.stringify(stream.save())) as ReturnType<typeof stream.save>;
      const restored = createStream([pipeline([spec])], saved);
      readings.slice(half).forEach((x) => restored.ingest({ ...x, receivedAt: x.ts }, out));
      expect(out.filter((o) => o.kind === 'anomaly')).toEqual(whole);
      const m = createMultivariateModel(2, { alpha: 0.002, minRows: 60, threshold: 0.5, regimes: 2 });
      const q = seededRandom(8);
      for (let i = 0; i < 600; i++) m.assess(i < 300 ? [30 + q(), 10 + q()] : [1 + q() * 0.1, 0.3 + q() * 0.1]);
      const both = m.save();
      expect('regimes' in both && both.regimes.length).toBe(2);
      const fewer = createMultivariateModel(2, { alpha: 0.002, minRows: 60, threshold: 0.5, regimes: 1 }, both);
      expect(fewer.assess([1, 0.3])).toBeLessThan(0.5); // the idle state, used last, stayed
    });
  });

  it('check-config: each group needs an id of its own', () => {
    const yaml = (detectors: string) => `device: { id: d1 }\nsources: [ { type: simulated, sensors: [ { id: pump1/a, rateHz: 1 } ] } ]\npipelines: [ { match: ["pump1/*"], window: { type: tumbling, size: 60s }, detectors: ${detectors} } ]\nuplink: { url: "mqtt://127.0.0.1:1" }\n`;
    const problems = (d: string) => {
      const r = parseConfigText(yaml(d));
      return r.ok ? [] : r.problems.map((p) => `${p.path}: ${p.message}`);
    };
    expect(problems('[ { type: multivariate, group: "pump1/*" } ]')).toEqual([]);
    expect(problems('[ { type: multivariate, group: "pump1/*" }, { type: multivariate, group: "pump1/**" } ]')).toEqual(['pipelines[0].detectors[1].id: "pump1/joint" is already the id of pipelines[0].detectors[0]: give each group its own id']);
    expect(problems('[ { type: multivariate, group: "*/flow" } ]')[0]).toMatch(/^pipelines\[0\]\.detectors\[0\]\.id: is needed/);
  });

  it('turns T² into chi-square tail probabilities close to the exact ones', () => {
    // exact: P(chi2_2 >= 13.8155) = 1e-3; P(chi2_8 >= 26.1245) = 1e-3; P(chi2_4 >= 9.4877) = 0.05
    expect(chiSquareLog10Tail(13.8155, 2)).toBeCloseTo(-3, 0);
    expect(chiSquareLog10Tail(26.1245, 8)).toBeCloseTo(-3, 1);
    expect(chiSquareLog10Tail(9.4877, 4)).toBeCloseTo(Math.log10(0.05), 1);
  });
});
