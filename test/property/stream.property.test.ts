// Generated reading sequences through the pure stream, the rendering of its outputs and the
// merging of stored summaries: no throw, outputs well-formed, counts add up.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createStream, type PipelineSpec, type StreamOutput, type Summary } from '../../src/stream/stream.js';
import { renderBody, wrapBody } from '../../src/wire/render.js';
import { parseStoredSummary, canMerge, mergeStored } from '../../src/wire/merge-stored.js';
import { saveSketch } from '../../src/stream/quantile-sketch.js';
import { MAX_ABS_VALUE } from '../../src/stream/admission.js';
import { fuzzParams } from '../helpers/fuzz.js';

const T0 = Date.parse('2026-11-29T12:00:00.000Z');
const SPECS: PipelineSpec[] = [
  {
    match: ['a/*'],
    window: { size: 1_000, lateness: 200 },
    aggregates: ['count', 'sum', 'min', 'max', 'mean', 'stddev', 'first', 'last', 'p50', 'p99'],
    detectors: [
      { type: 'threshold', min: -1e50, max: 1e50, severity: 'critical' },
      { type: 'zscore', threshold: 3, window: 20, minSamples: 5, cooldown: 1, severity: 'warning' },
    ],
  },
  { match: ['b'], window: { type: 'count', size: 5 }, aggregates: ['count', 'mean', 'min', 'max'], detectors: [{ type: 'cusum', k: 0.5, h: 8, alpha: 0.01, minSamples: 5, detrend: true, cooldown: 3, severity: 'warning' }] },
  { match: ['c'], window: { type: 'session', gap: 500, lateness: 100 }, aggregates: ['count', 'mean', 'stddev'], detectors: [{ type: 'novelty', threshold: 0.5, minSamples: 10, learnFor: 60_000, daily: true, halfLife: 1000, rareWeight: 0.5, extremeMargin: 0.2, cooldown: 5, severity: 'warning' }] },
];

// Admitted values: finite and within ±MAX_ABS_VALUE, with the extremes well represented.
const value = fc.oneof(
  fc.double({ min: -MAX_ABS_VALUE, max: MAX_ABS_VALUE, noNaN: true }),
  fc.constantFrom(MAX_ABS_VALUE, -MAX_ABS_VALUE, 0, -0, 5e-324, 1e-300),
  fc.integer({ min: -100, max: 100 }),
);
const event = fc.oneof(
  { weight: 8, arbitrary: fc.record({ sensor: fc.constantFrom('a/1', 'a/2', 'b', 'c', 'zz'), dt: fc.integer({ min: -800, max: 900 }), value }) },
  { weight: 1, arbitrary: fc.record({ tick: fc.integer({ min: 0, max: 3_000 }) }) },
);

function checkOutput(o: StreamOutput): void {
  const msg = JSON.parse(wrapBody('dev', 7, renderBody('dev', o))) as Record<string, unknown>;
  expect(msg.id).toBe('dev:7');
  for (const [k, v] of Object.entries(msg)) if (k !== 'partial' && k !== 'evidence') expect(v, k).not.toBeNull();
  if (o.kind === 'summary') {
    expect(o.count).toBeGreaterThan(0);
    expect(o.end).toBeGreaterThan(o.start);
    for (const [k, v] of Object.entries(o.values)) expect(Number.isFinite(v), `${k} = ${v}`).toBe(true);
    if (o.values.min !== undefined) expect(o.values.min).toBeLessThanOrEqual(o.values.max!);
  } else if (o.kind === 'anomaly') {
    expect(o.verdict.score).toBeGreaterThanOrEqual(0);
    expect(o.verdict.score).toBeLessThanOrEqual(1);
  } else {
    expect(['raised', 'cleared', 'online', 'offline']).toContain(o.state);
  }
}

