// `format: fields`: every value of a JSON document with a numeric meaning becomes a reading of
// `<base>/<field path>`, nested objects and lists flattened with "/" (Tasmota's
// {"AM2301":{"Temperature":21.4}} on sonoff-th -> sonoff-th/AM2301/Temperature). Numeric strings
// are numbers, booleans and state words 1/0 (scalar-value.ts); other values are skipped and
// counted, never dead-lettered. A time field stamps every reading of the message. Pure.
import type { Reading } from '../../stream/reading.js';
import type { Problem } from '../../stream/rejection.js';
import { scalarValue, type StateWords } from './scalar-value.js';
import { isZoneLess, zonedTime } from './local-time.js';
import { sensorIdProblem } from '../../stream/sensor-id.js';

export interface FieldsOptions {
  states: StateWords;
  /** Whether a field path is taken (include/exclude globs, resolved by the caller). */
  keep: (path: string) => boolean;
  /** Field paths that may hold the message's time, in order of preference; never readings. */
  timeFields: readonly string[];
  /** IANA zone for zone-less times; without one they are ignored (the receive time stamps). */
  timezone?: string;
  /**
   * Plausible event times: a time outside [floor, receivedAt + horizon] is ignored. With
   * `skewMs` (firmwares that stamp a message when they send it), so is one further than that
   * from the receive time: a wrong clock or timezone, not an old reading.
   */
  time: { floor: number; horizon: number; skewMs?: number };
}

export interface FieldsResult {
  readings: Reading[];
  problems: Problem[];
  /** Values without a numeric meaning (text, null), skipped. */
  skipped: number;
  /** A time field was there but unreadable, zone-less without a timezone, or implausible. */
  untimed: number;
}

export const DEFAULT_TIME_FIELDS = ['ts', 'time', 'Time', 'timestamp', 'last_seen'] as const;

/** Readings one message may give; past this the rest is one problem (a 16 KB list of 8,000 numbers is no device). */
export const MAX_FIELDS = 1000;
/** Longer field paths are refused before any glob sees them. */
const MAX_PATH = 1024;
const NUMERIC_RE = /^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/;
const ZONED_RE = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/;
/** Epoch numbers below this are seconds (as ms they would be before 1973-03-03). */
const SECONDS_BELOW = 1e11;

export function parseFields(doc: unknown, base: string, receivedAt: number, o: FieldsOptions): FieldsResult {
  const out: FieldsResult = { readings: [], problems: [], skipped: 0, untimed: 0 };
  let ts = receivedAt;
  let stamped = true;
  // Every time field is left out of the readings, the one used and any other (Tasmota's Epoch
  // beside Time).
  const timePaths = new Set<string>(o.timeFields);
  if (doc !== null && typeof doc === 'object') {
    for (const path of o.timeFields) {
      const raw = valueAt(doc, path);
      if (raw === undefined) continue;
      const t = fieldTime(raw, receivedAt, o);
      if (t === undefined) out.untimed++;
      else {
        ts = t;
        stamped = false;
      }
      break;
    }
  }
  let over = 0;
  const emit = (sensor: string, v: unknown) => {
    const value = scalarValue(v, o.states);
    if (value === undefined) {
      out.skipped++;
      return;
    }
    if (out.readings.length >= MAX_FIELDS) {
      over++;
      return;
    }
    const r: Reading = { sensor, ts, value, receivedAt };
    if (stamped) r.stamped = true;
    out.readings.push(r);
  };
  if (doc === null || typeof doc !== 'object') {
    emit(base, doc); // a bare value: the topic's own reading
    return out;
  }
  let badKeys = 0;
  let firstBad = '';
  // Depth is bounded before parsing (MAX_JSON_DEPTH), so recursion is safe here.
  const walk = (node: object, path: string) => {
    for (const [key, v] of Array.isArray(node) ? node.map((x, i) => [String(i), x] as const) : Object.entries(node)) {
      const p = path === '' ? key : `${path}/${key}`;
      if (timePaths.has(p)) continue;
      // A key is one level of an id: "/" inside one would make {"a/b":1} and {"a":{"b":2}} one sensor.
      // Paths past MAX_PATH are refused before a glob sees them; other bad keys only when taken.
      const badKey = key.includes('/') || sensorIdProblem(key) !== undefined;
      if (p.length > MAX_PATH || (badKey && o.keep(p))) {
        if (badKeys++ === 0) firstBad = p.slice(0, 80);
        continue;
      }
      if (badKey) continue;
      if (v !== null && typeof v === 'object') walk(v, p);
      else if (o.keep(p)) emit(base === '' ? p : `${base}/${p}`, v);
    }
  };
  walk(doc, '');
  if (badKeys > 0) out.problems.push({ reason: 'bad-sensor-id', detail: `field ${JSON.stringify(firstBad)}${badKeys > 1 ? ` and ${badKeys - 1} more` : ''} cannot be part of a sensor id (empty, "/", "+", "#", control characters, noncharacters, or over ${MAX_PATH} characters); the other fields were taken` });
  if (over > 0) out.problems.push({ reason: 'bad-format', detail: `${MAX_FIELDS + over} fields with values in one message: the first ${MAX_FIELDS} were taken` });
  return out;
}

/** The value at a "/"-separated path of plain object keys, or undefined. */
function valueAt(doc: object, path: string): unknown {
  let node: unknown = doc;
  for (const key of path.split('/')) {
    if (node === null || typeof node !== 'object' || Array.isArray(node) || !Object.hasOwn(node, key)) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

/** A time field as epoch ms, or undefined when it cannot be trusted. */
function fieldTime(raw: unknown, receivedAt: number, o: FieldsOptions): number | undefined {
  let ms: number | undefined;
  if (typeof raw === 'number' || (typeof raw === 'string' && NUMERIC_RE.test(raw))) {
    const n = Number(raw);
    if (Number.isFinite(n) && n > 0) ms = Math.round(n < SECONDS_BELOW ? n * 1000 : n);
  } else if (typeof raw === 'string') {
    if (ZONED_RE.test(raw)) ms = Date.parse(raw.replace(' ', 'T'));
    else if (o.timezone && isZoneLess(raw)) ms = zonedTime(raw, o.timezone);
  }
  if (ms === undefined || !Number.isFinite(ms)) return undefined;
  const latest = Math.max(receivedAt, o.time.floor) + o.time.horizon;
  if (ms < o.time.floor || ms > latest) return undefined;
  return o.time.skewMs !== undefined && Math.abs(ms - receivedAt) > o.time.skewMs ? undefined : ms;
}
