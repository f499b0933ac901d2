// Memory per sensor: the state one sensor costs in the stream (open windows, detector state,
// idle bookkeeping) and admission, so that maxSensors x this bounds the agent's state
// (limits.sensorIdleTtl evicts the silent ones). Heap measured after GC around ingesting
// `sensors` sensors for two windows' worth of readings; run with --expose-gc (bench/run.ts
// starts a child with it).
import { createStream, type DetectorSpec, type StreamOutput } from '../src/stream/stream.js';
import { createAdmission } from '../src/stream/admission.js';
import type { AggregateName } from '../src/stream/aggregate-names.js';

export interface SensorCost {
  setup: string;
  bytesPerSensor: number;
}

const gc = (globalThis as { gc?: () => void }).gc;

export function benchSensorCost(setup: string, aggregates: AggregateName[], detectors: DetectorSpec[], sensors = 10_000): SensorCost {
  if (!gc) throw new Error('run with node --expose-gc');
  gc();
  const before = process.memoryUsage().heapUsed;
  const stream = createStream([{ match: ['**'], window: { size: 60_000, lateness: 5_000 }, aggregates, detectors }], undefined, { idleTtlMs: 7 * 86_400_000 });
  const admission = createAdmission({ maxSensorIdLength: 128, maxSensors: sensors, maxFutureSkew: 300_000, floor: 0, sensorIdleTtl: 7 * 86_400_000 });
  const out: StreamOutput[] = [];
  const t0 = 1_795_428_000_000;
  // Two minutes at one reading per sensor per second: one window closed, one open, detectors warm.
  for (let s = 0; s < 120; s++) {
    for (let i = 0; i < sensors; i++) {
      const r = { sensor: `site/line-${i % 100}/sensor-${i}`, ts: t0 + s * 1000, value: 20 + Math.sin(s / 10 + i) * 5, receivedAt: t0 + s * 1000 };
      admission.check(r, r.ts);
      stream.ingest(r, out);
      out.length = 0;
    }
  }
  gc();
  const after = process.memoryUsage().heapUsed;
  // Keep them alive past the measurement.
  if (stream.sensors() + admission.knownSensors() === 0) console.log('');
  return { setup, bytesPerSensor: Math.round((after - before) / sensors) };
}

if (process.argv[2] === 'child') {
  const moments: AggregateName[] = ['count', 'min', 'max', 'mean', 'stddev', 'first', 'last'];
  const rows = [
    benchSensorCost('moments, no detector', moments, []),
    benchSensorCost('moments + p50..p99', [...moments, 'p50', 'p90', 'p95', 'p99'], []),
    benchSensorCost('moments + threshold + zscore', moments, [{ type: 'threshold', min: -1, max: 100, severity: 'critical' }, { type: 'zscore', threshold: 6, window: 60, minSamples: 10, cooldown: 1, severity: 'warning' }]),
    benchSensorCost('moments + novelty (shipped default)', moments, [{ type: 'novelty', threshold: 0.5, minSamples: 100, learnFor: 86_400_000, daily: true, halfLife: 86_400, rareWeight: 1, extremeMargin: 0.2, cooldown: 20, severity: 'warning' }]),
  ];
  console.log(JSON.stringify(rows));
}
