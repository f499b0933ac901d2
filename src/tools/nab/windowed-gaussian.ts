// A port of NAB's Windowed Gaussian detector, for the benchmark only: the proof that Outpost's
// runner feeds NAB as NAB does (its official per-row scores are in nab/results). The mean and
// population deviation of a window of up to 6,400 values, moved forward 100 values at a time;
// score = 1 - Q(|x - mean| / deviation), the Gaussian tail, so 0.5 at the mean.
import type { Detector } from '../../stream/detectors/detector.js';

const WINDOW = 6400;
const STEP = 100;

export function createWindowedGaussian(): Detector {
  const data: number[] = [];
  let step: number[] = [];
  let mean = 0;
  let sd = 1;
  let score = 0;
  // While the window fills, NAB recomputes after every value; a running sum and sum of squared
  // deviations (Welford) give the same mean and deviation without the O(n) pass.
  let m2 = 0;
  const recompute = () => {
    mean = data.reduce((a, b) => a + b, 0) / data.length;
    m2 = data.reduce((a, b) => a + (b - mean) ** 2, 0);
    sd = Math.sqrt(m2 / data.length) || 0.000001;
  };
  return {
    get score() {
      return score;
    },
    observe(_ts, value) {
      // NAB wrote its scores with Python 2's str(): 12 significant digits, so 1 - 1e-13 became
      // 1.0, which matters at threshold 1.0. Rounded the same way here.
      score = data.length > 0 ? Number((1 - 0.5 * erfc(Math.abs(value - mean) / sd / Math.SQRT2)).toPrecision(12)) : 0;
      if (data.length < WINDOW) {
        data.push(value);
        const d = value - mean;
        mean += d / data.length;
        m2 += d * (value - mean);
        sd = Math.sqrt(m2 / data.length) || 0.000001;
      } else {
        step.push(value);
        if (step.length === STEP) {
          data.splice(0, STEP);
          data.push(...step);
          step = [];
          recompute();
        }
      }
      return undefined;
    },
    save: () => null,
  };
}

/** Complementary error function (Numerical Recipes' Chebyshev fit; relative error below 1.2e-7, ample for a score). */
function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
  return x >= 0 ? r : 2 - r;
}
