// Cost of each detector per reading, with its shipped defaults (the config schema's): 1,000
// sensors, one detector each, readings interleaved across sensors (as a device sees them), a
// daily sine with noise at 5-minute spacing, after a warm-up that fills their history.
import { createDetector, type DetectorSpec, type DetectorType } from '../src/stream/detectors/create-detector.js';
import { detector as detectorSchema } from '../src/config/pipelines-schema.js';
import { seededRandom } from '../src/sources/simulated/signal.js';

const REQUIRED: Partial<Record<DetectorType, object>> = { threshold: { max: 100 }, rate: { maxPerSecond: 1 } };

export function benchDetector(type: DetectorType, sensors = 1000, rounds = 2000): { type: DetectorType; nsPerReading: number } {
  const spec = detectorSchema.parse({ type, ...REQUIRED[type] }) as DetectorSpec;
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
