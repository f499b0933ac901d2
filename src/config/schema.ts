// The configuration, defined once. Types (`Config`) and the JSON Schema (`outpost schema`)
// are both derived from this file and the parts it imports; nothing else describes the
// config's shape.
import { z } from 'zod';
import { COMMAND_NAMES } from '../commands/command-args.js';
import { readKey } from '../commands/command-signature.js';
import { groupId } from '../stream/detectors/device-group.js';
import { formatPath } from './format-path.js';
import { cronExpression, duration, port, size, topicFilter } from './fields.js';
import { source, simulatedSensor } from './sources-schema.js';
import { pipeline } from './pipelines-schema.js';
import { derived, rule } from './rules-schema.js';
import { checkRules } from './rules-checks.js';
import type { DerivedSpec, RuleSpec } from '../stream/rules/rule-types.js';
import { idSpacesOverlap, mqttIdSpace } from './id-spaces.js';
import { isPasswordHash } from '../ops/password-hash.js';

export { simulatedSensor };

const brokerUser = z.strictObject({
  username: z.string().min(1),
  password: z
    .string()
    .min(1)
    .refine((p) => !p.startsWith('$scrypt$') || isPasswordHash(p), { message: 'looks like a scrypt hash but is not a whole one (copy the full line `outpost hash-password` printed)' })
    .describe('a scrypt hash from `outpost hash-password` (recommended), or the password itself'),
  publish: z.array(topicFilter).default(['#']).describe('topic filters this user may publish to'),
  subscribe: z.array(topicFilter).default(['#']).describe('topic filters this user may subscribe to'),
});

const brokerTls = z
  .strictObject({
    port: port.default(8883),
    cert: z.string().describe('PEM file path: the broker certificate (chain)'),
    key: z.string().describe('PEM file path: its private key'),
    ca: z.string().optional().describe('PEM file path: CA for client certificates'),
    requireClientCert: z.boolean().default(false).describe('refuse clients without a certificate signed by ca'),
  })
  .refine((t) => !t.requireClientCert || t.ca !== undefined, { message: 'requireClientCert needs ca (the CA that signs client certificates)', path: ['ca'] });

const broker = z
  .strictObject({
    enabled: z.boolean().default(true),
    host: z.string().default('0.0.0.0'),
    port: port.default(1883),
    plaintext: z.boolean().default(true).describe('false: listen only with TLS (broker.tls)'),
    tls: brokerTls.optional().describe('a TLS listener, beside or instead of the plain one'),
    auth: z
      .strictObject({ users: z.array(brokerUser).min(1) })
      .optional()
      .describe('without auth, any client may connect and publish'),
    maxConnections: z.number().int().min(1).max(100_000).default(100).describe('clients connected at once; more are refused'),
    maxMessageRate: z.number().min(0).default(1000).describe('messages a second per client; a faster client is slowed down (0: no limit)'),
    maxPacketSize: size('64KiB')
      .default(65_536)
      .refine((n) => n >= 1024 && n <= 268_435_455, { message: 'must be between 1KiB and 256MiB' })
      .describe('largest MQTT packet; a larger one closes the connection before it is read (payloads over limits.maxPayloadBytes are dead-lettered)'),
    connectTimeout: duration('5s').default(5_000).describe('a socket that has not completed CONNECT by then is closed'),
    maxPendingConnections: z.number().int().min(1).max(10_000).default(64).describe('sockets that have not completed CONNECT; one more closes the oldest'),
    maxRetained: z.number().int().min(0).default(1000).describe('retained topics kept; past this a retained message is passed on but not kept'),
    maxRetainedBytes: size('1MB').default(1_000_000).describe('bytes of retained payloads kept'),
    maxSubscriptions: z.number().int().min(1).default(100).describe('subscriptions one connection may make'),
    allowAnonymousWildcards: z
      .boolean()
      .default(false)
      .describe('without auth: let any client subscribe to everything ("#", "+/...", "$SYS/...")'),
  })
  .refine((b) => b.plaintext || b.tls !== undefined, { message: 'false needs broker.tls (otherwise nothing listens)', path: ['plaintext'] })
  .describe('the embedded local MQTT broker (aedes) that sensors publish to');

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
  maxRate: z
    .number()
    .min(0)
    .default(100)
    .describe('messages a second at most (anomalies first); a backlog drains at this pace (0: no limit; AWS IoT Core allows 100 per connection)'),
  protocol: z.enum(['auto', '5', '3.1.1']).default('auto').describe('auto: MQTT 5, or 3.1.1 when the broker refuses 5'),
  persistentSession: z.boolean().default(true).describe('ask the broker to keep the session across disconnects (clean session off)'),
  reconnect: z
    .strictObject({ min: duration('1s').default(1_000), max: duration('60s').default(60_000) })
    .prefault({}),
  homeAssistant: z
    .strictObject({
      enabled: z.boolean().default(false),
      prefix: z.string().min(1).regex(/^[^+#]+$/, 'is a topic, not a filter').default('homeassistant').describe("Home Assistant's discovery prefix"),
      maxSensors: z.number().int().min(1).max(2000).default(200).describe('sensors announced at most (one discovery config per device holds them all)'),
    })
    .prefault({})
    .describe('publish retained MQTT discovery configs to the fleet broker, so a Home Assistant there shows every sensor and anomaly of this device'),
});

