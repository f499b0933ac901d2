// Robust z-score: each value against the median and the median absolute deviation (MAD) of
// the previous `window` values; z = 0.6745 (x - median) / MAD, so a few wild values in the
// baseline do not hide the next one the way they inflate a standard deviation. The window is
// kept sorted (O(window) per reading; windows are small). Score 0.5 at the threshold.
import { round, WARMING_UP, type ScoreCore } from './detector.js';

export interface MadOptions {
  threshold: number;
  window: number;
  minSamples: number;
}

export function madCore({ threshold, window, minSamples }: MadOptions, saved?: unknown): ScoreCore {
  const st = saved as { ring: number[]; next: number } | undefined;
  const ring: number[] = st ? [...st.ring] : []; // arrival order
  let next = st?.next ?? 0;
  const sorted = [...ring].sort((a, b) => a - b);
  const devs = new Float64Array(window);

  /** The first index in `sorted` whose value is not below v. */
  const lowerBound = (v: number) => {
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (sorted[mid]! < v) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const insert = (v: number) => sorted.splice(lowerBound(v), 0, v);
  const remove = (v: number) => sorted.splice(lowerBound(v), 1);
  const median = (xs: ArrayLike<number>, n: number) => (n % 2 ? xs[(n - 1) / 2]! : (xs[n / 2 - 1]! + xs[n / 2]!) / 2);

  const last = { med: 0, mad: 0, z: 0, value: 0, n: 0 };
  return {
    save: () => ({ ring: [...ring], next }),
    learned: () => Math.min(1, sorted.length / minSamples),
    assess(_ts, value) {
      let score = WARMING_UP;
      const n = sorted.length;
      if (n >= minSamples) {
        const med = median(sorted, n);
        let meanDev = 0;
        for (let i = 0; i < n; i++) meanDev += devs[i] = Math.abs(sorted[i]! - med);
        const mad = median(devs.subarray(0, n).sort(), n);
        // MAD is 0 when over half the window is one value (integer counts, idle CPU): fall back
        // to the mean absolute deviation (Iglewicz and Hoaglin's modified z-score).
        const spread = mad > 0 ? mad / 0.6745 : (meanDev / n) * 1.2533;
        const z = spread > 0 ? (value - med) / spread : value === med ? 0 : Infinity * Math.sign(value - med);
        Object.assign(last, { med, mad, z, value, n });
        score = Math.min(1, Math.abs(z) / (2 * threshold));
      }
      if (ring.length === window) {
        remove(ring[next]!);
        ring[next] = value;
        next = (next + 1) % window;
      } else ring.push(value);
      insert(value);
      return score;
    },
    explain() {
      const { med, mad, z, value, n } = last;
      return {
        message: `value ${value} is ${Number.isFinite(z) ? Math.abs(z).toFixed(1) : 'infinitely many'} robust deviations ${z > 0 ? 'above' : 'below'} the median ${round(med)}`,
        evidence: { median: round(med), mad: round(mad), z: round(z), threshold, samples: n },
      };
    },
  };
}
