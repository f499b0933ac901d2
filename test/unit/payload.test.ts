import { describe, expect, it } from 'vitest';
import { parsePayload, type PayloadFormat } from '../../src/sources/mqtt/payload.js';

const NOW = Date.parse('2026-11-22T10:00:30.000Z');
const parse = (text: string | Uint8Array, format: PayloadFormat = 'auto', sensor = 'greenhouse/temp1', maxBytes = 16_384) =>
  parsePayload(typeof text === 'string' ? Buffer.from(text) : text, { sensor, receivedAt: NOW, format, maxBytes });

describe('payload: bare number', () => {
  it('takes the receive time', () => {
    expect(parse('21.5')).toEqual({ readings: [{ sensor: 'greenhouse/temp1', ts: NOW, value: 21.5, receivedAt: NOW, stamped: true }], problems: [] });
    expect(parse(' -3e2\n').readings[0]!.value).toBe(-300);
  });
  it.each([
    ['', 'not-a-number'],
    ['abc', 'not-a-number'],
    ['0x10', 'not-a-number'],
    ['21.5 C', 'not-a-number'],
    ['NaN', 'non-finite'],
    ['Infinity', 'non-finite'],
    ['1e999', 'non-finite'],
  ])('rejects %j as %s', (text, reason) => {
    const r = parse(text);
    expect(r.readings).toEqual([]);
    expect(r.problems).toEqual([expect.objectContaining({ reason })]);
  });
});

describe('payload: JSON object', () => {
  it('reads value, ts (ms or ISO), unit and seq', () => {
    expect(parse('{"value": 21.5, "ts": 1795428000000, "unit": "Cel", "seq": 42}').readings).toEqual([
      { sensor: 'greenhouse/temp1', ts: 1795428000000, value: 21.5, unit: 'Cel', seq: 42, receivedAt: NOW },
    ]);
    expect(parse('{"value": 1, "ts": "2026-11-22T10:00:00.250Z"}').readings[0]!.ts).toBe(Date.parse('2026-11-22T10:00:00.250Z'));
    expect(parse('{"value": 1, "ts": "2026-11-22T11:00:00+01:00"}').readings[0]!.ts).toBe(Date.parse('2026-11-22T10:00:00Z'));
    expect(parse('{"value": 1}').readings[0]!.ts).toBe(NOW);
  });
  it.each([
    ['{"value": 21.5', 'bad-json'],
    ['{"temp": 21.5}', 'not-a-number'],
    ['{"value": "21.5"}', 'not-a-number'],
    ['{"value": 1, "ts": 1795428000}', 'bad-timestamp'],
    ['{"value": 1, "ts": "yesterday"}', 'bad-timestamp'],
    ['{"value": 1, "ts": "2026-11-22T10:00:00"}', 'bad-timestamp'],
  ])('rejects %s as %s', (text, reason) => {
    const r = parse(text);
    expect(r.readings).toEqual([]);
    expect(r.problems).toEqual([expect.objectContaining({ reason })]);
  });
  it('explains epoch seconds sent by mistake', () => {
    expect(parse('{"value": 1, "ts": 1795428000}').problems[0]!.detail).toMatch(/looks like epoch seconds/);
  });
  it('rejects an array in json format and an object in number format', () => {
    expect(parse('[1]', 'json').problems[0]!.reason).toBe('bad-format');
    expect(parse('{"value": 1}', 'number').problems[0]!.reason).toBe('not-a-number');
  });
});

describe('payload: SenML pack (RFC 8428)', () => {
  it('resolves base name, base time (seconds), base unit and relative times', () => {
    const pack = JSON.stringify([
      { bn: 'node1/', bt: 1795428000, bu: 'Cel', n: 'temp', v: 21.5 },
      { n: 'temp', t: 10, v: 21.7 },
      { n: 'hum', u: '%RH', v: 60 },
    ]);
    expect(parse(pack, 'auto', 'site').readings).toEqual([
      { sensor: 'site/node1/temp', ts: 1795428000000, value: 21.5, unit: 'Cel', receivedAt: NOW },
      { sensor: 'site/node1/temp', ts: 1795428010000, value: 21.7, unit: 'Cel', receivedAt: NOW },
      { sensor: 'site/node1/hum', ts: 1795428000000, value: 60, unit: '%RH', receivedAt: NOW },
    ]);
  });
  it('treats times below 2^28 as relative to now, and no time as now', () => {
    const r = parse('[{"n":"a","v":1,"t":-5},{"n":"b","v":2}]', 'senml', '');
    expect(r.readings.map((x) => [x.sensor, x.ts])).toEqual([['a', NOW - 5000], ['b', NOW]]);
  });
  it('keeps the good records and reports each bad one', () => {
    const r = parse('[{"n":"a","v":1},{"n":"b","vs":"on"},7,{"n":"c"},{"n":"d","v":"x"}]', 'auto', 's');
    expect(r.readings.map((x) => x.sensor)).toEqual(['s/a']);
    expect(r.problems.map((p) => p.reason)).toEqual(['not-a-number', 'bad-senml', 'bad-senml', 'not-a-number']);
  });
  it('rejects an empty pack', () => {
    expect(parse('[]').problems[0]!.reason).toBe('bad-senml');
  });
});

describe('payload: limits', () => {
  it('rejects an oversized payload before parsing it', () => {
    const r = parse('1'.repeat(100), 'auto', 's', 64);
    expect(r.problems).toEqual([{ reason: 'payload-too-large', detail: 'payload is 100 bytes; limits.maxPayloadBytes is 64' }]);
  });
  it('rejects bytes that are not UTF-8', () => {
    expect(parse(new Uint8Array([0xff, 0xfe, 0x31])).problems[0]!.reason).toBe('bad-format');
  });
});
