// `format: fields` through the zigbee2mqtt preset and the stream stage, no I/O: a 5-field
// zigbee2mqtt payload (plus linkquality, which the preset leaves out) per message, 200 devices,
// 1 s tumbling windows with the moment aggregates; messages/s and readings/s on one core.
import { createStream, type StreamOutput } from '../src/stream/stream.js';
import { mqttDecoder } from '../src/agent/build-sources.js';
import { source } from '../src/config/sources-schema.js';
import type { MqttSourceConfig } from '../src/config/schema.js';

export interface FieldsResult {
  devices: number;
  messages: number;
  messagesPerS: number;
  readingsPerS: number;
}

export function benchFields({ devices = 200, messages = 400_000 } = {}): FieldsResult {
  const cfg = source.parse({ type: 'mqtt', preset: 'zigbee2mqtt' }) as MqttSourceConfig;
  const { decoder } = mqttDecoder(cfg, 16_384, { floor: 1e11, horizon: 3650 * 86_400_000, skewMs: 300_000 });
  const stream = createStream([{ match: ['**'], window: { size: 1000, lateness: 0 }, aggregates: ['count', 'min', 'max', 'mean', 'stddev', 'first', 'last'], detectors: [] }]);
  const topics = Array.from({ length: devices }, (_, i) => `zigbee2mqtt/living room sensor ${i}`);
  const payloads = Array.from({ length: 16 }, (_, i) => Buffer.from(`{"battery":${90 + i},"humidity":${45 + i / 10},"linkquality":120,"pressure":${1013 + i / 10},"temperature":${21 + i / 10},"voltage":${2990 + i}}`));
  const out: StreamOutput[] = [];
  const t0 = 1_795_428_000_000;
  let readings = 0;
  const run = (n: number) => {
    for (let i = 0; i < n; i++) {
      const now = t0 + Math.floor(i / devices) * 50; // every device at 20 Hz
      const d = decoder.decode(topics[i % devices]!, payloads[i % 16]!, now);
      for (const r of d.readings) stream.ingest(r, out);
      readings += d.readings.length;
      out.length = 0;
    }
  };
  run(20_000); // warm-up
  readings = 0;
  const start = process.hrtime.bigint();
  run(messages);
  const s = Number(process.hrtime.bigint() - start) / 1e9;
  return { devices, messages, messagesPerS: Math.round(messages / s), readingsPerS: Math.round(readings / s) };
}
