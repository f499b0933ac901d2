// The fleet service: how fast it projects upstream messages into SQLite (through its real MQTT
// feed from a broker, QoS 1, and the store alone), its RSS with 1,000 devices x 10 sensors, and
// how long a device page takes with 24 h of 1-minute summaries for 10 sensors.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { startEmbeddedBroker } from '../src/broker/embedded-broker.js';
import { startMosquitto } from '../test/helpers/mosquitto.js';
import { silentLogger } from '../src/ops/logger.js';
import { startFleetService } from '../src/fleet/fleet-service.js';
import { fleetConfigSchema } from '../src/fleet/fleet-config.js';
import { openFleetStore } from '../src/fleet/fleet-store.js';
import { readMessage } from '../src/fleet/read-message.js';
import type { LogEntry } from '../src/fleet/projection.js';

const T0 = Date.parse('2026-11-28T00:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();

function summary(device: string, seq: number, sensor: string, minute: number): { topic: string; payload: string } {
  const start = T0 + minute * 60_000;
  const payload = JSON.stringify({ v: 1, id: `${device}:${seq}`, device, sensor, window: { start: iso(start), end: iso(start + 60_000) }, count: 60, min: 20, max: 22, mean: 21 + (minute % 7) / 10, stddev: 0.4, first: 20.5, last: 21.5, late: 0 });
  return { topic: `outpost/${device}/summary/${sensor}`, payload };
}

export interface FleetBench {
  mqttMessagesPerS: number;
  storeMessagesPerS: number;
  rssMB: number;
  devicePageMs: number;
}

/** `mosquitto`: the fleet broker is Debian's Mosquitto with these extra config lines (else the embedded broker). */
export async function benchFleet(o: { mosquitto?: string[] } = {}): Promise<FleetBench> {
  const dir = mkdtempSync(join(tmpdir(), 'outpost-fleet-bench-'));
  // 1. Through MQTT: 1,000 devices x 10 sensors, 5 windows each = 50,000 summaries at QoS 1.
  const broker = o.mosquitto
    ? await startMosquitto({ extra: o.mosquitto })
    : await startEmbeddedBroker({ host: '127.0.0.1', port: 0, log: silentLogger(), allowAnonymousWildcards: true, maxMessageRate: 0 } as Parameters<typeof startEmbeddedBroker>[0]);
  // The service in its own process (as deployed), so its RSS is its own.
  const httpPort = 18000 + Math.floor(Math.random() * 1000);
  writeFileSync(join(dir, 'fleet.yaml'), `broker: { url: "mqtt://127.0.0.1:${broker.port}", clientId: bench }\nstore: { path: ./mqtt.db }\nhttp: { port: ${httpPort} }\nlog: { level: error }\n`);
  // As systemd/outpost-fleet.service runs it: a small V8 young generation and a bounded old one.
  const child = spawn(process.execPath, [...(process.env.FLEET_NODE_FLAGS ?? '--max-semi-space-size=2 --max-old-space-size=96').split(' '), 'dist/cli/main.js', 'fleet', '--config', join(dir, 'fleet.yaml')], { stdio: 'ignore' });
  const accepted = async () => {
    try {
      const ds = (await (await fetch(`http://127.0.0.1:${httpPort}/api/devices`)).json()) as unknown[];
      return ds.length;
    } catch {
      return -1;
    }
  };
  while ((await accepted()) < 0) await new Promise((r) => setTimeout(r, 100));
  await new Promise((r) => setTimeout(r, 300));
  const pub = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.port}`, { protocolVersion: 4 });
  const total = 50_000;
  const started = Date.now();
  let seq = 0;
  for (let minute = 0; minute < 5; minute++) {
    const batch: Array<Promise<unknown>> = [];
    for (let d = 0; d < 1000; d++) for (let s = 0; s < 10; s++) {
      const m = summary(`dev-${d}`, ++seq, `room/s${s}`, minute);
      batch.push(pub.publishAsync(m.topic, m.payload, { qos: 1 }));
    }
    await Promise.all(batch);
  }
  // Done when the last window of every sensor is in: 1,000 devices with 10 sensors each.
  const lastDone = async () => {
    const r = await fetch(`http://127.0.0.1:${httpPort}/api/devices/dev-999/sensors/room%2Fs9/summaries?from=${iso(T0)}&to=${iso(T0 + 600_000)}`);
    return ((await r.json()) as unknown[]).length === 5;
  };
  while (!(await lastDone())) await new Promise((r) => setTimeout(r, 50));
  const mqttMessagesPerS = Math.round(total / ((Date.now() - started) / 1000));
  const rssMB = Math.round(Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))![1]) / 102.4) / 10;
  await pub.endAsync();
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  await ('close' in broker ? broker.close() : broker.stop());

  // 2. The store alone: the same shape of entries, accepted 1,000 at a time.
  const store = await openFleetStore(join(dir, 'store.db'));
  const entries: LogEntry[] = [];
  for (let i = 0; i < total; i++) {
    const m = summary(`dev-${i % 1000}`, i + 1, `room/s${Math.floor(i / 1000) % 10}`, Math.floor(i / 10_000));
    const r = readMessage(['outpost/+'], m.topic, m.payload, Date.now());
    if ('entry' in r) entries.push(r.entry);
  }
  const t1 = Date.now();
  for (let i = 0; i < entries.length; i += 1000) await store.accept(entries.slice(i, i + 1000));
  const storeMessagesPerS = Math.round(entries.length / ((Date.now() - t1) / 1000));
  await store.close();

  // 3. A device page: 24 h of 1-minute summaries for 10 sensors (14,400 rows).
  const page = await openFleetStore(join(dir, 'page.db'));
  const day: LogEntry[] = [];
  for (let minute = 0, n = 0; minute < 1440; minute++) for (let s = 0; s < 10; s++) {
    const m = summary('pump-7', ++n, `line/s${s}`, minute);
    const r = readMessage(['outpost/+'], m.topic, m.payload, Date.now());
    if ('entry' in r) day.push(r.entry);
  }
  for (let i = 0; i < day.length; i += 2000) await page.accept(day.slice(i, i + 2000));
  await page.close();
  const view = await startFleetService(fleetConfigSchema.parse({ broker: { url: 'mqtt://127.0.0.1:1' }, store: { path: join(dir, 'page.db') }, http: { port: 0 }, log: { level: 'error' } }), silentLogger());
  const base = `http://127.0.0.1:${view.httpPort}`;
  const times: number[] = [];
  for (let run = 0; run < 5; run++) {
    const t = Date.now();
    const d = (await (await fetch(`${base}/api/devices/pump-7`)).json()) as { sensors: Array<{ sensor: string }> };
    await Promise.all(d.sensors.map((s) => fetch(`${base}/api/devices/pump-7/sensors/${encodeURIComponent(s.sensor)}/summaries?from=${iso(T0)}&to=${iso(T0 + 86_400_000)}&points=360`).then((r) => r.json())));
    times.push(Date.now() - t);
  }
  await view.stop();
  times.sort((a, b) => a - b);
  return { mqttMessagesPerS, storeMessagesPerS, rssMB, devicePageMs: times[2]! };
}
