// The configuration, defined once. Types (`Config`) and the JSON Schema (`outpost schema`)
// are both derived from this file; nothing else describes the config's shape.
import { z } from 'zod';
import cron from 'node-cron';
import { parseDuration, parseSize } from './units.js';
import { formatPath } from './format-path.js';
import { SENSOR_ID_PATTERN } from '../stream/sensor-id.js';
import { AGGREGATES } from '../stream/aggregate-names.js';

const duration = (example: string) =>
  z
    .string()
    .describe(`duration such as 500ms, 5s, 10m, 1h (e.g. ${example})`)
    .transform((text, ctx) => {
      const ms = parseDuration(text);
      if (ms === undefined) {
        ctx.addIssue({ code: 'custom', message: `"${text}" is not a duration; write e.g. 500ms, 5s, 10m, 1h` });
        return z.NEVER;
      }
      return ms;
    });

const size = (example: string) =>
  z
    .string()
    .describe(`size such as 64KiB, 256MB, 1GB (e.g. ${example})`)
    .transform((text, ctx) => {
      const bytes = parseSize(text);
      if (bytes === undefined) {
        ctx.addIssue({ code: 'custom', message: `"${text}" is not a size; write e.g. 64KiB, 256MB, 1GB` });
        return z.NEVER;
      }
      return bytes;
    });

const cronExpression = z
  .string()
  .describe('cron expression with an optional seconds field, e.g. "*/15 * * * * *"')
  .refine((expr) => cron.validate(expr), { message: 'is not a valid cron expression' });

const port = z.number().int().min(0).max(65535).describe('TCP port; 0 picks a free one');

const sensorId = z
  .string()
  .regex(SENSOR_ID_PATTERN, 'must be letters, digits, "_", ".", ":", "-" in "/"-separated levels');

const topicFilter = z.string().min(1).describe('MQTT topic filter, + and # allowed');

const brokerUser = z.strictObject({
  username: z.string().min(1),
  password: z.string().min(1),
  publish: z.array(topicFilter).default(['#']).describe('topic filters this user may publish to'),
  subscribe: z.array(topicFilter).default(['#']).describe('topic filters this user may subscribe to'),
});

const broker = z
  .strictObject({
    enabled: z.boolean().default(true),
    host: z.string().default('0.0.0.0'),
    port: port.default(1883),
    auth: z
      .strictObject({ users: z.array(brokerUser).min(1) })
      .optional()
      .describe('without auth, any client may connect and publish'),
  })
  .describe('the embedded local MQTT broker (aedes) that sensors publish to');

