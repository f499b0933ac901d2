// Ingest payloads (DESIGN.md): a bare value (a number, "45.2", a state word such as ON), a
// JSON object {"value","ts","unit","seq"}, a SenML pack (RFC 8428), or with `format: fields`
// any JSON document, each field a reading (fields-format.ts). Pure: bytes in, readings and
// problems out. A pack may yield both: its good records are kept and each bad one is reported
// on its own.
import type { Reading } from '../../stream/reading.js';
import type { Problem } from '../../stream/rejection.js';
import { iso, MAX_DATE_MS } from '../../stream/iso-time.js';
import { jsonDeeperThan } from '../../wire/json-depth.js';
import { scalarValue, stateWords, type StateWords } from './scalar-value.js';
import { parseFields, DEFAULT_TIME_FIELDS, type FieldsOptions } from './fields-format.js';

export type PayloadFormat = 'auto' | 'number' | 'json' | 'senml' | 'fields';

export interface ParseResult {
  readings: Reading[];
  problems: Problem[];
  /** `format: fields`: values without a numeric meaning, skipped (counted, not dead-lettered). */
  skipped?: number;
  /** `format: fields`: a time field that could not be used (the receive time stamped instead). */
  untimed?: number;
}

export interface ParseContext {
  /** Sensor id from the topic; SenML names are appended to it as further levels. */
  sensor: string;
  receivedAt: number;
  format: PayloadFormat;
  maxBytes: number;
  /**
   * Plausible event times (epoch ms): none before `floor` (this build's date), none later than
   * `horizon` ms past max(receivedAt, floor). Bounded here, at parse time, so no timestamp
   * that cannot be rendered (or that would poison a window for years) ever enters the stream,
   * even while the clock is untrusted and admission cannot check the future.
   */
  time?: { floor: number; horizon: number; skewMs?: number };
  /** State words for bare values and fields (default: on/off, open/closed, true/false, yes/no). */
  states?: StateWords;
  /** `format: fields`: which fields, and where the time is. */
  fields?: Omit<FieldsOptions, 'states' | 'time'>;
}

const DEFAULT_STATES = stateWords();
const ALL_FIELDS: Omit<FieldsOptions, 'states' | 'time'> = { keep: () => true, timeFields: DEFAULT_TIME_FIELDS };

/** Without a configured floor: epoch ms before 1973-03-03 are almost certainly epoch seconds. */
export const DEFAULT_TIME = { floor: 1e11, horizon: 10 * 365 * 86_400_000 };
/** Brackets deeper than this are refused before anything walks the document. */
export const MAX_JSON_DEPTH = 32;

const NUMBER_RE = /^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/;
const ISO_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/;
// Epoch milliseconds before 1973-03-03 are almost certainly epoch seconds sent by mistake.
const MIN_EPOCH_MS = 1e11;
// RFC 8428 section 4.5.3: SenML times below 2^28 are relative to now.
const SENML_RELATIVE_LIMIT = 2 ** 28;

const decoder = new TextDecoder('utf-8', { fatal: true });

export function parsePayload(payload: Uint8Array, ctx: ParseContext): ParseResult {
  const read = readText(payload, ctx.maxBytes);
  if (typeof read !== 'string') return read;
  const text = read;
  const lead = text.trimStart()[0];
  const format = ctx.format !== 'auto' ? ctx.format : lead === '[' ? 'senml' : lead === '{' ? 'json' : 'number';
  if (format === 'number') return parseNumber(text, ctx);
  const doc = readDocument(text, format === 'fields');
  if ('problems' in doc) return doc;
  if (format === 'fields') return parseFieldsDoc(doc.doc, ctx);
  return format === 'senml' ? parseSenml(doc.doc, ctx) : parseObject(doc.doc, ctx);
}

/** The payload as text: within the size limit and valid UTF-8, or the problem. */
export function readText(payload: Uint8Array, maxBytes: number): string | ParseResult {
  if (payload.length > maxBytes) return fail('payload-too-large', `payload is ${payload.length} bytes; limits.maxPayloadBytes is ${maxBytes}`);
  try {
    return decoder.decode(payload);
  } catch {
    return fail('bad-format', 'payload is not valid UTF-8 text');
  }
}

/**
 * A JSON document, depth-checked before parsing (no recursion can overflow on it). With `bare`,
 * text that is neither an object nor a list nor JSON ("ON") is itself the document.
 */
