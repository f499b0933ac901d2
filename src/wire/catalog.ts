// The event catalog, derived from the zod definitions in upstream.ts: a JSON Schema per
// upstream message and an AsyncAPI 3 document of Outpost's topics. Printed by
// `outpost schema --messages` and `outpost asyncapi`; committed as docs/messages.schema.json
// and docs/asyncapi.json (a test keeps them equal to what the code derives).
import { z } from 'zod';
import { anomalyMessage, dailyReport, eventMessage, healthMessage, statusMessage, summaryMessage } from './upstream.js';
import { commandReply, commandRequest } from './command-wire.js';

const MESSAGES = {
  summary: { schema: summaryMessage, title: 'Summary', retained: false, cls: 'summary' },
  anomaly: { schema: anomalyMessage, title: 'Anomaly', retained: false, cls: 'anomaly' },
  event: { schema: eventMessage, title: 'Event', retained: false, cls: 'event (after anomalies, before summaries)' },
  health: { schema: healthMessage, title: 'Health', retained: true, cls: 'live' },
  status: { schema: statusMessage, title: 'Status', retained: true, cls: 'live' },
  daily: { schema: dailyReport, title: 'Daily report', retained: true, cls: 'live' },
  'cmd-result': { schema: commandReply, title: 'Command reply', retained: false, cls: 'reply (after anomalies, before events and summaries)' },
  cmd: { schema: commandRequest, title: 'Command', retained: false, cls: 'received: fleet to device (docs/commands.md)' },
} as const;
type Name = keyof typeof MESSAGES;

const EXAMPLES: Record<Name, unknown> = {
  summary: { v: 1, id: 'greenhouse-01:1795968000001042', device: 'greenhouse-01', sensor: 'greenhouse/temp1', window: { start: '2026-11-22T10:00:00.000Z', end: '2026-11-22T10:01:00.000Z' }, count: 60, min: 20.1, max: 22.3, mean: 21.2, stddev: 0.4, first: 20.5, last: 21.9, late: 0 },
  anomaly: { v: 1, id: 'greenhouse-01:1795968000001043', device: 'greenhouse-01', sensor: 'greenhouse/temp1', ts: '2026-11-22T10:00:15.000Z', value: 48.2, detector: 'threshold', severity: 'critical', score: 1, message: 'value 48.2 is above the maximum 45', evidence: { max: 45 } },
  event: { v: 1, id: 'greenhouse-01:1795968000001044', device: 'greenhouse-01', ts: '2026-11-22T10:05:00.000Z', kind: 'stale', sensor: 'greenhouse/temp1', state: 'raised', silentForS: 181, limitS: 180, lastSeen: '2026-11-22T10:01:59.000Z' },
  health: undefined,
  status: 'online',
  daily: undefined,
  'cmd-result': { v: 1, id: '6f1c2e0a-8b1e-4a43-9b7c-2f6f0c1d9e11', msgId: 'greenhouse-01:1795968000001045', device: 'greenhouse-01', name: 'flush', status: 'done', result: { partialSummaries: 12 }, ts: '2026-11-22T10:06:00.000Z' },
  cmd: { v: 1, id: '6f1c2e0a-8b1e-4a43-9b7c-2f6f0c1d9e11', args: {}, expiresAt: '2026-11-22T10:15:00.000Z', issuedBy: 'alice (session 10.0.0.5)' },
};

/** JSON Schema (draft-07, which AsyncAPI 3 takes as is) of each upstream message, by name. */
export function messageJsonSchemas(): Record<Name, Record<string, unknown>> {
  const out = {} as Record<Name, Record<string, unknown>>;
  for (const [name, m] of Object.entries(MESSAGES) as Array<[Name, (typeof MESSAGES)[Name]]>) {
    out[name] = { ...z.toJSONSchema(m.schema, { target: 'draft-7' }), $id: `https://outpost.invalid/messages/${name}.schema.json`, title: `Outpost ${m.title}` };
  }
  return out;
}

const GUARANTEES = [
  'Summaries and anomalies are published QoS 1, at least once, with a stable id "<device>:<seq>": dedupe deliveries by id.',
  'seq rises by one per message per device, across restarts and crashes; no id is ever reused, even after the database was lost (a new database starts at the wall clock in microseconds; health uplink.firstSeq says where).',
  'Within a class, messages arrive in seq order; anomalies drain first, then command replies, then events, then summaries, so across classes arrival order is not seq order.',
  'A summary is identified for display by (device, sensor, window.start, window.end): a complete summary supersedes a partial one; merged marks a coarser window of adjacent ones (never across a gap); replayed marks a backfill.',
  'Every reading a sensor got a QoS 1 PUBACK for is in the summaries (storage.ackAfterCommit), through SIGKILL and power cuts.',
  'Health carries uplink.lastSeqSent: an id below it that a consumer lacks was lost on its side, merged, dropped under the byte budget (counted), or refused.',
  'Versioning: additive changes keep "v"; a breaking change bumps "v", and the old version keeps being sent beside the new one for at least 6 months.',
].join('\n');