describe('property: the stream', () => {
  it('arbitrary reading sequences: no throw, well-formed outputs, every counted reading summarized once', () => {
    fc.assert(
      fc.property(fc.array(event, { maxLength: 300 }), (events) => {
        const s = createStream(SPECS);
        const out: StreamOutput[] = [];
        let now = T0;
        const counted = new Map<string, number>();
        for (const e of events) {
          if ('tick' in e) {
            now += e.tick;
            s.tick(now, out);
            continue;
          }
          now += Math.max(0, e.dt);
          const outcome = s.ingest({ sensor: e.sensor, ts: now + Math.min(0, e.dt), value: e.value, receivedAt: now }, out);
          if (outcome === 'ok') counted.set(e.sensor, (counted.get(e.sensor) ?? 0) + 1);
        }
        s.flush(out);
        const summarized = new Map<string, number>();
        for (const o of out) {
          checkOutput(o);
          if (o.kind === 'summary') summarized.set(o.sensor, (summarized.get(o.sensor) ?? 0) + o.count);
        }
        // Tumbling, count and session windows partition the readings: counts add up exactly.
        for (const sensor of ['a/1', 'a/2', 'b', 'c']) expect(summarized.get(sensor) ?? 0, sensor).toBe(counted.get(sensor) ?? 0);
        expect(summarized.has('zz')).toBe(false);
        // The state survives JSON (a checkpoint) whatever the input was.
        expect(() => createStream(SPECS, JSON.parse(JSON.stringify(s.save())))).not.toThrow();
      }),
      fuzzParams(150),
    );
  });
});

describe('property: rendering and merging', () => {
  const summaryArb = fc.record({
    start: fc.integer({ min: T0, max: T0 + 1e9 }),
    len: fc.integer({ min: 1, max: 1e6 }),
    values: fc.array(value, { minLength: 1, maxLength: 30 }),
  });
  const toSummary = (a: { start: number; len: number; values: number[] }): Summary => {
    const s = createStream([{ match: ['x'], window: { size: 1e12, lateness: 0 }, aggregates: ['count', 'sum', 'min', 'max', 'mean', 'stddev', 'first', 'last', 'p50'], detectors: [] }]);
    const out: StreamOutput[] = [];
    a.values.forEach((v, i) => s.ingest({ sensor: 'x', ts: T0 + i, value: v, receivedAt: T0 + i }, out));
    s.flush(out);
    const sum = out[0] as Summary;
    return { ...sum, start: a.start, end: a.start + a.len, partial: false };
  };

  it('rendering never throws, whatever the numbers, and is valid JSON', () => {
    const num = fc.oneof(fc.double(), fc.constantFrom(NaN, Infinity, -Infinity, 1e16, -8.64e15 - 5));
    fc.assert(
      fc.property(num, num, num, fc.string({ maxLength: 20 }), (a, b, c, sensor) => {
        const sum: Summary = { kind: 'summary', sensor, start: a, end: b, count: 1, values: { mean: c, min: a, max: b }, late: 0, partial: false };
        JSON.parse(wrapBody('d', 1, renderBody('d', sum)));
        JSON.parse(wrapBody('d', 1, renderBody('d', { kind: 'anomaly', sensor, ts: a, value: c, verdict: { detector: 'threshold', severity: 'warning', score: 0.5, message: 'm', evidence: { x: b } } })));
      }),
      fuzzParams(300),
    );
  });

  it('merging two stored summaries adds counts and keeps min, max and the mean exact', () => {
    fc.assert(
      fc.property(summaryArb, summaryArb, (x, y) => {
        const a = toSummary(x);
        const b0 = toSummary(y);
        const stored = (s: Summary, seq: number) => ({ seq, payload: wrapBody('d', seq, renderBody('d', s)), sketch: s.sketch ? JSON.stringify(saveSketch(s.sketch)) : null });
        // Only a window that starts where the other ends merges: a gap between them never does.
        const gap = b0.start - T0;
        if (gap > 0) {
          const apart = { ...b0, start: a.end + gap, end: a.end + gap + (b0.end - b0.start) };
          expect(canMerge(parseStoredSummary(stored(a, 1))!, parseStoredSummary(stored(apart, 2))!)).toBe(false);
        }
        const b = { ...b0, start: a.end, end: a.end + (b0.end - b0.start) };
        const pa = parseStoredSummary(stored(a, 1))!;
        const pb = parseStoredSummary(stored(b, 2))!;
        expect(canMerge(pa, pb)).toBe(true);
        const m = JSON.parse(mergeStored('d', 1, pa, pb).payload) as Record<string, number> & { min: number; max: number };
        expect(m.count).toBe(a.count + b.count);
        expect(m.merged).toBe(2);
        expect(m.min + 0).toBe(Math.min(a.values.min!, b.values.min!) + 0); // -0 is 0 in JSON
        expect(m.max + 0).toBe(Math.max(a.values.max!, b.values.max!) + 0);
        expect(Number.isFinite(m.mean)).toBe(true);
        expect(Number.isFinite(m.stddev)).toBe(true);
      }),
      fuzzParams(150),
    );
  });
});
