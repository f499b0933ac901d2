// EWMA control chart (Roberts 1959): the exponentially weighted mean of recent values,
// z = lambda * x + (1 - lambda) * z, against a slow baseline; out of control when
// |z - mean| > limit * sigma * sqrt(lambda / (2 - lambda)). Small lambda catches small
// sustained shifts; lambda = 1 is a plain Shewhart chart. Score 0.5 at the control limit.
import { round, WARMING_UP, type ScoreCore } from './detector.js';
import { emptyBaseline, learn, type Baseline } from './baseline.js';

export interface EwmaOptions {
  lambda: number;
  /** Control limit in baseline deviations (L). */
  limit: number;
  /** Weight of each value in the slow baseline. */
  alpha: number;
  minSamples: number;
}

export function ewmaCore({ lambda, limit, alpha, minSamples }: EwmaOptions, saved?: unknown): ScoreCore {
  const st = saved as { z: number; base: Baseline } | undefined;
  let z = st?.z ?? NaN;
  const base: Baseline = st ? { ...st.base } : emptyBaseline();
  const width = Math.sqrt(lambda / (2 - lambda));
  const last = { mean: 0, sd: 0, bound: 0 };
  return {
    save: () => ({ z, base: { ...base } }),
    learned: () => Math.min(1, base.n / minSamples),
    assess(_ts, value) {
      z = Number.isNaN(z) ? value : lambda * value + (1 - lambda) * z;
      const ready = base.n >= minSamples;
      last.sd = Math.sqrt(base.variance);
      last.mean = base.mean;
      learn(base, value, alpha);
      if (!ready) return WARMING_UP;
      last.bound = limit * last.sd * width;
      const dev = z - last.mean;
      return last.bound > 0 ? Math.min(1, Math.abs(dev) / (2 * last.bound)) : dev === 0 ? 0 : 1;
    },
    explain() {
      const { mean, sd, bound } = last;
      const up = z > mean;
      return {
        message: `the recent average ${round(z)} is ${up ? 'above' : 'below'} the control limit ${round(up ? mean + bound : mean - bound)} (baseline ${round(mean)})`,
        evidence: { ewma: round(z), mean: round(mean), stddev: round(sd), lowerLimit: round(mean - bound), upperLimit: round(mean + bound) },
      };
    },
  };
}
