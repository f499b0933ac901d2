// MQTT input: messages on a topic filter become readings; the sensor id is the topic minus the
// filter's literal prefix ("sensors/#" turns "sensors/greenhouse/temp1" into "greenhouse/temp1").
// One message makes at most one dead letter: the problems of a SenML pack are summed up in it
// (a 16 KB pack of 5,000 bad records is one row with a bounded payload, not 5,000 copies).
import type { Source, SourceSink, Clock } from '../source.js';
import type { MessageFeed } from './message-feed.js';
import { parsePayload, type PayloadFormat } from './payload.js';
import { sensorIdFromTopic } from '../../stream/topic-filter.js';
import type { Problem } from '../../stream/rejection.js';

export interface MqttSourceOptions {
  topic: string;
  format: PayloadFormat;
  maxPayloadBytes: number;
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
}

export function createMqttSource(opts: MqttSourceOptions): Source {
  const name = `mqtt:${opts.topic}`;
  let unsubscribe: (() => Promise<void>) | undefined;
  let sink: SourceSink | undefined;
  const handle = (topic: string, payload: Buffer, qos: 0 | 1 | 2 = 0): Promise<void> | undefined => {
    const receivedAt = opts.clock();
    const s = sink!;
    try {
      const { readings, problems } = parsePayload(payload, {
        sensor: sensorIdFromTopic(opts.topic, topic),
        receivedAt,
        format: opts.format,
        maxBytes: opts.maxPayloadBytes,
        time: opts.time,
      });
      for (const r of readings) s.reading(r);
      if (problems.length > 0) s.reject({ ...summarize(problems), source: name, topic, receivedAt, payload });
    } catch (err) {
      // Last resort: a bug must cost one message, never the process.
      opts.onInternalError?.(err, topic);
      s.reject({ reason: 'internal-error', detail: `the agent failed on this message: ${(err as Error)?.message ?? String(err)}`, source: name, topic, receivedAt, payload });
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
      unsubscribe = await opts.feed.subscribe(opts.topic, handle, (topic, detail) =>
        s.reject({ reason: 'bad-topic', detail, source: name, topic, receivedAt: opts.clock() }),
      );
    },
    async stop() {
      await unsubscribe?.();
      unsubscribe = undefined;
    },
    health: () => ({ running: unsubscribe !== undefined, topic: opts.topic }),
    redeliver(topic, payload) {
      if (sink) void handle(topic, payload);
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
