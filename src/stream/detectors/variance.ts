// Variance change: the reading-to-reading movement of a sensor grows while its mean may stay
// put: an oscillation (cavitation in a pump, a hunting control loop, a loose mount), which a
// level detector never sees. It compares the mean absolute first difference over the last
// `window` readings (exponentially weighted) with its long-run value (weight `alpha`): score
// 0.5 when the recent movement is `ratio` times the usual. First differences, not deviations
// from a mean, so a level shift (one large step) barely moves it, and a slow trend not at all.
// Causal, O(1) state and time per reading.
import { round, WARMING_UP, type ScoreCore } from './detector.js';

export interface VarianceOptions {
  /** Readings in the recent memory. */
  window: number;
  /** Recent / usual movement that scores 0.5. */
  ratio: number;
  /** Weight of each reading in the usual movement. */
  alpha: number;
  minSamples: number;
}

/** Recent / usual movement below which the usual learns at full weight. */
const CALM = 1.5;

interface Saved {
  /** The smallest non-zero step seen: the sensor's resolution (absent in older states). */
  step?: number;
  prev: number | null;
  recent: number;
  usual: number;
  n: number;
}

export function varianceCore({ window, ratio, alpha, minSamples }: VarianceOptions, saved?: unknown): ScoreCore {
  const s = saved as Saved | undefined;
  let prev = s?.prev ?? null;
  let recent = s?.recent ?? 0;
  let usual = s?.usual ?? 0;
  let n = s?.n ?? 0;
  let step = s?.step ?? Infinity;
  const fast = 2 / (window + 1);
  const logRatio = Math.log(ratio);
  const last = { recent: 0, usual: 0, r: 0 };
  return {
    save: (): Saved => ({ step: Number.isFinite(step) ? step : undefined, prev, recent, usual, n }),
    learned: () => Math.min(1, n / minSamples),
    assess(_ts, value) {
      if (prev === null) {
        prev = value;
        return WARMING_UP;
      }
      const d = Math.abs(value - prev);
      prev = value;
      n++;
      if (d > 0 && d < step) step = d;
      // Until 1/alpha differences, plain running means (the first ones would weigh too much).
      recent += Math.max(fast, 1 / n) * (d - recent);
      // Never below the sensor's resolution: a quantised or mostly flat sensor's occasional
      // single step is no oscillation.
      const was = Math.max(usual, Number.isFinite(step) ? step : 0);
      // While the movement is unusual, the usual learns ten times slower: an oscillation is
      // reported before it becomes the norm (it does, eventually: a new way of running).
      const calm = n < minSamples || was <= 0 || recent < CALM * was;
      usual += Math.max(calm ? alpha : alpha / 10, 1 / n) * (d - usual);
      if (n < minSamples) return WARMING_UP;
      last.recent = recent;
      last.usual = was;
      // A sensor that never moved (a setpoint, a quantised slow value) has no usual movement to
      // compare with: its first step is not an oscillation.
      if (!(was > 0)) return 0;
      const r = recent / was;
      last.r = r;
      // 0 at the usual movement, 0.5 at `ratio` times it, 1 at ratio squared (log scale).
      return r <= 1 ? 0 : Math.min(1, Math.log(r) / (2 * logRatio));
    },
    explain() {
      const { recent, usual: u, r } = last;
      return {
        message: `the reading moves ${Number.isFinite(r) ? `${round(r)} times` : 'far'} more from one reading to the next than usual (${round(recent)} against ${round(u)}): an oscillation or a loosening, with or without a change of level`,
        evidence: { recentMovement: round(recent), usualMovement: round(u), ratio: Number.isFinite(r) ? round(r) : 1e308 },
      };
    },
  };
}