export function readDocument(text: string, bare = true): { doc: unknown } | ParseResult {
  const lead = text.trimStart()[0];
  if (bare && lead !== '{' && lead !== '[') return { doc: bareDocument(text) };
  if (jsonDeeperThan(text, MAX_JSON_DEPTH)) return fail('bad-json', `JSON nested deeper than ${MAX_JSON_DEPTH} levels`);
  try {
    return { doc: JSON.parse(text) };
  } catch (err) {
    return fail('bad-json', `not valid JSON: ${(err as Error).message}`);
  }
}

/** A payload that is not an object or a list: a JSON scalar ("45.2", true), else the text itself (ON). */
function bareDocument(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text.trim();
  }
}

function parseFieldsDoc(doc: unknown, ctx: ParseContext): ParseResult {
  return parseFields(doc, ctx.sensor, ctx.receivedAt, { ...(ctx.fields ?? ALL_FIELDS), states: ctx.states ?? DEFAULT_STATES, time: ctx.time ?? DEFAULT_TIME });
}

export { jsonDeeperThan };

function fail(reason: Problem['reason'], detail: string): ParseResult {
  return { readings: [], problems: [{ reason, detail }] };
}

function parseNumber(text: string, ctx: ParseContext): ParseResult {
  let value: number | undefined;
  if (NUMBER_RE.test(text)) value = Number(text);
  else {
    // The same value rules as fields: "45.2" (a JSON string), ON/OFF, true/false, open/closed.
    const trimmed = text.trim();
    if (/^[-+]?(nan|inf(inity)?)$/i.test(trimmed)) return fail('non-finite', `value ${trimmed} is not a finite number`);
    value = scalarValue(trimmed.startsWith('"') ? bareDocument(trimmed) : trimmed, ctx.states ?? DEFAULT_STATES);
    if (value === undefined) return fail('not-a-number', `expected a number, a state word (ON, OFF, ...), a JSON object or a SenML pack; got ${JSON.stringify(trimmed.slice(0, 40))}`);
  }
  if (!Number.isFinite(value)) return fail('non-finite', `value ${text.trim()} is out of range`);
  return { readings: [{ sensor: ctx.sensor, ts: ctx.receivedAt, value, receivedAt: ctx.receivedAt, stamped: true }], problems: [] };
}

function parseObject(doc: unknown, ctx: ParseContext): ParseResult {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    return fail('bad-format', 'expected a JSON object like {"value": 21.5}');
  }
  const o = doc as Record<string, unknown>;
  const value = checkValue(o.value, 'value');
  if (typeof value !== 'number') return { readings: [], problems: [value] };
  let ts = ctx.receivedAt;
  const stamped = o.ts === undefined;
  if (o.ts !== undefined) {
    const parsed = parseTimestamp(o.ts);
    if (typeof parsed !== 'number') return { readings: [], problems: [parsed] };
    const bad = outOfBounds(parsed, ctx, '"ts"');
    if (bad) return { readings: [], problems: [bad] };
    ts = parsed;
  }
  const reading: Reading = { sensor: ctx.sensor, ts, value, receivedAt: ctx.receivedAt };
  if (stamped) reading.stamped = true;
  if (typeof o.unit === 'string') reading.unit = o.unit;
  if (typeof o.seq === 'number' && Number.isInteger(o.seq)) reading.seq = o.seq;
  return { readings: [reading], problems: [] };
}

function checkValue(v: unknown, field: string): number | Problem {
  if (typeof v !== 'number') {
    return v === undefined
      ? { reason: 'not-a-number', detail: `missing "${field}"` }
      : { reason: 'not-a-number', detail: `"${field}" must be a number, got ${describeJson(v)}` };
  }
  if (!Number.isFinite(v)) return { reason: 'non-finite', detail: `"${field}" is not finite` };
  return v;
}

/** A short description of a JSON value; never walks it (it may be deep). */
function describeJson(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.slice(0, 40));
  if (Array.isArray(v)) return 'a list';
  if (v === null) return 'null';
  if (typeof v === 'object') return 'an object';
  return String(v);
}

/** A problem when an event time lies outside the plausible range (see ParseContext.time). */
function outOfBounds(ts: number, ctx: ParseContext, what: string): Problem | undefined {
  const { floor, horizon } = ctx.time ?? DEFAULT_TIME;
  const latest = Math.min(Math.max(ctx.receivedAt, floor) + horizon, MAX_DATE_MS);
  if (ts < floor) return { reason: 'bad-timestamp', detail: `${what} ${ts} ms is before ${iso(floor)}: the sensor's clock is not set (or it sent seconds)` };
  if (ts > latest) return { reason: 'bad-timestamp', detail: `${what} ${ts} ms is after ${iso(latest)} (limits.timestampHorizon past the agent's clock)` };
  return undefined;
}

