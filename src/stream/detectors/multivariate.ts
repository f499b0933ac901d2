// The joint behaviour of a device's sensors: a streaming mean and covariance of their aligned
// readings (exponentially weighted: history fades with `alpha` per row), and for each new row
// its Hotelling T^2 (squared Mahalanobis distance) against them. A fault that changes how the
// sensors move together (flow falls while current holds) gives a large T^2 while every sensor
// stays inside its own range, where no per-sensor detector looks. The covariance is ridged
// (a share of each variance added on the diagonal) so a near-constant or collinear sensor
// cannot make it singular. T^2 is turned into a tail probability with the chi-square law of
// k degrees of freedom (Wilson-Hilferty), and the score is -log10(p) / 12 (0.5: one in a
// million rows). Each sensor's share of T^2 (d_i (S^-1 d)_i) names what moved. A row scored
// anomalous is learned ten times slower, so a fault is reported before it becomes the norm.
// Pure; O(k^2) state and O(k^3) per row (k <= 16: about 2 us for 8 sensors).

export interface MultivariateModel {
  /** Scores a row (one value per sensor, in the model's order), then learns it. -1 while warming up. */
  assess(row: ArrayLike<number>): number;
  /** For the row last assessed: T^2, its tail probability, and each sensor's share of T^2. */
  explain(): { t2: number; p: number; shares: number[] };
  learned(): number;
  save(): SavedModel;
}

export interface SavedModel {
  k: number;
  n: number;
  mean: number[];
  cov: number[];
}

const RIDGE = 0.001; // share of each variance added on the diagonal
const EPS = 1e-12;
const SCALE = 12; // -log10(p) for score 1

export function createMultivariateModel(k: number, o: { alpha: number; minRows: number; threshold: number }, saved?: SavedModel): MultivariateModel {
  const n0 = saved && saved.k === k ? saved : undefined;
  let n = n0?.n ?? 0;
  const mean = Float64Array.from(n0?.mean ?? new Array<number>(k).fill(0));
  const cov = Float64Array.from(n0?.cov ?? new Array<number>(k * k).fill(0)); // row-major, symmetric
  const d = new Float64Array(k);
  const sol = new Float64Array(k);
  const chol = new Float64Array(k * k);
  const last = { t2: 0, p: 1, shares: new Array<number>(k).fill(0) };

  /** Solves (C + ridge) x = d by Cholesky into sol; false when not positive definite. */
  const solve = (): boolean => {
    for (let i = 0; i < k; i++) {
      for (let j = 0; j <= i; j++) {
        let s = cov[i * k + j]! + (i === j ? RIDGE * cov[i * k + i]! + EPS : 0);
        for (let m = 0; m < j; m++) s -= chol[i * k + m]! * chol[j * k + m]!;
        if (i === j) {
          if (!(s > 0)) return false;
          chol[i * k + i] = Math.sqrt(s);
        } else chol[i * k + j] = s / chol[j * k + j]!;
      }
    }
    for (let i = 0; i < k; i++) {
      let s = d[i]!;
      for (let m = 0; m < i; m++) s -= chol[i * k + m]! * sol[m]!;
      sol[i] = s / chol[i * k + i]!;
    }
    for (let i = k - 1; i >= 0; i--) {
      let s = sol[i]!;
      for (let m = i + 1; m < k; m++) s -= chol[m * k + i]! * sol[m]!;
      sol[i] = s / chol[i * k + i]!;
    }
    return true;
  };

  const learn = (row: ArrayLike<number>, weight: number) => {
    n++;
    const a = Math.max(weight, 1 / n);
    for (let i = 0; i < k; i++) d[i] = row[i]! - mean[i]!;
    for (let i = 0; i < k; i++) mean[i]! += a * d[i]!;
    for (let i = 0; i < k; i++) {
      for (let j = 0; j <= i; j++) {
        const v = (1 - a) * (cov[i * k + j]! + a * d[i]! * d[j]!);
        cov[i * k + j] = v;
        cov[j * k + i] = v;
      }
    }
  };

  return {
    assess(row) {
      if (n < o.minRows) {
        learn(row, o.alpha);
        return -1;
      }
      for (let i = 0; i < k; i++) d[i] = row[i]! - mean[i]!;
      let t2 = 0;
      if (solve()) {
        for (let i = 0; i < k; i++) t2 += d[i]! * sol[i]!;
      }
      t2 = Math.max(0, t2);
      const logP = chiSquareLog10Tail(t2, k);
      const score = Math.min(1, -logP / SCALE);
      last.t2 = t2;
      last.p = 10 ** logP;
      for (let i = 0; i < k; i++) last.shares[i] = t2 > 0 ? (d[i]! * sol[i]!) / t2 : 0;
      learn(row, score >= o.threshold ? o.alpha / 10 : o.alpha);
      return score;
    },
    explain: () => ({ t2: last.t2, p: last.p, shares: [...last.shares] }),
    learned: () => Math.min(1, n / o.minRows),
    save: () => ({ k, n, mean: [...mean], cov: [...cov] }),
  };
}

/**
 * log10 of P(X >= x) for X chi-square with k degrees of freedom, by the Wilson-Hilferty cube
 * root transform to a standard normal (good to a few percent in the tails that matter here).
 */
export function chiSquareLog10Tail(x: number, k: number): number {
  if (x <= 0) return 0;
  const c = 2 / (9 * k);
  const z = ((x / k) ** (1 / 3) - (1 - c)) / Math.sqrt(c);
  return log10NormalTail(z);
}

/** log10 P(Z >= z), Z standard normal; the erfc of Numerical Recipes (relative error < 1.2e-7). */
export function log10NormalTail(z: number): number {
  const x = z / Math.SQRT2;
  if (x < 0) return Math.log10(1 - 0.5 * erfc(-x));
  const t = 1 / (1 + 0.5 * x);
  // ln erfc(x) = ln t - x^2 + polynomial (no underflow for large x)
  const lnErfc =
    Math.log(t) -
    x * x -
    1.26551223 +
    t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  return (lnErfc + Math.log(0.5)) / Math.LN10;
}

function erfc(x: number): number {
  return 10 ** (log10NormalTail(x * Math.SQRT2) - Math.log10(0.5));
}
