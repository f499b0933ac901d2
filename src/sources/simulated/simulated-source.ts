// Simulated sensors inside the agent (laptops, demos): each sensor's signal is sampled on
// schedule and stamped with the exact sample time, start + k / rateHz.
import type { Source, SourceSink, Clock } from '../source.js';
import type { SimulatedSensorConfig } from '../../config/schema.js';
import { createSignal, hashSeed } from './signal.js';

export interface SimulatedSourceOptions {
  sensors: SimulatedSensorConfig[];
  seed: number;
  clock: Clock;
}

/** Calls `emit` with every due sample of every sensor, on a timer; returns a stop function. */
export function runSimulation(
  opts: SimulatedSourceOptions,
  emit: (sensor: string, ts: number, value: number) => void,
): () => void {
  const start = opts.clock();
  const sims = opts.sensors.map((s) => ({ id: s.id, signal: createSignal(s, hashSeed(opts.seed, s.id)) }));
  const fastest = Math.max(...opts.sensors.map((s) => s.rateHz));
  const tickMs = Math.max(10, Math.min(1000 / fastest, 100));
  const tick = () => {
    const now = opts.clock();
    for (const { id, signal } of sims) {
      while (start + signal.time() * 1000 <= now) {
        const ts = Math.round(start + signal.time() * 1000);
        const value = signal.next();
        if (value !== undefined) emit(id, ts, value);
      }
    }
  };
  tick();
  const timer = setInterval(tick, tickMs);
  return () => clearInterval(timer);
}

export function createSimulatedSource(opts: SimulatedSourceOptions): Source {
  let stop: (() => void) | undefined;
  return {
    name: 'simulated',
    async start(sink: SourceSink) {
      stop = runSimulation(opts, (sensor, ts, value) => sink.reading({ sensor, ts, value, receivedAt: opts.clock(), stamped: true }));
    },
    async stop() {
      stop?.();
      stop = undefined;
    },
    health: () => ({ running: stop !== undefined, sensors: opts.sensors.length }),
  };
}
