// Bounded state: a sensor silent for longer than limits.sensorIdleTtl has its open windows sent
// as partial summaries and its window, detector and admission state dropped, so a flood of
// one-off ids cannot keep maxSensors full (before: every new real sensor was refused until a
// restart) and state stays bounded by maxSensors times a per-sensor cost.
import { describe, expect, it } from 'vitest';
import { createStream, type PipelineSpec, type StreamOutput } from '../../src/stream/stream.js';
import { createAdmission } from '../../src/stream/admission.js';

const T0 = Date.parse('2026-11-29T12:00:00Z');
const TTL = 60_000;
const SPECS: PipelineSpec[] = [
  { match: ['c/*'], window: { type: 'count', size: 10 }, aggregates: ['count', 'mean'], detectors: [] },
  { match: ['**'], window: { size: 1_000, lateness: 0 }, aggregates: ['count', 'mean'], detectors: [{ type: 'zscore', threshold: 3, window: 50, minSamples: 10, cooldown: 1, severity: 'warning' }] },
];

describe('idle sensors', () => {
  it('are flushed and forgotten after the TTL; busy ones are kept', () => {
    const stream = createStream(SPECS, undefined, { idleTtlMs: TTL });
    const out: StreamOutput[] = [];
    for (let i = 0; i < 5_000; i++) stream.ingest({ sensor: `flood/${i}`, ts: T0, value: i, receivedAt: T0 }, out);
    stream.ingest({ sensor: 'c/counter', ts: T0, value: 1, receivedAt: T0 }, out);
    expect(stream.sensors()).toBe(5_001);
    stream.tick(T0 + TTL, out);
    expect(stream.sensors()).toBe(5_001); // not idle yet
    // One real sensor keeps reading; the flood never comes back.
    for (let t = 1; t <= 3; t++) stream.ingest({ sensor: 'real/temp', ts: T0 + t * 30_000, value: 20, receivedAt: T0 + t * 30_000 }, out);
    out.length = 0;
    expect(stream.tick(T0 + TTL + 1, out)).toBe(true); // a state change: journaled, replayed alike
    expect(stream.sensors()).toBe(1);
    // The count window of the counter was open: it went out partial. The flood's 1 s windows had closed already.
    expect(out.filter((o) => o.kind === 'summary' && o.partial).map((o) => o.sensor)).toEqual(['c/counter']);
    const saved = stream.save();
    expect(JSON.stringify(saved.pipelines)).not.toContain('flood/');
    expect(JSON.stringify(saved.pipelines)).toContain('real/temp');
    // What is left of them: when their reported windows end (bounded in number), so a late backlog is not summarized twice.
    expect(saved.tombstones!.length).toBe(5_000);
  });

  it('a restored stream evicts at the same tick as the one that kept running (exact replay)', () => {
    const a = createStream(SPECS, undefined, { idleTtlMs: TTL });
    const outA: StreamOutput[] = [];
    for (let i = 0; i < 20; i++) a.ingest({ sensor: `s/${i % 4}`, ts: T0 + i * 10_000, value: i, receivedAt: T0 + i * 10_000 }, outA);
    const b = createStream(SPECS, JSON.parse(JSON.stringify(a.save())));
    const outB: StreamOutput[] = [];
    for (const now of [T0 + 250_000, T0 + 300_000, T0 + 400_000]) {
      a.tick(now, outA);
      b.tick(now, outB);
    }
    expect(outB).toEqual(outA.slice(outA.length - outB.length));
    expect(b.sensors()).toBe(a.sensors());
    expect(a.sensors()).toBe(0);
  });

  it('admission forgets them too: maxSensors frees up', () => {
    const admission = createAdmission({ maxSensorIdLength: 100, maxSensors: 5_000, maxFutureSkew: 60_000, floor: 0, sensorIdleTtl: TTL });
    for (let i = 0; i < 5_000; i++) expect(admission.check({ sensor: `flood/${i}`, ts: T0, value: 1, receivedAt: T0 }, T0)).toBeUndefined();
    expect(admission.check({ sensor: 'real/temp', ts: T0, value: 1, receivedAt: T0 }, T0)?.reason).toBe('too-many-sensors');
    expect(admission.forgetIdle(T0 + TTL)).toBe(0);
    expect(admission.forgetIdle(T0 + TTL + 1)).toBe(5_000);
    expect(admission.check({ sensor: 'real/temp', ts: T0 + TTL + 1, value: 1, receivedAt: T0 + TTL + 1 }, T0 + TTL + 1)).toBeUndefined();
    expect(admission.knownSensors()).toBe(1);
  });
});

describe('partial summaries at a stop', () => {
  it('a window flushed again with no reading of its sensor since is not reported twice (across a restart too)', () => {
    const stream = createStream(SPECS);
    const out: StreamOutput[] = [];
    stream.ingest({ sensor: 'a/1', ts: T0 + 100, value: 1, receivedAt: T0 + 100 }, out);
    stream.ingest({ sensor: 'b/1', ts: T0 + 100, value: 2, receivedAt: T0 + 100 }, out);
    stream.flush(out); // the first stop
    expect(out.map((o) => o.sensor).sort()).toEqual(['a/1', 'b/1']);
    // Restart from the checkpoint; only a/1 reads again before the next stop.
    const again = createStream(SPECS, JSON.parse(JSON.stringify(stream.save())));
    const out2: StreamOutput[] = [];
    again.ingest({ sensor: 'a/1', ts: T0 + 200, value: 3, receivedAt: T0 + 200 }, out2);
    again.flush(out2);
    expect(out2.map((o) => [o.sensor, o.kind === 'summary' && o.count])).toEqual([['a/1', 2]]);
    again.flush(out2);
    expect(out2).toHaveLength(1);
  });
});

describe('an evicted sensor that comes back with old readings', () => {
  it('does not get a window it already reported summarized a second time', () => {
    const H = 3_600_000;
    const D = 24 * H;
    const stream = createStream([{ match: ['**'], window: { size: H, lateness: 60_000 }, aggregates: ['count', 'mean'], detectors: [] }], undefined, { idleTtlMs: 7 * D });
    const out: StreamOutput[] = [];
    for (let i = 0; i < 10; i++) stream.ingest({ sensor: 'tank/1', ts: T0 + i * 60_000, value: i, receivedAt: T0 + i * 60_000 }, out);
    for (let now = T0 + H; now < T0 + 8 * D; now += 600_000) stream.tick(now, out); // its window closes; a week later it is evicted
    expect(stream.sensors()).toBe(0);
    // A buffered backlog: a reading from inside the window already reported, and one from a new hour.
    const restored = createStream([{ match: ['**'], window: { size: H, lateness: 60_000 }, aggregates: ['count', 'mean'], detectors: [] }], JSON.parse(JSON.stringify(stream.save())));
    expect(restored.ingest({ sensor: 'tank/1', ts: T0 + 30 * 60_000, value: 99, receivedAt: T0 + 8 * D }, out)).toBe('late');
    expect(restored.ingest({ sensor: 'tank/1', ts: T0 + 8 * D, value: 1, receivedAt: T0 + 8 * D }, out)).toBe('ok');
    for (let now = T0 + 8 * D; now < T0 + 8 * D + 3 * H; now += 600_000) restored.tick(now, out);
    const windows = out.filter((o) => o.kind === 'summary').map((o) => (o.kind === 'summary' ? `${o.start}` : ''));
    expect(new Set(windows).size).toBe(windows.length);
  });
});
