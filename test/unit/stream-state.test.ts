// A checkpoint is only as good as its restore: a stream saved at any point, passed through
// JSON, and restored must continue exactly as the one that never stopped.
import { describe, expect, it } from 'vitest';
import { createStream, type DetectorSpec, type PipelineSpec, type StreamOutput, type SavedStream } from '../../src/stream/stream.js';
import { seededRandom } from '../../src/sources/simulated/signal.js';
import type { Reading } from '../../src/stream/reading.js';
import { pipeline as pipelineSchema } from '../../src/config/pipelines-schema.js';

const SPECS: PipelineSpec[] = [
  {
    match: ['a/*'],
    window: { size: 1_000, lateness: 300 },
    aggregates: ['count', 'sum', 'min', 'max', 'mean', 'stddev', 'first', 'last', 'p50', 'p99'],
    detectors: [
      { type: 'threshold', min: -3, max: 3, severity: 'critical' },
      { type: 'zscore', threshold: 2.5, window: 20, minSamples: 5, cooldown: 1, severity: 'warning' },
    ],
  },
  { match: ['b/*'], window: { type: 'hopping', size: 3_000, step: 1_000, lateness: 200 }, aggregates: ['count', 'mean', 'p90'], detectors: [] },
  { match: ['c'], window: { type: 'session', gap: 400, lateness: 300 }, aggregates: ['count', 'min', 'max', 'p50'], detectors: [] },
  { match: ['d/*'], window: { type: 'count', size: 7 }, aggregates: ['count', 'mean', 'last'], detectors: [] },
  { match: ['f/*'], window: { type: 'count', size: 9, step: 4 }, aggregates: ['count', 'mean', 'first', 'p90'], detectors: [] },
  { match: ['**'], window: { size: 5_000, lateness: 0 }, aggregates: ['count', 'mean'], detectors: [{ type: 'zscore', threshold: 3, window: 50, minSamples: 10, cooldown: 1, severity: 'warning' }] },
];

type Event = { reading: Reading } | { tick: number };

/** Readings from 6 sensors, somewhat out of order, with occasional quiet spells and wall-clock ticks. */
function events(seed: number, n: number): Event[] {
  const random = seededRandom(seed);
  const out: Event[] = [];
  let now = 1_795_428_000_000;
  for (let i = 0; i < n; i++) {
    now += Math.floor(random() * 40) + (random() < 0.01 ? 3_000 : 0);
    const sensor = ['a/1', 'a/2', 'a/3', 'b/1', 'b/2', 'c', 'd/1', 'd/2', 'e', 'f/1'][Math.floor(random() * 10)]!;
    const ts = now - Math.floor(random() * 500);
    out.push({ reading: { sensor, ts, value: (random() - 0.5) * 4 + (random() < 0.02 ? 20 : 0), receivedAt: now } });
    if (random() < 0.05) out.push({ tick: now });
  }
  return out;
}

function run(stream: ReturnType<typeof createStream>, evs: Event[], out: StreamOutput[]): void {
  for (const e of evs) {
    if ('tick' in e) stream.tick(e.tick, out);
    else stream.ingest(e.reading, out);
  }
}

