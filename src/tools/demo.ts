// `outpost demo` (what `npm start` runs): the whole story on one machine. Simulated sensors
// publish over MQTT to the agent's local broker; the agent windows them, detects anomalies,
// buffers in SQLite and forwards to a second broker standing in for the fleet; the console
// shows what arrives upstream. Halfway, the fleet broker goes down for a while and comes back.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { loadConfigFile, type AgentConfig } from '../config/load.js';
import { createLogger } from '../ops/logger.js';
import { createAgent } from '../agent/agent.js';
import type { Agent } from '../agent/agent-types.js';
import { startEmbeddedBroker, type EmbeddedBroker } from '../broker/embedded-broker.js';
import { startSimulatedPublisher } from './simulated-publisher.js';
import type { SimulatedSensorConfig } from '../config/schema.js';
import { parseDuration } from '../config/units.js';
import { reportProblems } from '../cli/check-config.js';
import { describeUpstream, printLine } from '../cli/console-view.js';
import { startFleetService, type FleetService } from '../fleet/fleet-service.js';
import { fleetConfigSchema } from '../fleet/fleet-config.js';
import type { Io } from '../cli/io.js';

export const DEMO_CONFIG = fileURLToPath(new URL('../../device-configs/demo.yaml', import.meta.url));

const s = (id: string, extra: Partial<SimulatedSensorConfig>): SimulatedSensorConfig => ({
  id, rateHz: 2, shape: 'sine', base: 21, amplitude: 1.5, period: 60_000, noise: 0.1, anomalies: [], ...extra,
});

/** The greenhouse the demo simulates; each sensor carries a fault the detectors should catch. */
export const DEMO_SENSORS: SimulatedSensorConfig[] = [
  s('greenhouse/temp1', { anomalies: [{ type: 'spike', at: 8_000, every: 20_000, duration: 0, magnitude: 30 }] }),
  s('greenhouse/temp2', { base: 19, anomalies: [{ type: 'drift', at: 25_000, duration: 10_000, magnitude: 3 }] }),
  s('greenhouse/humidity', { shape: 'random-walk', base: 65, amplitude: 3, anomalies: [{ type: 'spike', at: 14_000, every: 30_000, duration: 0, magnitude: -40 }] }),
  s('greenhouse/soil', { base: 0.32, amplitude: 0.02, noise: 0.005, rateHz: 1, anomalies: [{ type: 'dropout', at: 40_000, duration: 8_000, magnitude: 0 }] }),
];

export interface DemoArgs {
  duration?: string;
  outageAt?: string;
  outageFor?: string;
}

