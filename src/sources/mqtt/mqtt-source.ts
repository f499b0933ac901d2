// MQTT input: messages on a topic filter become readings; the sensor id is the topic minus the
// filter's literal prefix ("sensors/#" turns "sensors/greenhouse/temp1" into "greenhouse/temp1").
import type { Source, SourceSink, Clock } from '../source.js';
import type { MessageFeed } from './message-feed.js';
import { parsePayload, type PayloadFormat } from './payload.js';
import { sensorIdFromTopic } from '../../stream/topic-filter.js';

export interface MqttSourceOptions {
  topic: string;
  format: PayloadFormat;
  maxPayloadBytes: number;
  feed: MessageFeed;
  clock: Clock;
}

export function createMqttSource(opts: MqttSourceOptions): Source {
  const name = `mqtt:${opts.topic}`;
  let unsubscribe: (() => Promise<void>) | undefined;
  let sink: SourceSink | undefined;
  const handle = (topic: string, payload: Buffer) => {
    const receivedAt = opts.clock();
    const { readings, problems } = parsePayload(payload, {
      sensor: sensorIdFromTopic(opts.topic, topic),
      receivedAt,
      format: opts.format,
      maxBytes: opts.maxPayloadBytes,
    });
    for (const r of readings) sink!.reading(r);
    for (const p of problems) sink!.reject({ ...p, source: name, topic, receivedAt, payload });
    return sink!.ready();
  };
  return {
    name,
    async start(s: SourceSink) {
      sink = s;
      unsubscribe = await opts.feed.subscribe(opts.topic, handle);
    },
    async stop() {
      await unsubscribe?.();
      unsubscribe = undefined;
    },
    redeliver(topic, payload) {
      if (sink) void handle(topic, payload);
    },
  };
}
