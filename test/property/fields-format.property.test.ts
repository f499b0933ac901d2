// `format: fields` with generated JSON: parsing never throws; every leaf with a numeric meaning
// becomes exactly one reading of <base>/<its path> with that value, unless its path is excluded
// or a time field; excluded paths never do; text is skipped and counted, never a dead letter.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parsePayload } from '../../src/sources/mqtt/payload.js';
import { parseFields } from '../../src/sources/mqtt/fields-format.js';
import { scalarValue, stateWords } from '../../src/sources/mqtt/scalar-value.js';
import { compileGlobs } from '../../src/stream/glob.js';
import { sensorIdProblem } from '../../src/stream/sensor-id.js';
import { fuzzParams } from '../helpers/fuzz.js';

const NOW = Date.parse('2026-11-29T12:00:00.000Z');
const TIME = { floor: Date.parse('2026-11-01T00:00:00Z'), horizon: 3650 * 86_400_000 };
const STATES = stateWords();
const TIME_FIELDS = ['ts', 'time'];

// Keys as firmwares write them, plus the ones a sensor id cannot hold.
const key = fc.oneof(
  fc.constantFrom('temperature', 'humidity', 'AM2301', 'DS18B20-1', 'temperature:0', 'tC', 'Wifi', 'RSSI', 'state', 'ts', 'time', 'Küche', 'a b'),
  fc.string({ maxLength: 6 }),
);
const leaf = fc.oneof(fc.double(), fc.integer(), fc.boolean(), fc.constant(null), fc.constantFrom('ON', 'off', 'Open', '45.2', ' 7 ', 'nan', 'idle', ''), fc.string({ maxLength: 8 }));
const doc = fc.letrec((tie) => ({
  node: fc.oneof({ depthSize: 'small', maxDepth: 5 }, leaf, fc.array(tie('node'), { maxLength: 4 }), fc.dictionary(key, tie('node'), { maxKeys: 5 })),
})).node;

/** The oracle: leaves by path, walked independently of the parser. */
function leaves(node: unknown, path: string[] = [], out: Array<{ path: string[]; value: unknown }> = []) {
  if (node !== null && typeof node === 'object') {
    for (const [k, v] of Array.isArray(node) ? node.map((x, i) => [String(i), x] as const) : Object.entries(node)) leaves(v, [...path, k], out);
  } else out.push({ path, value: node });
  return out;
}
const badKey = (k: string) => k.includes('/') || sensorIdProblem(k) !== undefined;

const hasBadKey = (node: unknown): boolean =>
  node !== null && typeof node === 'object' && (Array.isArray(node) ? node.some(hasBadKey) : Object.entries(node).some(([k, v]) => badKey(k) || hasBadKey(v)));

describe('format: fields (generated JSON)', () => {
  it('never throws on arbitrary bytes or text', () => {
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 300 }), fc.string({ maxLength: 300 }).map((s) => new TextEncoder().encode(s))), (bytes) => {
        const r = parsePayload(bytes, { sensor: 's', receivedAt: NOW, format: 'fields', maxBytes: 16_384, time: TIME });
        for (const x of r.readings) expect(Number.isFinite(x.value)).toBe(true);
      }),
      fuzzParams(400),
    );
  });

  it('every numeric leaf becomes exactly one reading; excluded paths and time fields never do', () => {
    fc.assert(
      fc.property(doc, fc.array(key, { maxLength: 2 }), (d, excludedKeys) => {
        const exclude = excludedKeys.filter((k) => !badKey(k) && !/[*?]/.test(k)).map((k) => `**/${k}`).concat(excludedKeys.filter((k) => !badKey(k) && !/[*?]/.test(k)));
        const excluded = exclude.length > 0 ? compileGlobs(exclude) : () => false;
        const r = parseFields(d, 'dev', NOW, { states: STATES, keep: (p) => !excluded(p), timeFields: TIME_FIELDS, time: TIME });
        if (d === null || typeof d !== 'object') {
          const v = scalarValue(d, STATES);
          expect(r.readings.map((x) => x.value)).toEqual(v === undefined ? [] : [v]);
          return;
        }
        const expected: Array<[string, number]> = [];
        let bad = 0;
        for (const { path, value } of leaves(d)) {
          const badAt = path.findIndex(badKey);
          const p = path.join('/');
          if (badAt >= 0) {
            bad++;
            continue;
          }
          // A time field is never a reading, nor anything under it (an object where a time should be).
          if (TIME_FIELDS.some((t) => p === t || p.startsWith(`${t}/`)) || excluded(p)) continue;
          const v = scalarValue(value, STATES);
          if (v !== undefined) expected.push([`dev/${p}`, v]);
        }
        expect(r.readings.map((x) => [x.sensor, x.value])).toEqual(expected);
        for (const x of r.readings) {
          expect(excluded(x.sensor.slice(4))).toBe(false);
          expect(Number.isFinite(x.value)).toBe(true);
        }
        // Text is skipped, not a problem; only keys that cannot form an id are problems.
        expect(r.problems.every((p) => p.reason === 'bad-sensor-id')).toBe(true);
        if (bad === 0 && !hasBadKey(d)) expect(r.problems).toEqual([]);
      }),
      fuzzParams(300),
    );
  });
});
