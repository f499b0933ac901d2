// Every message Outpost sends upstream, defined once in zod: the types the code uses are
// derived from these (z.infer), and so are the JSON Schemas and the AsyncAPI document of the
// event catalog (catalog.ts). Rendering (render.ts) stays zod-free so the agent's process
// never loads zod; a test checks that what an agent really sends validates against these.
//
// Versioning (docs/event-catalog.md): a field added, or a new optional member, keeps `v`; a
// field removed, renamed or changed in meaning is a breaking change: `v` is bumped, and the
// old `v` keeps being sent beside the new one for a documented period.
import { z } from 'zod';

const isoTime = z.iso.datetime({ offset: false, precision: 3 }).describe('ISO 8601 UTC with milliseconds');
const id = z
  .string()
  .regex(/^.+:\d+$/)
  .describe('"<device>:<seq>": seq rises by one per message per device, across restarts; never reused (a new database starts at the clock in microseconds: health uplink.firstSeq). Dedupe deliveries by it.');
const common = {
  v: z.literal(1),
  id,
  device: z.string().min(1),
  sensor: z.string().min(1).describe('sensor id: "/"-separated levels'),
};
const count = z.number().int().min(0);

export const summaryMessage = z
  .object({
    ...common,
    window: z
      .object({ start: isoTime, end: isoTime })
      .describe('half-open [start, end), aligned to the epoch; (device, sensor, start, end) identifies a summary for display'),
    count,
    min: z.number().optional(),
    max: z.number().optional(),
    mean: z.number().optional(),
    stddev: z.number().optional(),
    p50: z.number().optional(),
    p90: z.number().optional(),
    p95: z.number().optional(),
    p99: z.number().optional(),
    first: z.number().optional(),
    last: z.number().optional(),
    sum: z.number().optional(),
    late: count.describe('readings that arrived after their window had closed (not counted in it)'),
    partial: z.literal(true).optional().describe('sent at a shutdown while the window was open; a complete summary for the same window supersedes it'),
    merged: z.number().int().min(2).optional().describe('a coarser window made of this many adjacent ones under the byte budget'),
    replayed: z.literal(true).optional().describe('a backfill from the journal (outpost replay --publish)'),
  })
  .describe('A window of one sensor');

export const anomalyMessage = z
  .object({
    ...common,
    ts: isoTime.describe('event time of the reading'),
    value: z.number(),
    detector: z.string().min(1),
    severity: z.enum(['info', 'warning', 'critical']),
    score: z.number().min(0).max(1),
    message: z.string(),
    evidence: z.record(z.string(), z.number()).describe('what the value was compared against'),
  })
  .describe('One anomaly: one event per fault (cooldown extended while it lasts)');

const eventCommon = { v: z.literal(1), id, device: z.string().min(1), ts: isoTime.describe('when it happened (raised: the tick that found the silence; cleared: the reading that ended it)') };
export const eventMessage = z
  .discriminatedUnion('kind', [
    z
      .object({
        ...eventCommon,
        kind: z.literal('stale'),
        sensor: common.sensor,
        state: z.enum(['raised', 'cleared']),
        silentForS: z.number().min(0).describe('seconds without a reading: so far (raised), in all (cleared)'),
        limitS: z.number().min(0).describe('the silence it passed: 3 x its median interval (at least 60 s), or the pipeline\'s staleAfter'),
        lastSeen: isoTime.describe('arrival of its last reading before the silence'),
        replayed: z.literal(true).optional(),
      })
      .describe('<prefix>/event/stale/<sensor>: a sensor went silent for longer than its cadence allows, or came back'),
    z
      .object({
        ...eventCommon,
        kind: z.literal('availability'),
        subject: z.string().min(1).describe('the device as its source names it (with the source\'s prefix): a zigbee2mqtt friendly name, a Tasmota topic, an ESPHome node, a Shelly id'),
        state: z.enum(['online', 'offline']),
        previousSince: isoTime.optional().describe('when the previous state began, when one was known'),
        replayed: z.literal(true).optional(),
      })
      .describe('<prefix>/event/availability/<subject>: a device\'s firmware said it went online or offline (first report, or a change)'),
    z
      .object({
        ...eventCommon,
        ts: isoTime.describe('when the rule was raised or cleared (the reading or tick that decided it)'),
        kind: z.literal('rule'),
        rule: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/).describe('the rule\'s id (config rules[].id)'),
        state: z.enum(['raised', 'cleared']),
        severity: z.enum(['info', 'warning', 'major', 'critical']),
        since: isoTime.describe('when its condition began to hold (a `for` rule: the start of the hold; a sequence: its first step; a count: the first occurrence counted)'),
        heldS: z.number().min(0).describe('seconds from `since` to `ts`'),
        raisedAt: isoTime.optional().describe('cleared events: when it was raised'),
        values: z.record(z.string(), z.number()).describe('the values the rule read at this moment: "<sensor>" its latest reading, "<aggregate>(<sensor>)" (e.g. "mean(fridge/temp)") its latest complete window\'s aggregate'),
        message: z.string().optional(),
        replayed: z.literal(true).optional(),
      })
      .describe('<prefix>/event/<rule id>: a rule (config rules:) became true (raised) or stopped being true (cleared)'),
  ])
  .describe('Something that happened to a sensor or device (class: drains before summaries, never merged)');

