// Cost of each detector per reading, with its shipped defaults (the config schema's): 1,000
// sensors, one detector each, readings interleaved across sensors (as a device sees them), a
// daily sine with noise at 5-minute spacing, after a warm-up that fills their history.
import { createDeviceGroup, type GroupSpec } from '../src/stream/detectors/device-group.js';
import { createDetector, type SensorDetectorSpec, type DetectorType } from '../src/stream/detectors/create-detector.js';
import { detector as detectorSchema } from '../src/config/pipelines-schema.js';
import { seededRandom } from '../src/sources/simulated/signal.js';

const REQUIRED: Partial<Record<DetectorType, object>> = { threshold: { max: 100 }, rate: { maxPerSecond: 1 } };

export function benchDetector(type: DetectorType, sensors = 1000, rounds = 2000): { type: DetectorType; nsPerReading: number } {
  const spec = detectorSchema.parse({ type, ...REQUIRED[type] }) as SensorDetectorSpec;
  const dets = Array.from({ length: sensors }, () => createDetector(spec));
  const random = seededRandom(1);
  const t0 = 1_795_000_000_000;
  const feed = (from: number, to: number) => {
    for (let r = from; r < to; r++) {
      const ts = t0 + r * 300_000;
      const base = 20 + 5 * Math.sin((2 * Math.PI * (r % 288)) / 288);
      for (let s = 0; s < sensors; s++) dets[s]!.observe(ts, base + random() - 0.5 + (s % 7), ts);
    }
  };
  feed(0, 600); // two days of history
  const start = process.hrtime.bigint();
  feed(600, 600 + rounds);
  return { type, nsPerReading: Math.round(Number(process.hrtime.bigint() - start) / (sensors * rounds)) };
}

/**
 * A multivariate group of `k` sensors at its shipped defaults (`regimes` operating states, each
 * learned first from 200 rows at its own level): microseconds per aligned row (k readings and
 * one model step against every state).
 */
export function benchMultivariate(k = 8, regimes = 1, rows = 20_000): { k: number; usPerRow: number } {
  const spec = detectorSchema.parse({ type: 'multivariate', group: 'dev/*', every: '10s', maxSensors: 16, regimes }) as GroupSpec;
  const group = createDeviceGroup(spec);
  const random = seededRandom(2);
  const t0 = 1_795_000_000_000;
  const sensors = Array.from({ length: k }, (_, i) => `dev/s${i}`);
  const feed = (from: number, to: number, level: (r: number) => number) => {
    for (let r = from; r < to; r++) {
      const load = Math.sin(r / 50);
      for (let s = 0; s < k; s++) group.observe(sensors[s]!, t0 + r * 10_000 + s, level(r) * (s + 1) + 10 * s + load * (s + 1) + random() - 0.5);
    }
  };
  for (let g = 0; g < regimes; g++) feed(200 * g, 200 * (g + 1), () => 100 * g); // warm-up, one state after another
  const start = process.hrtime.bigint();
  feed(200 * regimes, 200 * regimes + rows, (r) => 100 * (Math.floor(r / 500) % regimes));
  return { k, usPerRow: Math.round(Number(process.hrtime.bigint() - start) / rows / 10) / 100 };
}
