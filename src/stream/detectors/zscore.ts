import type { Detector, Severity, Verdict } from './detector.js';

export interface ZScoreOptions {
  threshold: number;
  /** Readings in the rolling baseline. */
  window: number;
  /** No verdicts until the baseline holds this many readings. */
  minSamples: number;
  severity: Severity;
}

/**
 * Rolling z-score: compares each value with the mean and sample deviation of the previous
 * `window` values (the value itself is excluded, so a spike cannot hide itself). The running
 * sums are of values minus a shift (re-centred on the mean at each recompute, once per `window`
 * updates), so neither cancellation on large values nor drift grows: O(1) amortized per reading. Score = min(1, |z| / (2 * threshold)): 0.5 at threshold.
 */
interface ZScoreState {
  ring: number[];
  size: number;
  next: number;
  shift: number | null;
  sum: number;
  sumSq: number;
  sinceResum: number;
  alarmed: boolean;
}

export function createZScoreDetector({ threshold, window, minSamples, severity }: ZScoreOptions, saved?: unknown): Detector {
  const st = saved as ZScoreState | undefined;
  const ring = new Float64Array(window);
  let size = 0;
  let next = 0;
  let shift = NaN; // sums below are of (value - shift)
  let sum = 0;
  let sumSq = 0;
  let sinceResum = 0;
  let alarmed = false;
  if (st && st.ring.length === window) {
    ring.set(st.ring);
    ({ size, next, sum, sumSq, sinceResum, alarmed } = st);
    shift = st.shift ?? NaN;
  }

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
    save: (): ZScoreState => ({ ring: Array.from(ring), size, next, shift: Number.isNaN(shift) ? null : shift, sum, sumSq, sinceResum, alarmed }),
    observe(_ts, value): Verdict | undefined {
      let verdict: Verdict | undefined;
      if (size >= minSamples) {
        const mean = shift + sum / size;
        const variance = Math.max(0, (sumSq - (sum * sum) / size) / (size - 1));
        const sd = Math.sqrt(variance);
        // A perfectly flat baseline has no deviation: any change at all is infinitely unusual.
        const z = sd > 0 ? (value - mean) / sd : value === mean ? 0 : Infinity * Math.sign(value - mean);
        const outside = Math.abs(z) >= threshold;
        if (outside && !alarmed) {
          verdict = {
            detector: 'zscore',
            severity,
            score: Math.min(1, Math.abs(z) / (2 * threshold)),
            message: `value ${value} is ${Number.isFinite(z) ? Math.abs(z).toFixed(1) : 'infinitely many'} deviations ${z > 0 ? 'above' : 'below'} the rolling mean ${Number(mean.toPrecision(4))}`,
            evidence: { mean: round(mean), stddev: round(sd), z: Number.isFinite(z) ? round(z) : z > 0 ? 1e308 : -1e308, threshold, samples: size },
          };
        }
        alarmed = outside;
      }
      push(value);
      return verdict;
    },
  };
}

function round(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}