const storage = z.strictObject({
  path: z.string().min(1).default('./data/outpost.db').describe('relative to the config file'),
  maxBytes: size('256MB')
    .default(256_000_000)
    .refine((n) => n >= 1_000_000, { message: 'must be at least 1MB' })
    .describe('the database file and its WAL together never grow past this'),
  commitInterval: duration('100ms')
    .default(100)
    .describe('group commit: the longest a reading waits to be written (and, with ackAfterCommit, acknowledged); commits run back to back while acknowledgements wait'),
  quietCommitInterval: duration('5s')
    .default(5_000)
    .describe('when nothing urgent waits (no acknowledgement, anomaly, event or reply: readings nobody waits for, summaries, ticks), commits are this far apart at most: far fewer SD-card writes; a crash or power cut may lose that much of QoS 0, simulated and GPIO readings (never an acknowledged one)'),
  commitReadings: z.number().int().min(1).max(100_000).default(500).describe('commit sooner once this many readings wait'),
  ackAfterCommit: z
    .boolean()
    .default(true)
    .describe('acknowledge a QoS 1 reading only once it is committed (durable with synchronous: full); false: on receipt, faster, but a crash or power cut loses what was acknowledged in the last commitInterval'),
  synchronous: z
    .enum(['full', 'normal'])
    .default('full')
    .describe('full: a power cut loses at most commitInterval; normal: fewer writes, a power cut may lose more'),
  checkpointInterval: duration('30s').default(30_000).describe('how often the stream state is saved; a restart replays the journal after it'),
  journal: z
    .strictObject({
      enabled: z.boolean().default(true).describe('false: no replay; windows open at a crash are lost'),
      retention: duration('24h').default(86_400_000).describe('raw readings older than this are deleted'),
      maxBytes: size('64MB').optional().describe('past this, the oldest raw readings are deleted (default: a quarter of storage.maxBytes)'),
    })
    .prefault({}),
  deadLetters: z
    .strictObject({
      maxBytes: size('16MB').optional().describe('past this, the oldest dead letters are deleted (default: a sixteenth of storage.maxBytes)'),
      retention: duration('30d').default(30 * 86_400_000).describe('dead letters older than this are deleted'),
    })
    .prefault({}),
});

const alarm = z.strictObject({
  pin: z.number().int().min(0).max(53).describe('BCM pin number of the buzzer, relay or beacon'),
  sensors: z.array(z.string().min(1)).default(['**']).describe('sensor globs whose anomalies drive it; [] for none (rules only)'),
  detectors: z.array(z.string()).default([]).describe('only these detectors (default: all)'),
  rules: z.array(z.string().min(1)).default(['*']).describe('rule id globs whose raised rules drive it (on while raised, and minOnTime after); [] for none'),
  severity: z.enum(['info', 'warning', 'major', 'critical']).default('critical').describe('at least this severity (major: rules only, between warning and critical)'),
  minOnTime: duration('30s').default(30_000).describe('on for at least this long after the last matching anomaly'),
  activeLow: z.boolean().default(false),
});

const gpio = z.strictObject({
  simulate: z.boolean().default(false).describe('simulate every GPIO pin (machines without GPIO)'),
  sysfs: z.string().default('/sys/class/gpio').describe('where the GPIO chips are'),
  alarms: z.array(alarm).default([]).describe('output pins driven by anomalies'),
});

const http = z.strictObject({
  enabled: z.boolean().default(true),
  host: z.string().default('127.0.0.1'),
  port: port.default(9464),
  token: z
    .string()
    .min(16, 'must be at least 16 characters (e.g. `openssl rand -base64 24`)')
    .optional()
    .describe('bearer token for write actions (dead-letter replay); use ${file:...}. Without it a random one is made at start and kept beside the database for the CLI'),
  allowedHosts: z.array(z.string().min(1)).default([]).describe('host names the endpoint answers to besides IP addresses and localhost (DNS-rebinding protection)'),
});

const limits = z.strictObject({
  maxPayloadBytes: size('16KiB').default(16_384),
  maxSensorIdLength: z.number().int().min(1).max(1024).default(128),
  maxSensors: z.number().int().min(1).default(1000),
  sensorIdleTtl: duration('7d')
    .default(7 * 86_400_000)
    .describe('a sensor silent this long has its open windows sent as partial summaries and its window, detector and admission state dropped (it no longer counts toward maxSensors); 0: never'),
  maxFutureSkew: duration('5m').default(300_000).describe('readings stamped further ahead are dead-lettered'),
  timestampHorizon: duration('3650d')
    .default(3650 * 86_400_000)
    .describe('timestamps later than this past the agent\'s clock (or this build\'s date, while the clock is unset) are dead-lettered at parse time'),
});

