// MQTT input: messages on the decoder's topic filters become readings. The generic decoder takes
// the sensor id from the topic minus the filter's literal prefix ("sensors/#" turns
// "sensors/greenhouse/temp1" into "greenhouse/temp1"); a firmware preset maps its own topics
// (presets/). One message makes at most one dead letter: the problems of a SenML pack are
// summed up in it (a 16 KB pack of 5,000 bad records is one row with a bounded payload).
import type { Source, SourceSink, Clock } from '../source.js';
import type { MessageFeed } from './message-feed.js';
import type { PayloadFormat } from './payload.js';
import type { Problem } from '../../stream/rejection.js';
import { genericDecoder, type TopicDecoder } from './topic-decoder.js';
import { stateWords } from './scalar-value.js';
import { DEFAULT_TIME_FIELDS } from './fields-format.js';

export interface MqttSourceOptions {
  /** For logs, dead letters and replay; default mqtt:<topic>. */
  name?: string;
  /** How topics and payloads become readings; default the generic one for `topic` and `format`. */
  decoder?: TopicDecoder;
  topic?: string;
  format?: PayloadFormat;
  maxPayloadBytes: number;
  /** Put in front of every sensor id and device name this source produces. */
  prefix?: string;
  /** Sensor ids other sources produce (GPIO, simulated): a message mapping onto one is dead-lettered. */
  reserved?: ReadonlySet<string>;
  /** A message another source on the same broker takes instead (its filter is more specific). */
  claimedElsewhere?: (topic: string) => boolean;
  feed: MessageFeed;
  clock: Clock;
  /** Plausible event times (see ParseContext.time). */
  time?: { floor: number; horizon: number };
  /**
   * Acknowledge a QoS 1/2 message only once what it became (readings, or a dead letter) is
   * committed: the feed holds its PUBACK until the returned promise settles.
   */
  ackAfterCommit?: boolean;
  /** An exception escaped the parser: logged with its stack by the caller; the message is dead-lettered. */
  onInternalError?: (err: unknown, topic: string) => void;
  /** The first retained message skipped (old state, not a reading), for a log line. */
  onStaleSkipped?: (topic: string) => void;
}

/** Devices whose availability is tracked, at most (a flood of names cannot grow health). */
const MAX_DEVICES = 1000;

export function createMqttSource(opts: MqttSourceOptions): Source {
  const topic = opts.topic ?? 'sensors/#';
  const name = opts.name ?? `mqtt:${topic}`;
  const decoder = opts.decoder ?? genericDecoder(topic, opts.format ?? 'auto', { maxBytes: opts.maxPayloadBytes, time: opts.time, states: stateWords(), keep: () => true, timeFields: DEFAULT_TIME_FIELDS });
  const prefix = opts.prefix ? `${opts.prefix}/` : '';
  const counts = { skippedValues: 0, untimed: 0, ignored: 0, staleSkipped: 0, leftToOthers: 0 };
  const devices = new Map<string, { online: boolean; since: number }>();
  let unsubscribe: (() => Promise<void>) | undefined;
  let sink: SourceSink | undefined;

  const handle = (t: string, payload: Buffer, qos: 0 | 1 | 2 = 0, stale = false): Promise<void> | undefined => {
    if (opts.claimedElsewhere?.(t)) {
      counts.leftToOthers++;
      return undefined;
    }
    const receivedAt = opts.clock();
    const s = sink!;
    try {
      const d = decoder.decode(t, payload, receivedAt);
      if (d.availability) {
        const device = prefix + d.availability.device;
        const was = devices.get(device);
        if (was?.online !== d.availability.online && (was || devices.size < MAX_DEVICES)) devices.set(device, { online: d.availability.online, since: receivedAt });
        s.availability(device, d.availability.online, receivedAt);
      }
      if (d.ignored) counts.ignored++;
      counts.skippedValues += d.skipped ?? 0;
      counts.untimed += d.untimed ?? 0;
      if (stale) {
        // Old state the broker kept: never a reading, so a silent sensor cannot look alive.
        if (counts.staleSkipped++ === 0 && d.readings.length > 0) opts.onStaleSkipped?.(t);
      } else {
        const problems: Problem[] = [...d.problems];
        for (const r of d.readings) {
          if (prefix !== '') r.sensor = prefix + r.sensor;
          if (opts.reserved?.has(r.sensor)) problems.push({ reason: 'bad-sensor-id', detail: `sensor id ${JSON.stringify(r.sensor)} belongs to another source (a GPIO or simulated sensor): give this source a prefix` });
          else s.reading(r);
        }
        if (problems.length > 0) s.reject({ ...summarize(problems), source: name, topic: t, receivedAt, payload });
      }
    } catch (err) {
      // Last resort: a bug must cost one message, never the process.
      opts.onInternalError?.(err, t);
      s.reject({ reason: 'internal-error', detail: `the agent failed on this message: ${(err as Error)?.message ?? String(err)}`, source: name, topic: t, receivedAt, payload });
    }
    const ready = s.ready();
    if (qos === 0 || !opts.ackAfterCommit) return ready;
    const durable = s.durable();
    return ready ? Promise.all([ready, durable]).then(() => undefined) : durable;
  };
  return {
    name,
    async start(s: SourceSink) {
      sink = s;
      unsubscribe = await opts.feed.subscribe(decoder.filters, handle, (t, detail) => s.reject({ reason: 'bad-topic', detail, source: name, topic: t, receivedAt: opts.clock() }));
    },
    async stop() {
      await unsubscribe?.();
      unsubscribe = undefined;
    },
    health: () => ({
      running: unsubscribe !== undefined,
      topic: decoder.filters.join(', '),
      ...counts,
      ...(devices.size > 0 && { devices: Object.fromEntries([...devices].map(([d, a]) => [d, a.online ? 'online' : 'offline'])) }),
    }),
    redeliver(t, payload) {
      if (sink) void handle(t, payload);
    },
  };
}

/** One problem standing for all of a message's: the first, and how many more there were. */
export function summarize(problems: readonly Problem[]): Problem {
  const first = problems[0]!;
  if (problems.length === 1) return first;
  const reasons = [...new Set(problems.map((p) => p.reason))].join(', ');
  return { reason: first.reason, detail: `${first.detail}; and ${problems.length - 1} more problem(s) in this message (${reasons})` };
}
