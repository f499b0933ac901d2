// Two-sided CUSUM (Page 1954) for level shifts: standardized deviations from a slow baseline are
// summed, less an allowance k, on each side; a sum past h (in deviations) is a shift. The sums
// restart after each shift. Catches a small lasting change that no single reading shows.
// Score 0.5 at h.
import { round, WARMING_UP, type ScoreCore } from './detector.js';
import { emptyBaseline, learn, type Baseline } from './baseline.js';

export interface CusumOptions {
  /** Allowance, in baseline deviations: drift smaller than this is ignored. */
  k: number;
  /** Decision interval, in baseline deviations. */
  h: number;
  alpha: number;
  minSamples: number;
}

export function cusumCore({ k, h, alpha, minSamples }: CusumOptions, saved?: unknown): ScoreCore {
  const st = saved as { up: number; down: number; base: Baseline } | undefined;
  let up = st?.up ?? 0;
  let down = st?.down ?? 0;
  const base: Baseline = st ? { ...st.base } : emptyBaseline();
  const last = { mean: 0, sd: 0, s: 0, rising: true };
  return {
    save: () => ({ up, down, base: { ...base } }),
    learned: () => Math.min(1, base.n / minSamples),
    assess(_ts, value) {
      const mean = base.mean;
      const sd = Math.sqrt(base.variance);
      const ready = base.n >= minSamples;
      learn(base, value, alpha); // slowly: a lasting shift becomes the new normal
      if (!ready) return WARMING_UP;
      const r = sd > 0 ? (value - mean) / sd : value === mean ? 0 : 10 * Math.sign(value - mean);
      up = Math.max(0, up + r - k);
      down = Math.max(0, down - r - k);
      const s = Math.max(up, down);
      last.mean = mean;
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
      const { mean, sd, s, rising } = last;
      return {
        message: `the level has shifted ${rising ? 'up' : 'down'} from ${round(mean)} (cumulative deviation ${round(s)} past ${h})`,
        evidence: { mean: round(mean), stddev: round(sd), cusum: round(s), k, h },
      };
    },
  };
}
