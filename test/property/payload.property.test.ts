// Generated input for everything that takes bytes or numbers from a sensor: payload parsing in
// every format, sensor ids, topic filters and admission. The invariant is always the same:
// nothing throws, every reading that comes out is finite and bounded, every problem is one of
// the documented reasons with a bounded detail.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parsePayload, MAX_JSON_DEPTH, type PayloadFormat, type ParseResult } from '../../src/sources/mqtt/payload.js';
import { REJECT_REASONS } from '../../src/stream/rejection.js';
import { createAdmission, MAX_ABS_VALUE } from '../../src/stream/admission.js';
import { isValidSensorId } from '../../src/stream/sensor-id.js';
import { topicMatches, sensorIdFromTopic, literalPrefix } from '../../src/stream/topic-filter.js';
import { summarize } from '../../src/sources/mqtt/mqtt-source.js';
import { fuzzParams } from '../helpers/fuzz.js';

const NOW = Date.parse('2026-11-29T12:00:00.000Z');
const FLOOR = Date.parse('2026-11-01T00:00:00Z');
const HORIZON = 3650 * 86_400_000;
const FORMATS: PayloadFormat[] = ['auto', 'number', 'json', 'senml', 'fields'];
const RELATIVE_S = 2 ** 28;

const parse = (payload: Uint8Array, format: PayloadFormat, receivedAt = NOW): ParseResult =>
  parsePayload(payload, { sensor: 'fz/s', receivedAt, format, maxBytes: 16_384, time: { floor: FLOOR, horizon: HORIZON } });

/** The contract of every parse result, whatever the input. */
function wellFormed(r: ParseResult, receivedAt = NOW): void {
  for (const x of r.readings) {
    expect(Number.isFinite(x.value)).toBe(true);
    expect(Number.isFinite(x.ts)).toBe(true);
    expect(Number.isInteger(x.ts)).toBe(true);
    // Absolute times are bounded by the floor and the horizon; relative ones by 2^28 s either way.
    if (!x.stamped) {
      expect(x.ts).toBeGreaterThanOrEqual(FLOOR);
      expect(x.ts).toBeLessThanOrEqual(Math.max(receivedAt, FLOOR) + HORIZON);
    } else expect(Math.abs(x.ts - receivedAt)).toBeLessThanOrEqual(RELATIVE_S * 1000);
    expect(() => new Date(x.ts).toISOString()).not.toThrow();
    expect(typeof x.sensor).toBe('string');
  }
  for (const p of r.problems) {
    expect(REJECT_REASONS).toContain(p.reason);
    expect(p.detail.length).toBeLessThan(500);
  }
}

const extremeDouble = fc.oneof(
  fc.double(),
  fc.constantFrom(1e16, -1e16, 1e300, -1e300, 8.64e15, 8.64e15 + 1, -8.64e15 - 1, 2 ** 28, -(2 ** 28) - 1, 1e11, 0, -0, 5e-324, Number.MAX_VALUE),
  fc.integer({ min: FLOOR - 1e9, max: NOW + 1e12 }),
);
/** A JSON number text, including ones JSON.parse turns into Infinity. */
const numberText = fc.oneof(extremeDouble.filter(Number.isFinite).map(String), fc.constantFrom('1e999', '-1e999', '1e-999'));

const senmlRecord = fc.record(
  {
    bn: fc.oneof(fc.string({ maxLength: 8 }), fc.constant('a/'), fc.integer()),
    bt: numberText,
    bv: numberText,
    bu: fc.string({ maxLength: 4 }),
    n: fc.oneof(fc.string({ maxLength: 8 }), fc.constant('../..'), fc.constant('x/+/#')),
    v: fc.oneof(numberText, fc.constant('"1"'), fc.constant('null'), fc.constant('[1]')),
    t: numberText,
    vs: fc.constant('"s"'),
  },
  { requiredKeys: [] },
);
const senmlText = fc.array(senmlRecord, { maxLength: 20 }).map(
  (recs) =>
    `[${recs
      .map((r) => `{${Object.entries(r).map(([k, v]) => `${JSON.stringify(k)}:${typeof v === 'string' && (k === 'bn' || k === 'bu' || k === 'n') ? JSON.stringify(v) : String(v)}`).join(',')}}`)
      .join(',')}]`,
);
const objectText = fc
  .record({ value: fc.oneof(numberText, fc.constant('"21.5"'), fc.constant('{"valueOf":1}'), fc.constant('true')), ts: fc.oneof(numberText, fc.constant('"9999-12-31T23:59:59Z"'), fc.constant('"+275760-09-13T00:00:00.001Z"'), fc.date({ noInvalidDate: true }).map((d) => JSON.stringify(d.toISOString()))) }, { requiredKeys: [] })
  .map((r) => `{${Object.entries(r).map(([k, v]) => `"${k}":${v}`).join(',')}}`);

