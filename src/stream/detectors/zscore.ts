// Rolling z-score: each value against the mean and sample deviation of the previous `window`
// values (the value itself is excluded, so a spike cannot hide itself). The running sums are of
// values minus a shift (re-centred on the mean once per `window` updates), so neither
// cancellation on large values nor drift grows: O(1) amortized per reading.
// Score = min(1, |z| / (2 * threshold)): 0.5 at the threshold.
import { round, WARMING_UP, type ScoreCore } from './detector.js';

export interface ZScoreOptions {
  threshold: number;
  /** Readings in the rolling baseline. */
  window: number;
  /** No verdicts until the baseline holds this many readings. */
  minSamples: number;
}

interface ZScoreState {
  ring: number[];
  size: number;
  next: number;
  shift: number | null;
  sum: number;
  sumSq: number;
  sinceResum: number;
}

export function zscoreCore({ threshold, window, minSamples }: ZScoreOptions, saved?: unknown): ScoreCore {
  const st = saved as ZScoreState | undefined;
  const ring = new Float64Array(window);
  let size = 0;
  let next = 0;
  let shift = NaN; // sums below are of (value - shift)
  let sum = 0;
  let sumSq = 0;
  let sinceResum = 0;
  if (st && st.ring.length === window) {
    ring.set(st.ring);
    ({ size, next, sum, sumSq, sinceResum } = st);
    shift = st.shift ?? NaN;
  }

  const last = { mean: 0, sd: 0, z: 0, value: 0, samples: 0 };
  const push = (value: number) => {
    if (Number.isNaN(shift)) shift = value;
    if (size === window) {
      const old = ring[next]! - shift;
      sum -= old;
      sumSq -= old * old;
    } else size++;
    ring[next] = value;
    next = (next + 1) % window;
    const d = value - shift;
    sum += d;
    sumSq += d * d;
    if (++sinceResum >= window) {
      sinceResum = 0;
      shift += sum / size;
      sum = 0;
      sumSq = 0;
      for (let i = 0; i < size; i++) {
        const e = ring[i]! - shift;
        sum += e;
        sumSq += e * e;
      }
    }
  };

  return {
    save: (): ZScoreState => ({ ring: Array.from(ring), size, next, shift: Number.isNaN(shift) ? null : shift, sum, sumSq, sinceResum }),
    learned: () => Math.min(1, size / minSamples),
    assess(_ts, value) {
      if (size < minSamples) {
        push(value);
        return WARMING_UP;
      }
      last.mean = shift + sum / size;
      last.sd = Math.sqrt(Math.max(0, (sumSq - (sum * sum) / size) / (size - 1)));
      // A perfectly flat baseline has no deviation: any change at all is infinitely unusual.
      last.z = last.sd > 0 ? (value - last.mean) / last.sd : value === last.mean ? 0 : Infinity * Math.sign(value - last.mean);
      last.value = value;
      last.samples = size;
      push(value);
      return Math.min(1, Math.abs(last.z) / (2 * threshold));
    },
    explain() {
      const { mean, sd, z, value, samples } = last;
      return {
        message: `value ${value} is ${Number.isFinite(z) ? Math.abs(z).toFixed(1) : 'infinitely many'} deviations ${z > 0 ? 'above' : 'below'} the rolling mean ${round(mean)}`,
        evidence: { mean: round(mean), stddev: round(sd), z: round(z), threshold, samples },
      };
    },
  };
}