/** The AsyncAPI 3.0 document of what a device sends (and its retained status and will). */
export function asyncApiDocument(version: string): Record<string, unknown> {
  const schemas = messageJsonSchemas();
  const channels: Record<string, unknown> = {};
  const operations: Record<string, unknown> = {};
  const messages: Record<string, unknown> = {};
  const prefix = { description: 'uplink.topicPrefix of the device (default outpost/<device id>)', examples: ['outpost/greenhouse-01'] };
  const sensor = { description: 'the sensor id; its "/" levels are topic levels', examples: ['greenhouse/temp1'] };
  const eventKind = { description: 'what happened', enum: ['stale', 'availability'], examples: ['stale'] };
  const subject = { description: 'stale: the sensor id; availability: the device as its source names it', examples: ['greenhouse/temp1', 'zigbee/Küche Fenster'] };
  const commandName = { description: 'the command (docs/commands.md)', examples: ['flush', 'replay', 'config.apply'] };
  for (const [name, m] of Object.entries(MESSAGES) as Array<[Name, (typeof MESSAGES)[Name]]>) {
    const perSensor = name === 'summary' || name === 'anomaly';
    const isEvent = name === 'event';
    const isCommand = name === 'cmd';
    const { $id: _id, $schema: _s, ...payload } = schemas[name];
    messages[name] = {
      name,
      title: m.title,
      summary: m.schema.description,
      contentType: name === 'status' ? 'text/plain' : 'application/json',
      payload: { schemaFormat: 'application/schema+json;version=draft-07', schema: payload },
      ...(EXAMPLES[name] !== undefined && { examples: [{ payload: EXAMPLES[name] }] }),
    };
    channels[name] = {
      address: perSensor ? `{prefix}/${name}/{sensor}` : isEvent ? '{prefix}/event/{kind}/{subject}' : isCommand ? '{prefix}/cmd/{name}' : `{prefix}/${name}`,
      title: m.title,
      description: isCommand
        ? 'A command for the device (QoS 1, its persistent session). MQTT 5: a Response Topic under {prefix}/cmd-result and Correlation Data, echoed on the reply.'
        : `${m.retained ? 'Retained. ' : ''}Drain class: ${m.cls}.${name === 'cmd-result' ? ' Or the Response Topic of the command, when it is under {prefix}/cmd-result/.' : ''}`,
      parameters: perSensor ? { prefix, sensor } : isEvent ? { prefix, kind: eventKind, subject } : isCommand ? { prefix, name: commandName } : { prefix },
      messages: { [name]: { $ref: `#/components/messages/${name}` } },
    };
    operations[`${isCommand ? 'receive' : 'send'}${m.title.replace(/ /g, '')}`] = {
      action: isCommand ? 'receive' : 'send',
      channel: { $ref: `#/channels/${name}` },
      messages: [{ $ref: `#/channels/${name}/messages/${name}` }],
      bindings: { mqtt: { qos: 1, retain: m.retained, bindingVersion: '0.2.0' } },
    };
  }
  // Rule events are events with a channel of their own: one level, the rule's id.
  channels.ruleEvent = {
    address: '{prefix}/event/{rule}',
    title: 'Rule event',
    description: 'A rule (config rules:) raised or cleared: the event message with kind "rule". Drain class: event (before summaries, never merged).',
    parameters: { prefix, rule: { description: 'the rule\'s id (config rules[].id)', examples: ['fridge-door-warm'] } },
    messages: { event: { $ref: '#/components/messages/event' } },
  };
  operations.sendRuleEvent = {
    action: 'send',
    channel: { $ref: '#/channels/ruleEvent' },
    messages: [{ $ref: '#/channels/ruleEvent/messages/event' }],
    bindings: { mqtt: { qos: 1, retain: false, bindingVersion: '0.2.0' } },
  };
  return {
    asyncapi: '3.0.0',
    info: { title: 'Outpost device (upstream)', version, description: `What an Outpost agent publishes to its fleet broker, and the commands it takes from it.\n\n${GUARANTEES}` },
    defaultContentType: 'application/json',
    channels,
    operations,
    components: { messages },
  };
}