export async function demo(a: DemoArgs, io: Io): Promise<number> {
  const loaded = loadConfigFile(DEMO_CONFIG);
  if (!loaded.ok) return reportProblems(DEMO_CONFIG, loaded, io);
  const durationMs = a.duration ? parseDuration(a.duration) : undefined;
  const outageAt = parseDuration(a.outageAt ?? '30s') ?? 30_000;
  const outageFor = parseDuration(a.outageFor ?? '10s') ?? 10_000;
  const log = createLogger('error', process.stderr);

  // The fleet broker stand-in, on the config's port when free.
  const fleetPort = Number(new URL(loaded.config.uplink.url).port || 1883);
  let fleet: EmbeddedBroker = await startOnFreePort((port) => startEmbeddedBroker({ host: '127.0.0.1', port, log, allowAnonymousWildcards: true }), fleetPort);
  const fleetUrl = `mqtt://127.0.0.1:${fleet.port}`;

  const dir = mkdtempSync(join(tmpdir(), 'outpost-demo-'));
  const config = (brokerPort: number): AgentConfig => ({
    ...loaded.config,
    broker: { ...loaded.config.broker, port: brokerPort },
    uplink: { ...loaded.config.uplink, url: fleetUrl },
    storage: { ...loaded.config.storage, path: join(dir, 'demo.db') },
  });
  const agent: Agent = await startOnFreePort(async (port) => {
    const candidate = createAgent({ config: config(port), log });
    try {
      await candidate.start();
    } catch (err) {
      await candidate.stop().catch(() => undefined);
      throw err;
    }
    return candidate;
  }, loaded.config.broker.port);
  const localUrl = `mqtt://127.0.0.1:${agent.brokerPort}`;
  // The fleet side: the read model and dashboard on the stand-in fleet broker.
  const fleetService = async (port: number): Promise<FleetService> =>
    startFleetService(fleetConfigSchema.parse({ broker: { url: fleetUrl, clientId: `outpost-demo-fleet-${process.pid}` }, store: { path: join(dir, 'fleet.db') }, http: { host: '127.0.0.1', port } }), log);
  const service = await fleetService(8080).catch(() => fleetService(0));
  const prefix = loaded.config.uplink.topicPrefix;

  io.out('Outpost demo');
  io.out(`  ${DEMO_SENSORS.length} simulated sensors --MQTT--> local broker ${localUrl} --> Outpost (5 s windows, threshold + z-score)`);
  io.out(`  --> SQLite outbox ${join(dir, 'demo.db')} --MQTT QoS 1--> fleet broker ${fleetUrl}`);
  io.out(`  Watch upstream yourself:  mosquitto_sub -h 127.0.0.1 -p ${fleet.port} -t '${prefix}/#' -v`);
  io.out(`  The fleet dashboard: open http://127.0.0.1:${service.httpPort}/  (devices, charts filling, anomalies, the backlog draining)`);
  io.out(`  The fleet broker goes down at ${outageAt / 1000} s for ${outageFor / 1000} s: watch the backlog grow and drain. Ctrl-C stops.`);
  io.out('');

  const sim = await startSimulatedPublisher({ url: localUrl, sensors: DEMO_SENSORS, seed: 42, prefix: 'sensors/', qos: 1 });
  const viewer = mqtt.connect(fleetUrl, { reconnectPeriod: 500, clientId: `outpost-demo-viewer-${process.pid}`, writeCache: false });
  viewer.on('error', () => undefined);
  viewer.on('connect', () => viewer.subscribe(`${prefix}/#`, { qos: 1 }));
  viewer.on('message', (topic, payload) => {
    const line = describeUpstream(topic, payload.toString(), prefix);
    if (line) printLine(io, line);
  });

  const statusTimer = setInterval(() => {
    void agent.health().then((h) => {
      printLine(io, `--------  ${h.ingest.readings} readings in, ${h.emitted.summaries} summaries, ${h.emitted.anomalies} anomalies; backlog ${h.backlog.rows} msgs; uplink ${h.uplink.state}`);
    });
  }, 5_000);

  let restart: NodeJS.Timeout | undefined;
  const outage = setTimeout(async () => {
    printLine(io, `--------  fleet broker DOWN (simulated outage for ${outageFor / 1000} s): Outpost keeps everything in SQLite`);
    await fleet.close();
    restart = setTimeout(async () => {
      fleet = await startEmbeddedBroker({ host: '127.0.0.1', port: Number(new URL(fleetUrl).port), log, allowAnonymousWildcards: true });
      printLine(io, '--------  fleet broker back UP: the backlog drains in seq order');
    }, outageFor);
  }, outageAt);

  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
    if (durationMs !== undefined) setTimeout(resolve, durationMs);
  });
  clearInterval(statusTimer);
  clearTimeout(outage);
  clearTimeout(restart);
  await sim.stop();
  await agent.stop();
  await service.stop();
  await viewer.endAsync();
  await fleet.close();
  io.out('demo stopped.');
  return 0;
}

async function startOnFreePort<T>(start: (port: number) => Promise<T>, preferred: number): Promise<T> {
  try {
    return await start(preferred);
  } catch (err) {
    if (!/already in use/.test((err as Error).message)) throw err;
    return start(0);
  }
}
