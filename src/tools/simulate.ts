// `outpost simulate`: simulated sensors publishing to any broker (for laptops and tests).
import { loadConfigFile } from '../config/load.js';
import { parseDuration } from '../config/units.js';
import { startSimulatedPublisher, generatedSensors } from './simulated-publisher.js';
import type { SimulatedSensorConfig } from '../config/schema.js';
import { reportProblems } from '../cli/check-config.js';
import type { Io } from '../cli/io.js';

export interface SimulateArgs {
  url: string;
  config?: string;
  sensors: number;
  rate: number;
  prefix: string;
  seed: number;
  qos: 0 | 1;
  duration?: string;
  username?: string;
  password?: string;
}

export async function simulate(a: SimulateArgs, io: Io): Promise<number> {
  let sensors: SimulatedSensorConfig[] = generatedSensors(a.sensors, a.rate);
  if (a.config) {
    const loaded = loadConfigFile(a.config);
    if (!loaded.ok) return reportProblems(a.config, loaded, io);
    sensors = loaded.config.sources.flatMap((s) => (s.type === 'simulated' ? s.sensors : []));
    if (sensors.length === 0) {
      io.err(`${a.config}: has no simulated source to publish`);
      return 64;
    }
  }
  const durationMs = a.duration === undefined ? undefined : parseDuration(a.duration);
  if (a.duration !== undefined && durationMs === undefined) {
    io.err(`--duration: "${a.duration}" is not a duration; write e.g. 30s or 10m`);
    return 64;
  }
  const pub = await startSimulatedPublisher({ url: a.url, sensors, seed: a.seed, prefix: a.prefix, qos: a.qos, username: a.username, password: a.password });
  io.out(`publishing ${sensors.length} simulated sensor(s) to ${a.url} under ${a.prefix} (Ctrl-C stops)`);
  await new Promise<void>((resolve) => {
    const done = () => resolve();
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
    if (durationMs !== undefined) setTimeout(done, durationMs).unref();
  });
  await pub.stop();
  io.out(`published ${pub.published()} readings`);
  return 0;
}
