// EWMA control chart (Roberts 1959) on standardized residuals: each reading's deviation from what
// the slow baseline expected (level, and trend with detrend), in the baseline's deviations, is
// averaged z = lambda * r + (1 - lambda) * z; out of control when |z| > limit * sqrt(lambda /
// (2 - lambda)). Small lambda catches small sustained shifts; lambda = 1 is a Shewhart chart.
// Score 0.5 at the control limit.
import { round, WARMING_UP, type ScoreCore } from './detector.js';
import { emptyBaseline, expected, learn, restoreBaseline, scaleOf, standardized } from './baseline.js';

export interface EwmaOptions {
  lambda: number;
  /** Control limit in baseline deviations (L). */
  limit: number;
  /** Weight of each value in the slow baseline. */
  alpha: number;
  minSamples: number;
  /** Follow a drift (level and trend) rather than a level alone. */
  detrend: boolean;
}

export function ewmaCore({ lambda, limit, alpha, minSamples, detrend }: EwmaOptions, saved?: unknown): ScoreCore {
  const st = saved as { z: number; base: unknown } | undefined;
  // z is in deviations; checkpoints before standardized residuals held the sensor's unit.
  let z = st && 'level' in (st.base as object) ? st.z : 0;
  const base = st ? restoreBaseline(st.base, detrend) : emptyBaseline();
  const width = Math.sqrt(lambda / (2 - lambda));
  const last = { expect: 0, sd: 0 };
  return {
    save: () => ({ z, base: { ...base } }),
    learned: () => Math.min(1, base.n / minSamples),
    assess(_ts, value) {
      const ready = base.n >= minSamples;
      const e = expected(base);
      const sd = scaleOf(base, e);
      learn(base, value, alpha, detrend);
      if (!ready) return WARMING_UP;
      const r = standardized(value, e, sd);
      z = lambda * r + (1 - lambda) * z;
      last.expect = e;
      last.sd = sd;
      return Math.min(1, Math.abs(z) / (2 * limit * width));
    },
    explain() {
      const { expect, sd } = last;
      const bound = limit * width;
      return {
        message: `the recent readings run ${round(Math.abs(z))} deviations ${z > 0 ? 'above' : 'below'} what the baseline expected (${round(expect)}; control limit ${round(bound)})`,
        evidence: { ewma: round(z), expected: round(expect), stddev: round(sd), limit: round(bound) },
      };
    },
  };
}
