// End-to-end ingest: one publisher process (this one) sends JSON readings from N sensors over
// MQTT/TCP to the agent's embedded broker; the agent (a separate process, the built CLI) windows
// them into 1 s summaries and forwards those to a fleet broker (in this process). Reports the
// agent's sustained ingest rate and its RSS, read from /proc.
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../test/helpers/ports.js';
import mqtt from 'mqtt';
import { startEmbeddedBroker } from '../src/broker/embedded-broker.js';
import { silentLogger } from '../src/ops/logger.js';

export interface IngestResult {
  sensors: number;
  /** Target publish rate, or 0 for as fast as the broker takes them. */
  targetPerS: number;
  journal: boolean;
  seconds: number;
  published: number;
  ingested: number;
  ratePerS: number;
  medianRatePerS: number;
  summaries: number;
  summarizedReadings: number;
  /** Readings counted late by the agent (not in any summary's count). */
  late: number;
  rssMaxMB: number;
  rssEndMB: number;
}

const rssMB = (pid: number) => {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
};

/** `main`: the CLI to run as the agent (another build, for an A/B comparison). */
/**
 * `preset: 'zigbee2mqtt'`: sensors/5 devices publish zigbee2mqtt JSON (5 measured fields and
 * linkquality, which the preset leaves out) on zigbee2mqtt/<friendly name>; readings count as
 * in the plain run.
 */
export async function benchIngest({ sensors = 100, seconds = 10, targetPerS = 0, nodeFlags = [] as string[], journal = true, main = 'dist/cli/main.js', preset = undefined as 'zigbee2mqtt' | undefined } = {}): Promise<IngestResult> {
  const fleet = await startEmbeddedBroker({ host: '127.0.0.1', port: 0, log: silentLogger(), allowAnonymousWildcards: true });
  let summaries = 0;
  let summarizedReadings = 0;
  await fleet.subscribe('outpost/bench/summary/#', (_t, payload) => {
    summaries++;
    summarizedReadings += (JSON.parse(payload.toString()) as { count: number }).count;
  });
  const [brokerPort, httpPort] = [await freePort(), await freePort()];
  const dir = mkdtempSync(join(tmpdir(), 'outpost-bench-'));
  writeFileSync(join(dir, 'bench.yaml'), `
device: { id: bench }
broker: { host: 127.0.0.1, port: ${brokerPort}, maxMessageRate: 0 }   # one publisher stands in for 100 sensors
sources: [ ${preset ? `{ type: mqtt, preset: ${preset} }` : '{ type: mqtt, topic: "sensors/#" }'} ]
pipelines:
  - match: ["**"]
    window: { type: tumbling, size: 1s }
    aggregates: [count, min, max, mean, stddev, first, last]
    detectors: [ { type: threshold, min: -1000, max: 1000 }, { type: zscore, threshold: 6 } ]
uplink: { url: "mqtt://127.0.0.1:${fleet.port}", maxRate: 0 }
storage: { path: ./bench.db, journal: { enabled: ${journal} } }
http: { host: 127.0.0.1, port: ${httpPort} }
log: { level: warn }
`);
  const agent = spawn(process.execPath, [...nodeFlags, main, 'run', '--config', join(dir, 'bench.yaml')], { stdio: 'inherit' });
  const status = async () => (await (await fetch(`http://127.0.0.1:${httpPort}/status`)).json()) as { ingest: { readings: number; late: number }; emitted: { summaries: number } };
  for (let i = 0; ; i++) {
    try {
      await status();
      break;
    } catch {
      if (i > 100) throw new Error('agent did not start');
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  const pub = await mqtt.connectAsync(`mqtt://127.0.0.1:${brokerPort}`, { protocolVersion: 4 });
  const perMessage = preset ? 5 : 1;
  const topics = preset ? Array.from({ length: sensors / 5 }, (_, i) => `zigbee2mqtt/bench sensor ${i}`) : Array.from({ length: sensors }, (_, i) => `sensors/bench/s${i}`);
  let published = 0;
  let running = true;
  const pubStart = Date.now();
  const publishing = (async () => {
    while (running) {
      if (targetPerS > 0) {
        const due = pubStart + (published / targetPerS) * 1000;
        if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
      }
      // One batch, then wait until the socket has taken it: the broker's pace sets ours.
      const ts = Date.now();
      let last: Promise<void> = Promise.resolve();
      for (let i = 0; i < 1000; i += perMessage) {
        const topic = topics[((published + i) / perMessage) % topics.length]!;
        const v = (published + i) % 97;
        const payload = preset ? `{"battery":${v},"humidity":${v / 2},"linkquality":120,"pressure":${1000 + v},"temperature":${v / 4},"voltage":${3000 + v},"last_seen":${ts}}` : `{"value":${v},"ts":${ts}}`;
        last = new Promise<void>((resolve) => pub.publish(topic, payload, { qos: 0 }, () => resolve()));
      }
      published += 1000;
      await last;
    }
  })();

  const samples: Array<{ t: number; readings: number }> = [];
  let rssMax = 0;
  const t0 = Date.now();
  while (Date.now() - t0 < seconds * 1000) {
    await new Promise((r) => setTimeout(r, 500));
    samples.push({ t: Date.now(), readings: (await status()).ingest.readings });
    rssMax = Math.max(rssMax, rssMB(agent.pid!));
  }
  running = false;
  await publishing;
  await pub.endAsync();
  // let the agent catch up and close the last windows
  let ingested = 0;
  for (let i = 0; i < 100; i++) {
    ingested = (await status()).ingest.readings;
    if (ingested >= published) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const rssEnd = rssMB(agent.pid!);
  await new Promise((r) => setTimeout(r, 2500));
  const late = (await status()).ingest.late;
  const exited = new Promise((r) => agent.once('exit', r));
  agent.kill('SIGTERM');
  await exited;
  await fleet.close();

  // Rates per 500 ms interval, skipping the first second (connection set-up, JIT warm-up).
  const rates = samples.slice(2).map((s, i, arr) => (i === 0 ? NaN : ((s.readings - arr[i - 1]!.readings) * 1000) / (s.t - arr[i - 1]!.t))).filter((x) => !Number.isNaN(x));
  const sorted = [...rates].sort((a, b) => a - b);
  const first = samples[2]!;
  const last = samples[samples.length - 1]!;
  return {
    sensors,
    targetPerS,
    journal,
    seconds,
    published,
    ingested,
    ratePerS: Math.round(((last.readings - first.readings) * 1000) / (last.t - first.t)),
    medianRatePerS: Math.round(sorted[Math.floor(sorted.length / 2)] ?? 0),
    summaries,
    summarizedReadings,
    late,
    rssMaxMB: Math.round(rssMax * 10) / 10,
    rssEndMB: Math.round(rssEnd * 10) / 10,
  };
}
