// An upstream message as the fleet receives it: its device prefix and kind from the topic,
// checked against the wire schemas (src/wire/upstream.ts), turned into a log entry with its
// dedupe key; or the reason it is a dead letter (unknown "v", a schema violation, bad JSON).
import type { z } from 'zod';
import { anomalyMessage, dailyReport, eventMessage, healthMessage, summaryMessage } from '../wire/upstream.js';
import { topicMatches } from '../stream/topic-filter.js';
import { commandReply } from '../wire/command-wire.js';
import { jsonDeeperThan } from '../wire/json-depth.js';
import type { LogEntry } from './projection.js';

// A Map: a topic level such as "constructor" must not find an inherited member.
const SCHEMAS = new Map<string, z.ZodType>([['summary', summaryMessage], ['anomaly', anomalyMessage], ['event', eventMessage], ['health', healthMessage], ['daily', dailyReport], ['cmd-result', commandReply]]);
/** What an agent's device.id may be (src/config/schema.ts): no ":", so no id can pass for a key of ours. */
const DEVICE_ID = /^[A-Za-z0-9_.-]{1,64}$/;
const MAX_DEPTH = 32;
/** Longer sensor ids than any agent sends (limits.maxSensorIdLength is at most 1,024) do not fit a PostgreSQL index row. */
const MAX_SENSOR_CHARS = 1024;

export type Read = { entry: LogEntry } | { ignored: true } | { dead: { reason: string; detail: string } };

/** The device prefix a topic falls under: the levels one of the followed filters (without "#") matches. */
export function splitTopic(filters: readonly string[], topic: string): { prefix: string; rest: string[] } | undefined {
  const levels = topic.split('/');
  for (const f of filters) {
    const n = f.split('/').length;
    if (levels.length <= n) continue;
    const prefix = levels.slice(0, n).join('/');
    if (topicMatches(f, prefix)) return { prefix, rest: levels.slice(n) };
  }
  return undefined;
}

let statusCount = 0;

export function readMessage(filters: readonly string[], topic: string, payload: string, receivedAt: number): Read {
  const at = splitTopic(filters, topic);
  if (!at) return { ignored: true };
  const kind = at.rest[0]!;
  if (kind === 'status') {
    const status = payload.trim();
    if (status !== 'online' && status !== 'offline') return { dead: { reason: 'bad-status', detail: `status must be online or offline, got ${JSON.stringify(status.slice(0, 40))}` } };
    return { entry: { key: `status:${at.prefix}:${receivedAt}:${statusCount++}`, kind, device: null, seq: null, prefix: at.prefix, payload: JSON.stringify({ status }), receivedAt } };
  }
  const schema = SCHEMAS.get(kind);
  if (!schema) return { ignored: true }; // commands (ours, echoed), health of other tools
  if (jsonDeeperThan(payload, MAX_DEPTH)) return { dead: { reason: 'bad-json', detail: `nested deeper than ${MAX_DEPTH}` } };
  // What no store can keep as text (PostgreSQL refuses NUL in text and in jsonb): a dead letter,
  // never a batch that fails again at every redelivery.
  if (payload.includes('\u0000') || payload.includes('\\u0000')) return { dead: { reason: 'bad-json', detail: 'contains a NUL character' } };
  let doc: unknown;
  try {
    doc = JSON.parse(payload);
  } catch (err) {
    return { dead: { reason: 'bad-json', detail: (err as Error).message.slice(0, 200) } };
  }
  const v = (doc as { v?: unknown } | null)?.v;
  if (v !== 1) return { dead: { reason: 'unknown-version', detail: `"v" is ${JSON.stringify(v)}; this fleet service reads v 1` } };
  const parsed = schema.safeParse(doc);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return { dead: { reason: 'schema', detail: `${issue.path.join('.') || kind}: ${issue.message}`.slice(0, 300) } };
  }
  const m = parsed.data as { id?: string; device: string; ts?: string; msgId?: string };
  // A reply's `id` is its command's; its own message id is msgId.
  if (kind === 'cmd-result') m.id = m.msgId;
  if (!DEVICE_ID.test(m.device)) return { dead: { reason: 'schema', detail: `device ${JSON.stringify(m.device.slice(0, 80))} is no Outpost device id` } };
  if (m.id !== undefined) {
    const colon = m.id.lastIndexOf(':');
    const device = m.id.slice(0, colon);
    if (device !== m.device) return { dead: { reason: 'schema', detail: `id ${m.id} is not of device ${m.device}` } };
    const seq = Number(m.id.slice(colon + 1));
    if (!Number.isSafeInteger(seq)) return { dead: { reason: 'schema', detail: `id ${m.id.slice(0, 80)}: the seq is beyond 2^53` } };
    const sensor = (m as { sensor?: unknown }).sensor;
    if (typeof sensor === 'string' && sensor.length > MAX_SENSOR_CHARS) return { dead: { reason: 'schema', detail: `sensor id longer than ${MAX_SENSOR_CHARS} characters` } };
    return { entry: { key: m.id, kind, device, seq, prefix: at.prefix, payload, receivedAt } };
  }
  const key = kind === 'health' ? `health:${m.device}:${m.ts}` : `${kind}:${m.device}:${(m as { from?: string }).from ?? receivedAt}`;
  return { entry: { key, kind, device: m.device, seq: null, prefix: at.prefix, payload, receivedAt } };
}