/** Epoch milliseconds or ISO 8601 with a zone, as epoch milliseconds. */
function parseTimestamp(ts: unknown): number | Problem {
  if (typeof ts === 'number') {
    if (!Number.isFinite(ts)) return { reason: 'bad-timestamp', detail: '"ts" is not finite' };
    if (ts < MIN_EPOCH_MS) {
      return { reason: 'bad-timestamp', detail: `"ts" ${ts} looks like epoch seconds; send epoch milliseconds or ISO 8601` };
    }
    return Math.round(ts);
  }
  if (typeof ts === 'string' && ISO_RE.test(ts)) {
    const ms = Date.parse(ts);
    if (Number.isFinite(ms)) return ms;
  }
  return { reason: 'bad-timestamp', detail: `"ts" must be epoch milliseconds or ISO 8601 with Z or an offset, got ${describeJson(ts)}` };
}

function parseSenml(doc: unknown, ctx: ParseContext): ParseResult {
  if (!Array.isArray(doc) || doc.length === 0) return fail('bad-senml', 'a SenML pack is a non-empty JSON array of records');
  const out: ParseResult = { readings: [], problems: [] };
  let bn = '';
  let bt = 0;
  let bu: string | undefined;
  let bv = 0;
  doc.forEach((rec: unknown, i) => {
    if (rec === null || typeof rec !== 'object' || Array.isArray(rec)) {
      out.problems.push({ reason: 'bad-senml', detail: `record ${i} is not an object` });
      return;
    }
    const r = rec as Record<string, unknown>;
    if (typeof r.bn === 'string') bn = r.bn;
    if (typeof r.bt === 'number') bt = r.bt;
    if (typeof r.bu === 'string') bu = r.bu;
    if (typeof r.bv === 'number') bv = r.bv;
    const hasValue = ['v', 'vs', 'vb', 'vd', 's'].some((k) => k in r);
    if (!hasValue) {
      // A record with only base fields sets context for the ones after it.
      if (['bn', 'bt', 'bu', 'bv', 'bver'].some((k) => k in r)) return;
      out.problems.push({ reason: 'bad-senml', detail: `record ${i} has no value` });
      return;
    }
    if (!('v' in r)) {
      out.problems.push({ reason: 'not-a-number', detail: `record ${i} carries a string, boolean or data value; only "v" is numeric` });
      return;
    }
    const v = checkValue(r.v, `[${i}].v`);
    if (typeof v !== 'number') {
      out.problems.push(v);
      return;
    }
    const value = v + bv;
    if (!Number.isFinite(value)) {
      out.problems.push({ reason: 'non-finite', detail: `record ${i}: v + bv is not finite` });
      return;
    }
    const t = bt + (typeof r.t === 'number' ? r.t : 0);
    if (!Number.isFinite(t)) {
      out.problems.push({ reason: 'bad-timestamp', detail: `record ${i} has a non-finite time` });
      return;
    }
    const hasTime = typeof r.t === 'number' || bt !== 0;
    const ts = !hasTime ? ctx.receivedAt : t < SENML_RELATIVE_LIMIT ? Math.round(ctx.receivedAt + t * 1000) : Math.round(t * 1000);
    // Relative times (below 2^28 s, negative included) lean on our clock; absolute ones are bounded.
    const bad = hasTime && t >= SENML_RELATIVE_LIMIT ? outOfBounds(ts, ctx, `record ${i} time`) : t < -SENML_RELATIVE_LIMIT ? { reason: 'bad-timestamp' as const, detail: `record ${i} time ${t} s is further back than 2^28 s` } : undefined;
    if (bad) {
      out.problems.push(bad);
      return;
    }
    const name = bn + (typeof r.n === 'string' ? r.n : '');
    const sensor = name === '' ? ctx.sensor : ctx.sensor === '' ? name : `${ctx.sensor}/${name}`;
    const reading: Reading = { sensor, ts, value, receivedAt: ctx.receivedAt };
    // Times relative to now (or none) lean on our clock as much as a missing ts does.
    if (!hasTime || t < SENML_RELATIVE_LIMIT) reading.stamped = true;
    const unit = typeof r.u === 'string' ? r.u : bu;
    if (unit !== undefined) reading.unit = unit;
    out.readings.push(reading);
  });
  return out;
}
