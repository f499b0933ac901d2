// Simulated sensors as a separate MQTT client (`outpost simulate`, the demo): the same signals
// as the in-agent simulated source, published as {"value","ts"} to <prefix><sensor id>.
import mqtt from 'mqtt';
import type { SimulatedSensorConfig } from '../config/schema.js';
import { runSimulation } from '../sources/simulated/simulated-source.js';

export interface SimulatedPublisherOptions {
  url: string;
  sensors: SimulatedSensorConfig[];
  seed: number;
  prefix: string;
  qos: 0 | 1;
  username?: string;
  password?: string;
  clock?: () => number;
}

export interface SimulatedPublisher {
  published(): number;
  stop(): Promise<void>;
}

export async function startSimulatedPublisher(o: SimulatedPublisherOptions): Promise<SimulatedPublisher> {
  const client = mqtt.connect(o.url, { username: o.username, password: o.password, reconnectPeriod: 1000, protocolVersion: 4, writeCache: false });
  client.on('error', () => undefined); // reconnects on its own; the broker may start after us
  let published = 0;
  const stopSim = runSimulation({ sensors: o.sensors, seed: o.seed, clock: o.clock ?? Date.now }, (sensor, ts, value) => {
    if (!client.connected) return; // a sensor with no network loses its readings too
    client.publish(`${o.prefix}${sensor}`, JSON.stringify({ value: Math.round(value * 1000) / 1000, ts }), { qos: o.qos });
    published++;
  });
  return {
    published: () => published,
    async stop() {
      stopSim();
      await client.endAsync();
    },
  };
}

/** N plain sine sensors sim/s0 .. sim/s<N-1>, for quick load. */
export function generatedSensors(count: number, rateHz: number): SimulatedSensorConfig[] {
  return Array.from({ length: count }, (_, i) => ({
    id: `sim/s${i}`,
    rateHz,
    shape: 'sine' as const,
    base: 20 + i,
    amplitude: 2,
    period: 60_000,
    noise: 0.1,
    anomalies: [],
  }));
}
