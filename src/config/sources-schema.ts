// The config of sources: MQTT, GPIO and simulated sensors.
import { z } from 'zod';
import { duration, sensorId, topicFilter } from './fields.js';
import { PRESETS, type PresetName } from '../sources/mqtt/presets/index.js';
import { isTimeZone } from '../sources/mqtt/local-time.js';

const presetNames = Object.keys(PRESETS) as [PresetName, ...PresetName[]];
const fieldGlob = z.string().min(1).describe('a field path glob: * within a level, ** across levels (AM2301/*, **/Id)');

const mqttSource = z.strictObject({
  type: z.literal('mqtt'),
  preset: z
    .enum(presetNames)
    .optional()
    .describe("a firmware's topics, ids, fields and availability in one line (docs/devices.md); sets topic and format"),
  base: z
    .string()
    .min(1)
    .optional()
    .describe("with preset: the firmware's root topic when not its default (zigbee2mqtt's base_topic, statestream's base_topic, ...)"),
  topic: topicFilter.optional().describe("default sensors/#; sensor id = topic minus the filter's literal prefix"),
  format: z
    .enum(['auto', 'number', 'json', 'senml', 'fields'])
    .optional()
    .describe('default auto (a number, a {"value"} object or a SenML pack); fields: every numeric field of a JSON object is a reading'),
  prefix: sensorId.optional().describe('put in front of every sensor id this source produces (two sources whose ids could overlap need one)'),
  include: z.array(fieldGlob).optional().describe('format fields / presets: only these field paths (default all)'),
  exclude: z.array(fieldGlob).optional().describe("format fields / presets: leave these field paths out (default the preset's noise, e.g. linkquality)"),
  states: z
    .record(z.string().min(1), z.number().refine(Number.isFinite, 'must be a finite number'))
    .optional()
    .describe('state words and their values, on top of on/off, open/closed, true/false, yes/no -> 1/0 (e.g. { heat: 1, idle: 0 })'),
  timeFields: z.array(z.string().min(1)).optional().describe("format fields: field paths holding the message time, in order (default ts, time, Time, timestamp, last_seen; a preset's own)"),
  timezone: z
    .string()
    .refine(isTimeZone, 'is not an IANA time zone (e.g. Europe/Berlin, UTC)')
    .optional()
    .describe('IANA zone for times sent without one (Tasmota); without it such times are ignored and the receive time stamps'),
  url: z
    .string()
    .regex(/^(mqtts?|tcp|ssl):\/\//, 'must start with mqtt:// or mqtts://')
    .optional()
    .describe('attach to an existing broker instead of the embedded one'),
  username: z.string().optional(),
  password: z.string().optional(),
  clientId: z
    .string()
    .min(1)
    .max(128)
    .optional()
    .describe('with url: the persistent session\'s client id (default outpost-<device.id>-<hash of topic>); keep it stable, or readings sent while Outpost was down are lost'),
  retained: z
    .enum(['skip', 'ingest'])
    .default('skip')
    .describe('with url: retained messages are old state the broker kept; ingest takes them as readings when a session starts'),
});

const gpioSource = z.strictObject({
  type: z.literal('gpio'),
  pin: z.number().int().min(0).max(53).describe('BCM pin number'),
  sensor: sensorId,
  edge: z.enum(['none', 'rising', 'falling', 'both']).default('both'),
  debounceMs: z.number().int().min(0).max(10_000).default(20),
  mode: z.enum(['state', 'counter']).default('state').describe('state: 0/1 per edge; counter: pulses per interval and a rate'),
  interval: duration('10s').default(10_000).describe('counter: how often the pulse count goes out'),
  scale: z.number().positive().default(1).describe('counter: units per pulse (e.g. 0.2794 mm of rain per tip)'),
  activeLow: z.boolean().default(false),
  simulate: z.boolean().default(false).describe('drive the pin from a simulated signal (laptops); gpio.simulate does it for all'),
});

const simAnomaly = z.strictObject({
  type: z.enum(['spike', 'drift', 'stuck', 'dropout']),
  at: duration('30s').describe('first occurrence, after the simulator starts'),
  every: duration('60s').optional().describe('repeat period; once when absent'),
  duration: duration('5s').default(0).describe('how long it lasts (spike: one reading when 0)'),
  magnitude: z.number().default(10).describe('spike height, or drift per second'),
});

export const simulatedSensor = z.strictObject({
  id: sensorId,
  rateHz: z.number().positive().max(10_000).default(1),
  shape: z.enum(['sine', 'random-walk', 'step']).default('sine'),
  base: z.number().default(20),
  amplitude: z.number().min(0).default(2),
  period: duration('60s').default(60_000),
  noise: z.number().min(0).default(0.1).describe('standard deviation of added gaussian noise'),
  anomalies: z.array(simAnomaly).default([]),
});

const simulatedSource = z.strictObject({
  type: z.literal('simulated'),
  seed: z.number().int().default(1),
  sensors: z.array(simulatedSensor).min(1),
});

const checkedMqttSource = mqttSource.superRefine((s, ctx) => {
  if (s.preset && s.topic !== undefined) ctx.addIssue({ code: 'custom', path: ['topic'], message: `is set by preset ${s.preset}; use base to change its root topic` });
  if (s.preset && s.format !== undefined) ctx.addIssue({ code: 'custom', path: ['format'], message: `is set by preset ${s.preset} (fields)` });
  if (!s.preset && s.base !== undefined) ctx.addIssue({ code: 'custom', path: ['base'], message: 'needs a preset (without one, topic says where readings come from)' });
  if (s.base !== undefined && /[+#]/.test(s.base)) ctx.addIssue({ code: 'custom', path: ['base'], message: 'is a topic, not a filter: no "+" or "#"' });
  else if (s.base !== undefined && s.base.split('/').includes('')) ctx.addIssue({ code: 'custom', path: ['base'], message: 'has an empty level ("/" at the start or end, or "//"): write e.g. zigbee2mqtt or home/z2m' });
}).transform((s) => (s.preset ? s : { ...s, topic: s.topic ?? 'sensors/#', format: s.format ?? 'auto' }));

export const source = z.discriminatedUnion('type', [checkedMqttSource, gpioSource, simulatedSource], {
  error: 'type must be one of mqtt, gpio, simulated',
});
