// The joint behaviour of a device's sensors: a streaming mean and covariance of their aligned
// readings (exponentially weighted: history fades with `alpha` per row), and for each new row
// its Hotelling T^2 (squared Mahalanobis distance) against them. A fault that changes how the
// sensors move together (flow falls while current holds) gives a large T^2 while every sensor
// stays inside its own range, where no per-sensor detector looks. The covariance is ridged
// (a share of each variance added on the diagonal) so a near-constant or collinear sensor
// cannot make it singular. T^2 is turned into a tail probability with the chi-square law of
// k degrees of freedom, and the score is -log10(p) / 12 (0.5: one in a
// million rows). Each sensor's share of T^2 (d_i (S^-1 d)_i) names what moved. A row scored
// anomalous is learned ten times slower, so a fault is reported before it becomes the norm.
// Pure; O(k^2) state and O(k^3) per row (k <= 16: about 2 us for 8 sensors).

export interface MultivariateModel {
  /**
   * Scores a row (one value per sensor, in the model's order), then learns it. -1 while warming
   * up. NaN entries are members with no recent reading: the row is scored on the others (their
   * marginal mean and covariance, fewer degrees of freedom) and not learned.
   */
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
const EPS = 1e-9; // of the mean variance: the least any direction may vary
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

  const idx = new Int32Array(k); // the members a row has (all, or those with a recent reading)
  /**
   * Solves (C + ridge) x = d over the `q` members in idx by Cholesky into sol (compact, in idx
   * order); false when not positive definite. The ridge floor is relative to the variances, so
   * a sensor in tiny units (micro-amperes, strain) is not swamped by it.
   */
  const solve = (q: number): boolean => {
    let trace = 0;
    for (let a = 0; a < q; a++) trace += cov[idx[a]! * k + idx[a]!]!;
    const floor = EPS * (trace / q) + Number.MIN_VALUE;
    for (let a = 0; a < q; a++) {
      const i = idx[a]!;
      for (let b = 0; b <= a; b++) {
        const j = idx[b]!;
        let s = cov[i * k + j]! + (a === b ? RIDGE * cov[i * k + i]! + floor : 0);
        for (let m = 0; m < b; m++) s -= chol[a * k + m]! * chol[b * k + m]!;
        if (a === b) {
          if (!(s > 0)) return false;
          chol[a * k + a] = Math.sqrt(s);
        } else chol[a * k + b] = s / chol[b * k + b]!;
      }
    }
    for (let a = 0; a < q; a++) {
      let s = d[idx[a]!]!;
      for (let m = 0; m < a; m++) s -= chol[a * k + m]! * sol[m]!;
      sol[a] = s / chol[a * k + a]!;
    }
    for (let a = q - 1; a >= 0; a--) {
      let s = sol[a]!;
      for (let m = a + 1; m < q; m++) s -= chol[m * k + a]! * sol[m]!;
      sol[a] = s / chol[a * k + a]!;
    }
    return true;
  };

  const learn = (row: ArrayLike<number>, weight: number) => {
    n++;
    // Until 1/alpha rows a plain running mean (the first rows would weigh too much); a row judged
    // anomalous keeps its small weight even then (it must not become the norm at once).
    const a = weight < o.alpha ? weight : Math.max(weight, 1 / n);
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
      let q = 0;
      for (let i = 0; i < k; i++) {
        d[i] = row[i]! - mean[i]!;
        if (!Number.isNaN(row[i]!)) idx[q++] = i;
      }
      let t2 = 0;
      if (q > 0 && solve(q)) {
        for (let a = 0; a < q; a++) t2 += d[idx[a]!]! * sol[a]!;
      }
      t2 = Number.isFinite(t2) ? Math.max(0, t2) : 0;
      const logP = q > 0 ? chiSquareLog10Tail(t2, q) : 0;
      const score = Math.min(1, -logP / SCALE);
      last.t2 = t2;
      last.p = 10 ** logP;
      last.shares.fill(0);
      for (let a = 0; a < q; a++) last.shares[idx[a]!] = t2 > 0 ? (d[idx[a]!]! * sol[a]!) / t2 : 0;
      // Only whole rows teach the model (a partial one says nothing of the missing covariances).
      if (q === k) learn(row, score >= o.threshold ? o.alpha / 10 : o.alpha);
      return score;
    },
    explain: () => ({ t2: last.t2, p: last.p, shares: [...last.shares] }),
    learned: () => Math.min(1, n / o.minRows),
    save: () => ({ k, n, mean: [...mean], cov: [...cov] }),
  };
}

/**
 * log10 of P(X >= x) for X chi-square with k degrees of freedom: exact for even k (a finite
 * Poisson sum, in logs: no underflow for any x), by the Wilson-Hilferty cube root transform to a
 * standard normal for odd k (within about half a decade at p = 1e-6).
 */
export function chiSquareLog10Tail(x: number, k: number): number {
  if (!(x > 0)) return 0;
  if (k % 2 === 0) {
    // P = e^(-x/2) * sum_{i < k/2} (x/2)^i / i!
    const h = x / 2;
    let term = 0; // log of (x/2)^i / i!
    let logSum = 0; // log of the sum so far (i = 0: 1)
    for (let i = 1; i < k / 2; i++) {
      term += Math.log(h) - Math.log(i);
      logSum = Math.max(logSum, term) + Math.log1p(Math.exp(-Math.abs(logSum - term)));
    }
    return Math.min(0, (logSum - h) / Math.LN10);
  }
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