describe('stream checkpoints', () => {
  it.each([1, 2, 3, 4, 5])('restore at a random point continues exactly (seed %i)', (seed) => {
    const evs = events(seed, 4_000);
    const whole: StreamOutput[] = [];
    run(createStream(SPECS), evs, whole);

    const cut = Math.floor(seededRandom(seed * 7)() * evs.length);
    const resumed: StreamOutput[] = [];
    const first = createStream(SPECS);
    run(first, evs.slice(0, cut), resumed);
    const saved = JSON.parse(JSON.stringify(first.save())) as SavedStream;
    run(createStream(SPECS, saved), evs.slice(cut), resumed);

    expect(whole.length).toBeGreaterThan(100);
    expect(whole.some((o) => o.kind === 'anomaly')).toBe(true);
    const a = JSON.parse(JSON.stringify(resumed)) as unknown[];
    const b = JSON.parse(JSON.stringify(whole)) as unknown[];
    expect(a).toEqual(b);
  });

  it('a changed pipeline starts empty; unchanged ones keep their state', () => {
    const s = createStream(SPECS);
    const out: StreamOutput[] = [];
    s.ingest({ sensor: 'a/1', ts: 1_000, value: 1, receivedAt: 1_000 }, out);
    s.ingest({ sensor: 'c', ts: 1_000, value: 1, receivedAt: 1_000 }, out);
    const changed = [{ ...SPECS[0]!, window: { size: 2_000, lateness: 300 } }, ...SPECS.slice(1)];
    const next = createStream(changed, s.save());
    expect(next.openWindows()).toBe(1); // c's session came along, a/1's window did not
  });

  it('keeps a pipeline\'s state when only when-to-speak options change (a threshold, a warm-up, an upgrade\'s defaults), or a group detector is added; and reads checkpoints of the old fingerprint', () => {
    const novelty = (minSamples: number, learnFor: number, threshold = 0.5): DetectorSpec => ({ type: 'novelty', threshold, minSamples, learnFor, daily: true, halfLife: 86_400, rareWeight: 1, extremeMargin: 0.2, cooldown: 20, severity: 'warning' });
    const spec = (d: DetectorSpec[]): PipelineSpec => ({ match: ['p/*'], window: { type: 'tumbling', size: 60_000, lateness: 0 }, aggregates: ['count', 'mean'], detectors: d });
    const before = spec([novelty(100, 86_400_000)]);
    const s = createStream([before]);
    for (let i = 0; i < 150; i++) s.ingest({ sensor: 'p/x', ts: 1_000 + i * 100, value: i % 7, receivedAt: 1_000 + i * 100 }, []);
    const saved = s.save();
    const progress = (st: ReturnType<typeof createStream>) => st.learning(5);
    const { halfLife: _h, rareWeight: _r, extremeMargin: _m, ...olderNovelty } = novelty(100, 86_400_000) as Extract<DetectorSpec, { type: 'novelty' }>;
    const older = spec([olderNovelty as DetectorSpec]); // a checkpoint's spec from before those options
    for (const after of [spec([novelty(200, 0)]), spec([novelty(100, 86_400_000, 0.7)]), spec([{ ...novelty(100, 86_400_000), halfLife: 5000, rareWeight: 0.1, extremeMargin: 0.5 } as DetectorSpec]), spec([novelty(100, 86_400_000), { type: 'multivariate', group: 'p/*', every: 10_000, alpha: 0.002, minRows: 60, maxSensors: 8, regimes: 1, threshold: 0.5, cooldown: 30, severity: 'warning' }])]) {
      const next = createStream([after], JSON.parse(JSON.stringify(saved)) as typeof saved);
      expect(next.openWindows()).toBe(1);
      expect(next.learning(5).detectors).toBeGreaterThanOrEqual(1); // p/x's novelty came along
    }
    // A checkpoint from before halfLife, rareWeight and extremeMargin existed: its state comes along.
    const fromOlder = createStream([older]);
    for (let i = 0; i < 150; i++) fromOlder.ingest({ sensor: 'p/x', ts: 1_000 + i * 100, value: i % 7, receivedAt: 1_000 + i * 100 }, []);
    expect(createStream([before], JSON.parse(JSON.stringify(fromOlder.save())) as typeof saved).openWindows()).toBe(1);
    // A checkpoint written before (its fingerprint: the whole spec, JSON) is still recognised by
    // the stream recovery rebuilds from the checkpoint's own specs, and handed over from there.
    const old = JSON.parse(JSON.stringify(saved)) as typeof saved;
    old.pipelines[0]!.fingerprint = JSON.stringify({ match: before.match, window: { type: 'tumbling', size: 60_000, lateness: 0 }, aggregates: before.aggregates, detectors: before.detectors });
    const replayed = createStream([before], old);
    expect(replayed.openWindows()).toBe(1);
    const upgraded = createStream([spec([novelty(200, 0)])], replayed.save());
    expect(upgraded.openWindows()).toBe(1);
    expect(progress(upgraded).least[0]).toMatchObject({ sensor: 'p/x', detector: 'novelty', progress: 0.75 }); // 150 of the new 200
    // A change of what is learned (a window size) still starts the pipeline empty.
    expect(createStream([{ ...spec([novelty(200, 0)]), window: { type: 'tumbling', size: 120_000, lateness: 0 } }], saved).openWindows()).toBe(0);
  });

  it('takes over a checkpoint whose fingerprint the previous release wrote, with options that count as judgement only now (ewma lambda, cusum h and k)', () => {
    const spec = pipelineSchema.parse({ match: ['plant/**'], window: { type: 'tumbling', size: '60s' }, detectors: [{ type: 'ewma' }, { type: 'cusum' }, { type: 'novelty' }] }) as PipelineSpec;
    const s = createStream([spec]);
    for (let i = 0; i < 3000; i++) s.ingest({ sensor: 'plant/t', ts: 1.7e12 + i * 1000, value: 20 + Math.sin(i), receivedAt: 1.7e12 + i * 1000 }, []);
    const saved = JSON.parse(JSON.stringify(s.save())) as SavedStream;
    // Exactly what 864a7b5 (2026-11-30) wrote for this config, key order and all.
    saved.pipelines[0]!.fingerprint = '{"match":["plant/**"],"window":{"type":"tumbling","size":60000,"lateness":0},"aggregates":["count","min","max","mean","stddev","first","last"],"detectors":[{"type":"ewma","lambda":0.2,"alpha":0.01},{"type":"cusum","k":0.5,"h":8,"alpha":0.01},{"type":"novelty","daily":true}],"v":2}';
    const after = createStream([spec], saved);
    expect(after.openWindows()).toBe(1);
    expect(after.save().pipelines[0]!.detectors).toHaveLength(1);
    // a real change (another alpha) still starts afresh
    saved.pipelines[0]!.fingerprint = saved.pipelines[0]!.fingerprint.replace('"alpha":0.01}', '"alpha":0.02}');
    expect(createStream([spec], saved).openWindows()).toBe(0);
  });

  it('tick reports whether it changed anything', () => {
    const s = createStream(SPECS);
    const out: StreamOutput[] = [];
    s.ingest({ sensor: 'e', ts: 1_000, value: 1, receivedAt: 1_000 }, out);
    expect(s.tick(2_000, out)).toBe(false);
    expect(s.tick(6_000, out)).toBe(true);
    expect(out).toHaveLength(1);
  });
});