const clock = z.strictObject({
  syncTimeout: duration('10m').default(600_000).describe('trust an unsynchronized clock after this long (devices without network)'),
  holdReadings: z.number().int().min(0).default(100_000).describe('readings held while the clock is untrusted; more are dead-lettered'),
});

const schedules = z.strictObject({
  health: cronExpression.default('*/15 * * * * *').describe('retained <prefix>/health publish'),
  retention: cronExpression.default('*/1 * * * *').describe('journal and dead-letter retention'),
  optimize: cronExpression.default('17 3 * * *').describe('PRAGMA optimize and a WAL checkpoint (truncate)'),
  dailySummary: cronExpression.default('0 0 * * *').describe('the retained <prefix>/daily report of the last 24 hours'),
});

const commands = z.strictObject({
  enabled: z.boolean().default(true).describe('take commands from the fleet on <prefix>/cmd/+ (docs/commands.md)'),
  publicKey: z
    .string()
    .optional()
    .describe('Ed25519 public key (PEM, e.g. "${file:/etc/outpost/fleet.pub}"): only commands signed by its private key run'),
  allow: z
    .array(z.enum(COMMAND_NAMES))
    .optional()
    .describe('the commands this device takes; others are rejected. Default: all with publicKey; without it, all but config.apply and gpio.set (a new config and the actuators need a signature or your explicit list)'),
  rollbackAfter: duration('60s').default(60_000).describe('config.apply: back to the old config unless healthy and forwarding within this'),
  maxTtl: duration('7d').default(7 * 86_400_000).describe('a command expiring further ahead than this is rejected (a signed command cannot be kept for later)'),
});

export const configSchema = z
  .strictObject({
    device: z.strictObject({
      id: z
        .string()
        .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'must be 1-64 letters, digits, "_", "." or "-"'),
    }),
    broker: broker.prefault({}),
    sources: z.array(source).min(1, 'needs at least one source'),
    pipelines: z.array(pipeline).min(1, 'needs at least one pipeline'),
    rules: z.array(rule).max(10_000).default([]).describe('conditions across sensors, with for, sequence and count (docs/rules.md)'),
    derived: z.array(derived).max(10_000).default([]).describe('sensors computed from others by an expression (docs/rules.md)'),
    uplink,
    storage: storage.prefault({}),
    http: http.prefault({}),
    gpio: gpio.prefault({}),
    limits: limits.prefault({}),
    schedules: schedules.prefault({}),
    clock: clock.prefault({}),
    commands: commands.prefault({}),
    log: z
      .strictObject({ level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal']).default('info') })
      .prefault({}),
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
    // Two MQTT sources whose ids could overlap (GPIO and simulated ids are checked above, and
    // reserved against MQTT at run time).
    const spaces: Array<[string, number]> = [];
    cfg.sources.forEach((s, i) => {
      if (s.type !== 'mqtt') return;
      const space = mqttIdSpace(s);
      const other = spaces.find(([o]) => idSpacesOverlap(o, space));
      if (other) {
        ctx.addIssue({
          code: 'custom',
          path: ['sources', i],
          message: `its sensor ids (${space}) can be the same as those of sources[${other[1]}] (${other[0]}): one id would mix two sensors' readings; give them prefixes that tell them apart (e.g. prefix: ${s.preset ?? 'site2'})`,
        });
      } else spaces.push([space, i]);
    });
    for (const part of ['journal', 'deadLetters'] as const) {
      const bytes = cfg.storage[part].maxBytes;
      if (bytes !== undefined && bytes > cfg.storage.maxBytes / 2) {
        ctx.addIssue({ code: 'custom', path: ['storage', part, 'maxBytes'], message: 'must not exceed half of storage.maxBytes (the outbox needs the rest)' });
      }
    }
    // Group (multivariate) detectors: each needs an id of its own for its events.
    const groupIds = new Map<string, string>();
    cfg.pipelines.forEach((p, i) =>
      p.detectors.forEach((d, j) => {
        if (d.type !== 'multivariate') return;
        const path = ['pipelines', i, 'detectors', j];
        if (d.id === undefined && !/^[^*?]+\//.test(d.group)) {
          ctx.addIssue({ code: 'custom', path: [...path, 'id'], message: `is needed: "${d.group}" has no literal prefix to name the group's events by (e.g. id: pump1/joint)` });
          return;
        }
        const id = groupId(d);
        const first = groupIds.get(id);
        if (first) ctx.addIssue({ code: 'custom', path: [...path, 'id'], message: `"${id}" is already the id of ${first}: give each group its own id` });
        else groupIds.set(id, formatPath(path));
      }),
    );
    if (cfg.commands.publicKey !== undefined) {
      const key = readKey(cfg.commands.publicKey, 'public');
      if (typeof key === 'string') ctx.addIssue({ code: 'custom', path: ['commands', 'publicKey'], message: key });
    }
    checkRules(cfg as Config, (path, message) => ctx.addIssue({ code: 'custom', path, message }));
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

// The stream takes rules and derived sensors as the config gives them (checked here, at compile time).
export const rulesFit = (c: Config): { rules: RuleSpec[]; derived: DerivedSpec[] } => ({ rules: c.rules, derived: c.derived });