describe('property: payload parsing', () => {
  it('arbitrary bytes in any format never throw and give well-formed results', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.constantFrom(...FORMATS), (bytes, format) => wellFormed(parse(bytes, format))),
      fuzzParams(400),
    );
  });
  it('arbitrary JSON documents never throw', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), fc.constantFrom(...FORMATS), (doc, format) => wellFormed(parse(Buffer.from(JSON.stringify(doc) ?? 'null'), format))),
      fuzzParams(300),
    );
  });
  it('JSON objects with extreme values and timestamps: bounded or refused', () => {
    fc.assert(
      fc.property(objectText, fc.integer({ min: 0, max: NOW + 1e12 }), (text, receivedAt) => wellFormed(parse(Buffer.from(text), 'auto', receivedAt), receivedAt)),
      fuzzParams(400),
    );
  });
  it('SenML packs with extreme base and record fields: bounded or refused, one outcome per record at most', () => {
    fc.assert(
      fc.property(senmlText, (text) => {
        const r = parse(Buffer.from(text), 'senml');
        wellFormed(r);
        const records = (JSON.parse(text) as unknown[]).length;
        expect(r.readings.length + r.problems.length).toBeLessThanOrEqual(Math.max(1, records));
      }),
      fuzzParams(400),
    );
  });
  it('nesting of any depth is refused before anything walks it', () => {
    fc.assert(
      fc.property(fc.integer({ min: MAX_JSON_DEPTH + 1, max: 50_000 }), fc.constantFrom('[', '{"a":'), fc.constantFrom<PayloadFormat>('auto', 'json', 'senml'), (depth, open, format) => {
        const close = open === '[' ? ']' : '}';
        const text = `{"value":${open.repeat(depth)}1${close.repeat(depth)}}`.slice(0, 16_000);
        const r = parse(Buffer.from(text), format);
        expect(r.readings).toEqual([]);
        wellFormed(r);
      }),
      fuzzParams(30),
    );
  });
  it('a finite value with a plausible timestamp comes back exactly', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }).map((v) => v + 0 /* JSON has no -0 */), fc.integer({ min: FLOOR, max: NOW + 86_400_000 }), (value, ts) => {
        const r = parse(Buffer.from(JSON.stringify({ value, ts })), 'auto');
        expect(r.problems).toEqual([]);
        expect(r.readings).toEqual([{ sensor: 'fz/s', ts, value, receivedAt: NOW }]);
      }),
      fuzzParams(300),
    );
  });
  it('many problems in one message sum up to one, with a bounded detail', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5000 }), (n) => {
        const r = parse(Buffer.from(JSON.stringify(Array.from({ length: n }, () => ({})))), 'senml');
        expect(r.problems.length).toBe(n);
        const one = summarize(r.problems);
        expect(one.detail.length).toBeLessThan(600);
      }),
      fuzzParams(20),
    );
  });
});

describe('property: sensor ids and topic filters', () => {
  it('a valid sensor id is a clean MQTT topic: no wildcards, no empty levels', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (id) => {
        if (!isValidSensorId(id)) return;
        expect(/[+#]/.test(id) || id.includes(String.fromCharCode(0))).toBe(false);
        expect(id.split('/').every((l) => l.length > 0)).toBe(true);
      }),
      fuzzParams(500),
    );
  });
  it('topic matching never throws; # matches everything; a prefix/# filter strips the prefix', () => {
    const level = fc.stringMatching(/^[a-z0-9+#$]{0,4}$/);
    const topic = fc.array(level, { minLength: 1, maxLength: 6 }).map((l) => l.join('/'));
    fc.assert(
      fc.property(topic, topic, (filter, t) => {
        expect(typeof topicMatches(filter, t)).toBe('boolean');
        expect(topicMatches('#', t)).toBe(true);
        expect(typeof literalPrefix(filter)).toBe('string');
        const plain = t.replace(/[+#]/g, 'x');
        expect(sensorIdFromTopic('sensors/#', `sensors/${plain}`)).toBe(plain);
        expect(topicMatches(plain, plain)).toBe(true);
      }),
      fuzzParams(500),
    );
  });
});

describe('property: admission', () => {
  it('never throws; what it admits is finite, in range, valid, and within the clock bounds', () => {
    const a = createAdmission({ maxSensorIdLength: 32, maxSensors: 50, maxFutureSkew: 300_000, floor: FLOOR });
    fc.assert(
      fc.property(
        fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom('a/b', 'x', 'a//b', '#', 'a/+')),
        fc.oneof(extremeDouble, fc.constantFrom(NaN, Infinity, -Infinity)),
        fc.oneof(extremeDouble, fc.constantFrom(NaN, Infinity)),
        fc.boolean(),
        (sensor, ts, value, trusted) => {
          const p = a.check({ sensor, ts, value, receivedAt: NOW }, trusted ? NOW : Infinity);
          if (p) {
            expect(REJECT_REASONS).toContain(p.reason);
            return;
          }
          expect(Number.isFinite(ts) && Number.isFinite(value)).toBe(true);
          expect(Math.abs(value)).toBeLessThanOrEqual(MAX_ABS_VALUE);
          expect(isValidSensorId(sensor)).toBe(true);
          expect(ts).toBeGreaterThanOrEqual(FLOOR);
          if (trusted) expect(ts).toBeLessThanOrEqual(NOW + 300_000);
        },
      ),
      fuzzParams(1000),
    );
    expect(a.knownSensors()).toBeLessThanOrEqual(50);
  });
});