const mqttSource = z.strictObject({
  type: z.literal('mqtt'),
  topic: topicFilter.default('sensors/#').describe('sensor id = topic minus the filter\'s literal prefix'),
  format: z.enum(['auto', 'number', 'json', 'senml']).default('auto'),
  url: z
    .string()
    .regex(/^(mqtts?|tcp|ssl):\/\//, 'must start with mqtt:// or mqtts://')
    .optional()
    .describe('attach to an existing broker instead of the embedded one'),
  username: z.string().optional(),
  password: z.string().optional(),
});

const gpioSource = z.strictObject({
  type: z.literal('gpio'),
  pin: z.number().int().min(0).max(53).describe('BCM pin number'),
  sensor: sensorId,
  edge: z.enum(['none', 'rising', 'falling', 'both']).default('both'),
  debounceMs: z.number().int().min(0).max(10_000).default(20),
  mode: z.enum(['state']).default('state'),
  activeLow: z.boolean().default(false),
  simulate: z.boolean().default(false).describe('drive the pin from a simulated signal (laptops)'),
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

const source = z.discriminatedUnion('type', [mqttSource, gpioSource, simulatedSource], {
  error: 'type must be one of mqtt, gpio, simulated',
});


const severity = z.enum(['info', 'warning', 'critical']);

const thresholdDetector = z
  .strictObject({
    type: z.literal('threshold'),
    min: z.number().optional(),
    max: z.number().optional(),
    severity: severity.default('critical'),
  })
  .refine((d) => d.min !== undefined || d.max !== undefined, { message: 'needs min, max or both' })
  .refine((d) => d.min === undefined || d.max === undefined || d.min < d.max, { message: 'min must be below max' });

const zscoreDetector = z.strictObject({
  type: z.literal('zscore'),
  threshold: z.number().positive().default(4).describe('|z| at or above this is an anomaly'),
  window: z.number().int().min(2).max(100_000).default(60).describe('readings in the rolling baseline'),
  minSamples: z.number().int().min(2).default(10).describe('no verdicts before this many readings'),
  severity: severity.default('warning'),
});

const detector = z.discriminatedUnion('type', [thresholdDetector, zscoreDetector], {
  error: 'each detector needs a type: threshold or zscore',
});

const pipeline = z.strictObject({
  name: z.string().optional(),
  match: z.array(z.string().min(1)).min(1).describe('sensor id globs: * within a level, ** across levels'),
  window: z.discriminatedUnion(
    'type',
    [
      z.strictObject({ type: z.literal('tumbling'), size: duration('60s'), lateness: duration('5s').default(0) }),
      z
        .strictObject({
          type: z.literal('hopping'),
          size: duration('5m').describe('each window covers this long'),
          step: duration('1m').describe('a window starts (and one is reported) this often'),
          lateness: duration('5s').default(0),
        })
        .refine((w) => w.step <= w.size, { message: 'step must not exceed size (windows would leave gaps)', path: ['step'] }),
      z
        .strictObject({
          type: z.literal('count'),
          size: z.number().int().min(1).max(100_000).describe('readings per window'),
          step: z.number().int().min(1).max(100_000).optional().describe('report the last `size` readings every `step` readings (default: size)'),
        })
        .refine((w) => w.step === undefined || w.step <= w.size, { message: 'step must not exceed size', path: ['step'] }),
      z.strictObject({
        type: z.literal('session'),
        gap: duration('5m').describe('a pause this long ends the session'),
        lateness: duration('5s').default(0),
      }),
    ],
    { error: 'window.type must be tumbling, hopping, count or session' },
  ),
  aggregates: z.array(z.enum(AGGREGATES)).min(1).default(['count', 'min', 'max', 'mean', 'stddev', 'first', 'last']),
  detectors: z.array(detector).default([]),
});

const uplink = z.strictObject({
  url: z.string().regex(/^(mqtts?|tcp|ssl):\/\//, 'must start with mqtt:// or mqtts://'),
  topicPrefix: z.string().min(1).optional().describe('default: outpost/<device.id>'),
  clientId: z.string().min(1).optional().describe('default: outpost-<device.id>'),
  username: z.string().optional(),
  password: z.string().optional(),
  tls: z
    .strictObject({
      ca: z.string().optional().describe('PEM file path'),
      cert: z.string().optional().describe('PEM file path'),
      key: z.string().optional().describe('PEM file path'),
      rejectUnauthorized: z.boolean().default(true),
    })
    .optional(),
  keepalive: duration('30s').default(30_000),
  maxInflight: z.number().int().min(1).max(10_000).default(100).describe('QoS 1 messages awaiting PUBACK'),
  reconnect: z
    .strictObject({ min: duration('1s').default(1_000), max: duration('60s').default(60_000) })
    .default({ min: 1_000, max: 60_000 }),
});

const storage = z.strictObject({
  path: z.string().min(1).default('./data/outpost.db').describe('relative to the config file'),
  maxBytes: size('256MB').default(256_000_000),
  commitInterval: duration('100ms')
    .default(100)
    .describe('group commit: readings acknowledged within this interval before a power cut or crash may be lost'),
  commitReadings: z.number().int().min(1).max(100_000).default(500).describe('commit sooner once this many readings wait'),
  synchronous: z
    .enum(['full', 'normal'])
    .default('full')
    .describe('full: a power cut loses at most commitInterval; normal: fewer writes, a power cut may lose more'),
  checkpointInterval: duration('30s').default(30_000).describe('how often the stream state is saved; a restart replays the journal after it'),
  journal: z
    .strictObject({
      enabled: z.boolean().default(true).describe('false: no replay; windows open at a crash are lost'),
      retention: duration('24h').default(86_400_000).describe('raw readings older than this are deleted'),
      maxBytes: size('64MB').default(64_000_000).describe('past this, the oldest raw readings are deleted (within storage.maxBytes)'),
    })
    .default({ enabled: true, retention: 86_400_000, maxBytes: 64_000_000 }),
});

const http = z.strictObject({
  enabled: z.boolean().default(true),
  host: z.string().default('127.0.0.1'),
  port: port.default(9464),
});

const limits = z.strictObject({
  maxPayloadBytes: size('16KiB').default(16_384),
  maxSensorIdLength: z.number().int().min(1).max(1024).default(128),
  maxSensors: z.number().int().min(1).default(1000),
  maxFutureSkew: duration('5m').default(300_000).describe('readings stamped further ahead are dead-lettered'),
});

const clock = z.strictObject({
  syncTimeout: duration('10m').default(600_000).describe('trust an unsynchronized clock after this long (devices without network)'),
  holdReadings: z.number().int().min(0).default(100_000).describe('readings held while the clock is untrusted; more are dead-lettered'),
});

const schedules = z.strictObject({
  health: cronExpression.default('*/15 * * * * *').describe('retained <prefix>/health publish'),
});

export const configSchema = z
  .strictObject({
    device: z.strictObject({
      id: z
        .string()
        .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'must be 1-64 letters, digits, "_", "." or "-"'),
    }),
    broker: broker.default({ enabled: true, host: '0.0.0.0', port: 1883 }),
    sources: z.array(source).min(1, 'needs at least one source'),
    pipelines: z.array(pipeline).min(1, 'needs at least one pipeline'),
    uplink,
    storage: storage.default({ path: './data/outpost.db', maxBytes: 256_000_000, commitInterval: 100, commitReadings: 500, synchronous: 'full', checkpointInterval: 30_000, journal: { enabled: true, retention: 86_400_000, maxBytes: 64_000_000 } }),
    http: http.default({ enabled: true, host: '127.0.0.1', port: 9464 }),
    limits: limits.default({ maxPayloadBytes: 16_384, maxSensorIdLength: 128, maxSensors: 1000, maxFutureSkew: 300_000 }),
    schedules: schedules.default({ health: '*/15 * * * * *' }),
    clock: clock.default({ syncTimeout: 600_000, holdReadings: 100_000 }),
    log: z
      .strictObject({ level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal']).default('info') })
      .default({ level: 'info' }),
  })
  .superRefine((cfg, ctx) => {
    cfg.sources.forEach((s, i) => {
      if (s.type === 'mqtt' && !cfg.broker.enabled && !s.url) {
        ctx.addIssue({
          code: 'custom',
          path: ['sources', i, 'url'],
          message: 'is required when broker.enabled is false (which broker should this source read?)',
        });
      }
    });
    // One sensor id, one producer: two would interleave into one window and one topic.
    const seen = new Map<string, string>();
    cfg.sources.forEach((s, i) => {
      const ids: Array<[string, PropertyKey[]]> =
        s.type === 'gpio'
          ? [[s.sensor, ['sources', i, 'sensor']]]
          : s.type === 'simulated'
            ? s.sensors.map((x, j): [string, PropertyKey[]] => [x.id, ['sources', i, 'sensors', j, 'id']])
            : [];
      for (const [id, path] of ids) {
        const first = seen.get(id);
        if (first) ctx.addIssue({ code: 'custom', path, message: `sensor "${id}" is already produced by ${first}` });
        else seen.set(id, formatPath(path));
      }
    });
    if (cfg.storage.journal.maxBytes > cfg.storage.maxBytes) {
      ctx.addIssue({ code: 'custom', path: ['storage', 'journal', 'maxBytes'], message: 'must not exceed storage.maxBytes (the journal is part of the database)' });
    }
    if (cfg.uplink.reconnect.min > cfg.uplink.reconnect.max) {
      ctx.addIssue({ code: 'custom', path: ['uplink', 'reconnect', 'min'], message: 'must not exceed uplink.reconnect.max' });
    }
  });

export type Config = z.output<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
export type SourceConfig = Config['sources'][number];
export type MqttSourceConfig = Extract<SourceConfig, { type: 'mqtt' }>;
export type GpioSourceConfig = Extract<SourceConfig, { type: 'gpio' }>;
export type SimulatedSourceConfig = Extract<SourceConfig, { type: 'simulated' }>;
export type SimulatedSensorConfig = z.output<typeof simulatedSensor>;
export type PipelineConfig = Config['pipelines'][number];
export type DetectorConfig = PipelineConfig['detectors'][number];
export type UplinkConfig = Config['uplink'];
