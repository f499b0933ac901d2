// The pure stream stage alone (no parsing, no I/O): 1,000 sensors, tumbling 60 s windows, the
// moment aggregates, and no detectors; then again with threshold + z-score on every reading;
// and with 100 rules that between them read every sensor. Ticked once a simulated second.
import { createStream, type DetectorSpec, type RuleSpec, type StreamOutput } from '../src/stream/stream.js';
import type { AggregateName } from '../src/stream/aggregate-names.js';

export interface StreamResult {
  sensors: number;
  readings: number;
  detectors: string;
  quantiles: boolean;
  rules: number;
  readingsPerS: number;
}

/**
 * 100 rules over `sensors` sensors, each reading `per` of them (10: every sensor is read by one
 * rule, the heavy case; 2: a fifth of them, as rules like "door open and warm" do): `for`
 * holds, sequences, counts, hysteresis with clearAfter, a quarter of each.
 */
export function benchRules(sensors = 1000, count = 100, per = Math.max(2, Math.floor(sensors / count))): RuleSpec[] {
  return Array.from({ length: count }, (_, k): RuleSpec => {
    const ids = Array.from({ length: per }, (_, j) => `site/s${(k * per + j) % sensors}`);
    const any = { any: ids.map((sensor) => ({ sensor, above: 9.5 })) };
    switch (k % 4) {
      case 0:
        return { id: `r${k}`, when: any, for: 300_000, severity: 'warning' };
      case 1:
        return { id: `r${k}`, sequence: [{ sensor: ids[0]!, above: 9 }, { sensor: ids[1]!, below: 0.5 }], within: 30_000, severity: 'major' };
      case 2:
        return { id: `r${k}`, when: { sensor: ids[0]!, above: 9.9 }, count: 3, within: 600_000, severity: 'info' };
      default:
        return { id: `r${k}`, when: { all: [{ sensor: ids[0]!, above: 5, hysteresis: 1 }, { not: { sensor: ids[1]!, below: 1 } }] }, clearAfter: 60_000, severity: 'critical' };
    }
  });
}

export function benchStream({ sensors = 1000, readings = 5_000_000, detectors = [] as DetectorSpec[], quantiles = false, rules = [] as RuleSpec[] } = {}): StreamResult {
  const aggregates: AggregateName[] = ['count', 'min', 'max', 'mean', 'stddev', 'first', 'last', ...(quantiles ? (['p50', 'p90', 'p95', 'p99'] as const) : [])];
  const stream = createStream([
    { match: ['**'], window: { size: 60_000, lateness: 5_000 }, aggregates, detectors },
  ], undefined, { rules });
  const ids = Array.from({ length: sensors }, (_, i) => `site/s${i}`);
  const out: StreamOutput[] = [];
  const t0 = 1_795_428_000_000;
  const run = (n: number) => {
    for (let i = 0; i < n; i++) {
      // every sensor at 10 Hz: sensor i % sensors, time advances 100 ms per round
      const round = Math.floor(i / sensors);
      const ts = t0 + round * 100;
      stream.ingest({ sensor: ids[i % sensors]!, ts, value: (i % 1000) * 0.01, receivedAt: ts }, out);
      if (i % sensors === sensors - 1 && round % 10 === 9) stream.tick(ts, out); // once a simulated second
      out.length = 0;
    }
  };
  run(200_000); // warm-up
  const start = process.hrtime.bigint();
  run(readings);
  const s = Number(process.hrtime.bigint() - start) / 1e9;
  return { sensors, readings, detectors: detectors.map((d) => d.type).join('+') || 'none', quantiles, rules: rules.length, readingsPerS: Math.round(readings / s) };
}
