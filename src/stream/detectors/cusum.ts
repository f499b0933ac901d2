// Two-sided CUSUM (Page 1954) for level shifts: each reading's deviation from what the slow
// baseline expected (level, and trend with detrend), in the baseline's deviations, is summed less
// an allowance k on each side; a sum past h (in deviations) is a shift. The sums restart after
// each shift. Catches a small lasting change that no single reading shows. Score 0.5 at h.
import { round, WARMING_UP, type ScoreCore } from './detector.js';
import { emptyBaseline, expected, learn, restoreBaseline, scaleOf, standardized } from './baseline.js';

export interface CusumOptions {
  /** Allowance, in baseline deviations: drift smaller than this is ignored. */
  k: number;
  /** Decision interval, in baseline deviations. */
  h: number;
  alpha: number;
  minSamples: number;
  /** Follow a drift (level and trend) rather than a level alone. */
  detrend: boolean;
}

export function cusumCore({ k, h, alpha, minSamples, detrend }: CusumOptions, saved?: unknown): ScoreCore {
  const st = saved as { up: number; down: number; base: unknown } | undefined;
  let up = st?.up ?? 0;
  let down = st?.down ?? 0;
  const base = st ? restoreBaseline(st.base, detrend) : emptyBaseline();
  const last = { expect: 0, sd: 0, s: 0, rising: true };
  return {
    save: () => ({ up, down, base: { ...base } }),
    learned: () => Math.min(1, base.n / minSamples),
    assess(_ts, value) {
      const e = expected(base);
      const sd = scaleOf(base, e);
      const ready = base.n >= minSamples;
      learn(base, value, alpha, detrend); // slowly: a lasting shift becomes the new normal
      if (!ready) return WARMING_UP;
      const r = standardized(value, e, sd);
      up = Math.max(0, up + r - k);
      down = Math.max(0, down - r - k);
      const s = Math.max(up, down);
      last.expect = e;
      last.sd = sd;
      last.s = s;
      last.rising = up >= down;
      if (s >= h) {
        up = 0;
        down = 0;
      }
      return Math.min(1, s / (2 * h));
    },
    explain() {
      const { expect, sd, s, rising } = last;
      return {
        message: `the level has shifted ${rising ? 'up' : 'down'} from the expected ${round(expect)} (cumulative deviation ${round(s)} past ${h})`,
        evidence: { expected: round(expect), stddev: round(sd), cusum: round(s), k, h },
      };
    },
  };
}