export const statusMessage = z.enum(['online', 'offline']).describe('retained; "offline" is also the MQTT last will');

const jobStatus = z.object({ lastRun: isoTime.nullable(), ok: z.boolean().nullable(), error: z.string().nullable(), ms: z.number().nullable(), runs: count });
const shedCounts = z.object({ journalReadings: count, summaries: count, anomalies: count, deadLetters: count });
const keyRanges = z.union([z.array(z.tuple([z.number(), z.number().nullable()])), z.literal('all')]);

export const healthMessage = z
  .object({
    v: z.literal(1),
    device: z.string().min(1),
    ts: isoTime,
    uptimeS: z.number(),
    ingest: z.object({ readings: count, ratePerS: z.number(), late: count, unrouted: count, sensors: count, openWindows: count }),
    emitted: z.object({ summaries: count, anomalies: count, events: count.optional() }),
    presence: z
      .object({ staleSensors: count, stale: z.array(z.string()).describe('up to 20 of them'), offlineDevices: count })
      .optional()
      .describe('sensors silent past their cadence, devices their firmware says are offline'),
    learning: z
      .object({
        detectors: count.describe('detectors that learn a baseline (sensor x detector)'),
        learning: count.describe('of them, still warming up (no verdict yet)'),
        least: z.array(z.object({ sensor: z.string(), detector: z.string(), progress: z.number().describe('0..1 of its warm-up') })).describe('up to 5, least advanced first'),
      })
      .optional()
      .describe('detector warm-up: a sensor whose detectors still learn is not yet protected'),
    rules: z
      .object({
        rules: count.describe('rules in the config'),
        raised: z.array(z.object({ rule: z.string(), severity: z.enum(['info', 'warning', 'major', 'critical']), since: isoTime, raisedAt: isoTime })).describe('rules raised now (up to 20)'),
      })
      .optional()
      .describe('rules (config rules:), present when the config has any'),
    backlog: z.object({ rows: count, bytes: count, oldestAgeS: z.number().nullable() }),
    uplink: z.object({
      state: z.string(),
      since: isoTime,
      lastError: z.string().nullable(),
      delivered: count,
      inflight: count,
      protocol: z.string(),
      lastSeqSent: z.number().describe('the highest seq the fleet broker acknowledged (at start: the one below the oldest unsent)'),
      firstSeq: z.number().describe('the first seq of the current database: a jump to it is a new database, not loss'),
    }),
    deadLetters: z.object({ total: count, byReason: z.record(z.string(), count) }),
    evictions: count,
    merges: count,
    journalTrimmed: count,
    clock: z.object({
      state: z.enum(['trusted', 'unsynchronized', 'invalid']),
      synchronized: z.boolean().nullable(),
      unsyncedFallback: z.boolean(),
      jumps: count,
      lastJumpMs: z.number().nullable(),
      held: count,
    }),
    schedules: z.record(z.string(), jobStatus),
    alarms: z.array(z.number().int()),
    sources: z
      .record(z.string(), z.object({ running: z.boolean() }).catchall(z.unknown()))
      .describe('each input by name (e.g. "mqtt:sensors/#", "gpio:17"): running, and what it reads'),
    store: z.object({
      writable: z.boolean(),
      problem: z.enum(['disk-full', 'read-only', 'io-error', 'corrupt', 'other']).nullable(),
      error: z.string().nullable(),
      since: isoTime.nullable(),
      waiting: count,
      heldMessages: count,
      heldBatches: count,
      shed: shedCounts,
      budget: z.object({ maxBytes: count, fileBytes: count, usedBytes: count, limitBytes: count, diskFull: z.boolean() }),
      evicted: z.object({ summaries: count, anomalies: count, events: count.optional() }),
      deadLettersTrimmed: count,
      writes: z
        .object({
          bytesPerHour: z.number().nullable().describe('this process\'s disk writes (/proc/self/io write_bytes) over the last hour of samples; null for the first minute or without /proc'),
          projectedGBPerDay: z.number().nullable().describe('the same as GB a day: what the SD card takes'),
        })
        .optional(),
      salvage: z
        .object({
          asideAs: z.string(),
          at: isoTime,
          salvaged: z.object({ outbox: count, deadLetters: count, journalBatches: count, checkpoint: z.boolean() }),
          unreadable: z.record(z.string(), keyRanges),
          nextSeq: z.number(),
        })
        .nullable(),
    }),
  })
  .describe('The agent\'s health (retained; also /status and outpost status)');

export const dailyReport = z
  .object({
    v: z.literal(1),
    device: z.string().min(1),
    from: isoTime,
    to: isoTime,
    readings: count,
    summaries: count,
    anomalies: count,
    deadLetters: count,
    delivered: count,
    merges: count,
    evictions: count,
    backlog: healthMessage.shape.backlog,
  })
  .describe('Counts over a day (retained); the period starts anew only once its report went out');

export type SummaryMessage = z.infer<typeof summaryMessage>;
export type AnomalyMessage = z.infer<typeof anomalyMessage>;
export type EventMessage = z.infer<typeof eventMessage>;
export type HealthMessage = z.infer<typeof healthMessage>;
export type DailyReport = z.infer<typeof dailyReport>;
