// The pure stream stage alone (no parsing, no I/O): 1,000 sensors, tumbling 60 s windows, the
// moment aggregates, and no detectors; then again with threshold + z-score on every reading.
import { createStream, type DetectorSpec, type StreamOutput } from '../src/stream/stream.js';
import type { AggregateName } from '../src/stream/aggregate-names.js';

export interface StreamResult {
  sensors: number;
  readings: number;
  detectors: string;
  quantiles: boolean;
  readingsPerS: number;
}

export function benchStream({ sensors = 1000, readings = 5_000_000, detectors = [] as DetectorSpec[], quantiles = false } = {}): StreamResult {
  const aggregates: AggregateName[] = ['count', 'min', 'max', 'mean', 'stddev', 'first', 'last', ...(quantiles ? (['p50', 'p90', 'p95', 'p99'] as const) : [])];
  const stream = createStream([
    { match: ['**'], window: { size: 60_000, lateness: 5_000 }, aggregates, detectors },
  ]);
  const ids = Array.from({ length: sensors }, (_, i) => `site/s${i}`);
  const out: StreamOutput[] = [];
  const t0 = 1_795_428_000_000;
  const run = (n: number) => {
    for (let i = 0; i < n; i++) {
      // every sensor at 10 Hz: sensor i % sensors, time advances 100 ms per round
      const ts = t0 + Math.floor(i / sensors) * 100;
      stream.ingest({ sensor: ids[i % sensors]!, ts, value: (i % 1000) * 0.01, receivedAt: ts }, out);
      out.length = 0;
    }
  };
  run(200_000); // warm-up
  const start = process.hrtime.bigint();
  run(readings);
  const s = Number(process.hrtime.bigint() - start) / 1e9;
  return { sensors, readings, detectors: detectors.map((d) => d.type).join('+') || 'none', quantiles, readingsPerS: Math.round(readings / s) };
}
