// How an MQTT source turns (topic, payload) into readings: the generic decoder (sensor id = topic
// minus the filter's literal prefix, then the payload format) or a firmware preset's
// (presets/). A decoder also reports device availability when the firmware publishes it
// (zigbee2mqtt <name>/availability, Tasmota LWT, ESPHome status, Shelly online). Pure.
import type { ParseResult, ParseContext, PayloadFormat } from './payload.js';
import { DEFAULT_TIME, parsePayload, readDocument, readText } from './payload.js';
import { parseFields } from './fields-format.js';
import { sensorIdsFor } from '../../stream/topic-filter.js';
import type { FieldsOptions } from './fields-format.js';
import type { StateWords } from './scalar-value.js';

export interface Decoded extends ParseResult {
  /** A device said it is online or offline (its own availability topic). */
  availability?: { device: string; online: boolean };
  /** A topic the preset knows and takes nothing from (zigbee2mqtt bridge/..., a /set echo). */
  ignored?: boolean;
}

export interface TopicDecoder {
  /** Filters to subscribe to. */
  readonly filters: readonly string[];
  decode(topic: string, payload: Uint8Array, receivedAt: number): Decoded;
}

/** What every decoder parses with: limits, time bounds, state words, the field selection. */
export interface DecodeSettings {
  maxBytes: number;
  time?: { floor: number; horizon: number; skewMs?: number };
  states: StateWords;
  /** Field paths kept (include and exclude resolved). */
  keep: (path: string) => boolean;
  timeFields: readonly string[];
  timezone?: string;
}

/** The parse context for a payload of `sensor` in `format`, with the settings' field selection. */
export function contextFor(s: DecodeSettings, sensor: string, receivedAt: number, format: PayloadFormat): ParseContext {
  return { sensor, receivedAt, format, maxBytes: s.maxBytes, time: s.time, states: s.states, fields: { keep: s.keep, timeFields: s.timeFields, timezone: s.timezone } };
}

/** A payload as a document: within the size limit, UTF-8, depth-checked JSON or a bare value. */
export function readPayload(s: DecodeSettings, payload: Uint8Array): { doc: unknown } | Decoded {
  const text = readText(payload, s.maxBytes);
  return typeof text === 'string' ? readDocument(text) : text;
}

/** The fields of a document as readings under `base` (fields-format.ts), with the settings' selection unless overridden. */
export function fieldsOf(s: DecodeSettings, doc: unknown, base: string, receivedAt: number, over: Partial<Pick<FieldsOptions, 'keep' | 'timeFields'>> = {}): Decoded {
  return parseFields(doc, base, receivedAt, { states: s.states, keep: over.keep ?? s.keep, timeFields: over.timeFields ?? s.timeFields, timezone: s.timezone, time: s.time ?? DEFAULT_TIME });
}

export const isObject = (doc: unknown): doc is object => doc !== null && typeof doc === 'object';

export function genericDecoder(filter: string, format: PayloadFormat, s: DecodeSettings): TopicDecoder {
  const idOf = sensorIdsFor(filter);
  return {
    filters: [filter],
    decode: (topic, payload, receivedAt) => parsePayload(payload, contextFor(s, idOf(topic), receivedAt, format)),
  };
}

const decoder = new TextDecoder('utf-8', { fatal: false });

/**
 * An availability payload: online/offline words (any case), true/false, or zigbee2mqtt 2.x's
 * {"state":"online"}. Undefined when it is none of these.
 */
export function availabilityOf(payload: Uint8Array): boolean | undefined {
  if (payload.length > 256) return undefined;
  let text = decoder.decode(payload).trim();
  if (text.startsWith('{')) {
    try {
      const state = (JSON.parse(text) as { state?: unknown }).state;
      text = typeof state === 'string' ? state : '';
    } catch {
      return undefined;
    }
  }
  const word = text.toLowerCase();
  if (word === 'online' || word === 'true') return true;
  if (word === 'offline' || word === 'false') return false;
  return undefined;
}

/** The levels of `topic` after `base` ("" for none), or undefined when it is not under it. */
export function levelsUnder(base: string, topic: string): string[] | undefined {
  if (base === '') return topic.split('/');
  if (!topic.startsWith(`${base}/`)) return undefined;
  return topic.slice(base.length + 1).split('/');
}

export const ignored = (): Decoded => ({ readings: [], problems: [], ignored: true });

/** `lenient`: a payload that is no availability word is ignored rather than dead-lettered (catch-all topics). */
export function availability(device: string, payload: Uint8Array, lenient = false): Decoded {
  const online = availabilityOf(payload);
  if (online === undefined) {
    if (lenient) return ignored();
    return { readings: [], problems: [{ reason: 'bad-format', detail: `availability of ${JSON.stringify(device)} must be online/offline, true/false or {"state":"online"}` }] };
  }
  return { readings: [], problems: [], availability: { device, online } };
}
