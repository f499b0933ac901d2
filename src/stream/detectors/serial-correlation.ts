// How many independent looks a sensor's history holds. A smooth channel (a pressure, a
// temperature sampled every 10 s) has readings that follow each other closely: n of them say
// about as much as n (1 - rho) / (1 + rho) independent ones (the effective sample size of an
// AR(1) series, rho its lag-1 correlation). A value just past the extremes of 1,000 such
// readings is far weaker evidence than one past 1,000 independent draws.
// rho is estimated from the variance of the value and of its reading-to-reading change:
// Var(x_t - x_t-1) = 2 Var(x) (1 - rho). Both are exponentially weighted means that average
// all readings while fewer than 1 / FORGET have been seen, then forget at FORGET a reading.
import { huber } from './baseline.js';

const FORGET = 0.001; // weight of a new reading once 1,000 have been seen
const RHO_MAX = 0.999; // so that n_eff stays positive and a restore is finite

/** [readings counted, mean, variance of the value, mean square change, previous value] */
export type SavedSerialCorrelation = [number, number, number, number, number];

export interface SerialCorrelation {
  add(value: number): void;
  /** The number of independent readings that n readings of this sensor are worth (>= 1). */
  effective(n: number): number;
  save(): SavedSerialCorrelation;
}

export function createSerialCorrelation(saved?: unknown): SerialCorrelation {
  const ok = Array.isArray(saved) && saved.length === 5 && saved.every(Number.isFinite);
  let [count, mean, variance, change, prev] = ok ? (saved as SavedSerialCorrelation) : [0, 0, 0, 0, 0];
  return {
    add(value) {
      count++;
      const a = Math.max(1 / count, FORGET);
      if (count === 1) {
        mean = value;
      } else {
        // A glitch inside the warm-up (the caller skips those judged anomalous after it) moves
        // the estimates by a bounded amount, not for days.
        const d = huber(value - mean, Math.sqrt(variance), count - 1);
        mean += a * d;
        variance = (1 - a) * (variance + a * d * d);
        const step = huber(value - prev, Math.sqrt(change), count - 1);
        // The first change is averaged from the second reading on (its own count is one less).
        change += Math.max(1 / (count - 1), FORGET) * (step * step - change);
      }
      prev = value;
      // Readings of 1e200 square to Infinity: start afresh rather than carry NaN for good.
      if (!Number.isFinite(variance) || !Number.isFinite(change)) [count, mean, variance, change] = [1, value, 0, 0];
    },
    effective(n) {
      const rho = variance > 0 ? Math.min(RHO_MAX, Math.max(0, 1 - change / (2 * variance))) : 0;
      return Math.max(1, (n * (1 - rho)) / (1 + rho));
    },
    save: () => [count, mean, variance, change, prev],
  };
}
