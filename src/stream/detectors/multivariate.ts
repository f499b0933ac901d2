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
// T^2 is taken over the full covariance, so every direction is in it, the low-variance ones
// too: the residual (Q/SPE) statistic of a reduced, PCA-style model has nothing left to add
// here; the ridge bounds how much a direction that barely varied can weigh.
// Regimes: a machine that runs, idles and stops has several normal states, each with its own
// relations between sensors; one mean and covariance over all of them is too wide to see a
// fault in any. With `regimes` > 1, a state that lasts (minRows rows no known state explains)
// is learned as a state of its own, and each row is judged against the state it fits best.
// Pure; O(R k^2) state and O(R k^3) per row (k <= 16: about 2 us for 8 sensors and one regime).

export interface MultivariateModel {
  /**
   * Scores a row (one value per sensor, in the model's order), then learns it. -1 while warming
   * up. NaN entries are members with no recent reading: the row is scored on the others (their
   * marginal mean and covariance, fewer degrees of freedom) and not learned.
   */
  assess(row: ArrayLike<number>): number;
  /** For the row last assessed: T^2, its tail probability, each sensor's share of T^2, and the regime it was judged against. */
  explain(): { t2: number; p: number; shares: number[]; regime: number; regimes: number };
  learned(): number;
  save(): SavedModel;
}

interface SavedRegime {
  n: number;
  mean: number[];
  cov: number[];
  /** Row count when it last fitted a row best (least recently used goes first). */
  used: number;
}

/** Checkpoints before regimes held one model: { k, n, mean, cov }. */
export type SavedModel = { k: number; rows: number; strange: number; regimes: SavedRegime[]; warming: SavedRegime | null } | { k: number; n: number; mean: number[]; cov: number[] };

export interface ModelOptions {
  alpha: number;
  minRows: number;
  threshold: number;
  /** Operating states remembered, each with its own mean and covariance (1: one reference). */
  regimes: number;
}

interface Regime {
  n: number;
  mean: Float64Array;
  cov: Float64Array; // row-major, symmetric
  used: number;
}

const RIDGE = 0.001; // share of each variance added on the diagonal
const EPS = 1e-9; // of the mean variance: the least any direction may vary
const MEAN_EPS = 1e-12; // of mean²: the least a sensor that never moved may vary (float noise on a constant is not a fault)
const CLIP = 5; // a row that fits no state teaches as if it were at most this many deviations off
const SCALE = 12; // -log10(p) for score 1

export function createMultivariateModel(k: number, o: ModelOptions, saved?: SavedModel): MultivariateModel {
  const regime = (r?: SavedRegime): Regime => ({
    n: r?.n ?? 0,
    mean: Float64Array.from(r?.mean ?? new Array<number>(k).fill(0)),
    cov: Float64Array.from(r?.cov ?? new Array<number>(k * k).fill(0)),
    used: r?.used ?? 0,
  });
  const s0 = saved && saved.k === k ? saved : undefined;
  const st = s0 && 'regimes' in s0 ? s0 : undefined;
  /** Known operating states; the first warms up before any verdict. */
  // A state with a non-finite mean or covariance (a checkpoint from before partial rows were kept
  // out of the warm-up) is dropped: it would judge every row a perfect fit.
  const sound = (r: Regime) => r.mean.every(Number.isFinite) && r.cov.every(Number.isFinite);
  const restored = (st ? st.regimes.map(regime) : s0 && 'n' in s0 ? [regime({ ...s0, used: 0 })] : []).filter(sound);
  const regimes: Regime[] = restored.length > 0 ? restored : [regime()];
  while (regimes.length > o.regimes) regimes.splice(leastUsed(regimes), 1); // fewer allowed than saved: the most recently used stay
  /** A new state being learned from rows no known one explains (one at a time). */
  let warming: Regime | null = st?.warming ? regime(st.warming) : null;
  if (warming && !sound(warming)) warming = null;
  let rows = st?.rows ?? 0;
  /** Whole rows in a row that no known state explained. */
  let strange = st?.strange ?? 0;
  const d = new Float64Array(k);
  const sol = new Float64Array(k);
  const chol = new Float64Array(k * k);
  const last = { t2: 0, p: 1, shares: new Array<number>(k).fill(0), regime: 0 };

  const idx = new Int32Array(k); // the members a row has (all, or those with a recent reading)
  /**
   * Solves (C + ridge) x = d over the `q` members in idx by Cholesky into sol (compact, in idx
   * order); false when not positive definite. The ridge floor is relative to the variances, so
   * a sensor in tiny units (micro-amperes, strain) is not swamped by it.
   */
  const solve = (q: number, r: Regime): boolean => {
    const cov = r.cov;
    let trace = 0;
    for (let a = 0; a < q; a++) trace += cov[idx[a]! * k + idx[a]!]!;
    const floor = EPS * (trace / q) + Number.MIN_VALUE;
    for (let a = 0; a < q; a++) {
      const i = idx[a]!;
      for (let b = 0; b <= a; b++) {
        const j = idx[b]!;
        let s = cov[i * k + j]! + (a === b ? RIDGE * cov[i * k + i]! + floor + MEAN_EPS * r.mean[i]! * r.mean[i]! : 0);
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

  /**
   * T^2 of the row against a regime over the members in idx (d and sol are left for it);
   * Infinity when it cannot be told (no fit at all, never a perfect one).
   */
  const t2Of = (row: ArrayLike<number>, r: Regime, q: number): number => {
    for (let i = 0; i < k; i++) d[i] = row[i]! - r.mean[i]!;
    if (q === 0) return 0;
    if (!solve(q, r)) return Infinity;
    let t2 = 0;
    for (let a = 0; a < q; a++) t2 += d[idx[a]!]! * sol[a]!;
    return Number.isNaN(t2) ? Infinity : Math.max(0, t2);
  };

  /** `shrink` (<= 1) scales the row's deviation from the mean: a glitch teaches no more than CLIP deviations would. */
  const learn = (r: Regime, row: ArrayLike<number>, weight: number, shrink = 1) => {
    r.n++;
    // Until 1/alpha rows a plain running mean (the first rows would weigh too much); a row judged
    // anomalous keeps its small weight even then (it must not become the norm at once).
    const a = weight < o.alpha ? weight : Math.max(weight, 1 / r.n);
    for (let i = 0; i < k; i++) d[i] = (row[i]! - r.mean[i]!) * shrink;
    for (let i = 0; i < k; i++) r.mean[i]! += a * d[i]!;
    for (let i = 0; i < k; i++) {
      for (let j = 0; j <= i; j++) {
        const v = (1 - a) * (r.cov[i * k + j]! + a * d[i]! * d[j]!);
        r.cov[i * k + j] = v;
        r.cov[j * k + i] = v;
      }
    }
  };

  return {
    assess(row) {
      rows++;
      let q = 0;
      for (let i = 0; i < k; i++) if (!Number.isNaN(row[i]!)) idx[q++] = i;
      const first = regimes[0]!;
      if (regimes.length === 1 && first.n < o.minRows) {
        // Only whole rows teach (a missing member would make the mean NaN for good).
        if (q === k) learn(first, row, o.alpha);
        return -1;
      }
      // Judged against the known state it fits best: a row normal for any state is normal.
      let best = 0;
      let bestT2 = Infinity;
      let bestLogP = -Infinity;
      for (let r = 0; r < regimes.length; r++) {
        const t2 = t2Of(row, regimes[r]!, q);
        const logP = q === 0 ? 0 : t2 === Infinity ? -Infinity : chiSquareLog10Tail(t2, q);
        if (logP > bestLogP) [best, bestT2, bestLogP] = [r, t2, logP];
      }
      if (regimes.length > 1) t2Of(row, regimes[best]!, q); // d and sol of the best, for the shares
      const score = Math.min(1, -bestLogP / SCALE);
      last.t2 = bestT2;
      last.p = 10 ** bestLogP;
      last.regime = best;
      last.shares.fill(0);
      if (Number.isFinite(bestT2)) for (let a = 0; a < q; a++) last.shares[idx[a]!] = bestT2 > 0 ? (d[idx[a]!]! * sol[a]!) / bestT2 : 0;
      else {
        // No covariance to weigh by: each member's share of the squared deviations.
        let sum = 0;
        for (let a = 0; a < q; a++) sum += d[idx[a]!]! ** 2;
        for (let a = 0; a < q; a++) last.shares[idx[a]!] = sum > 0 && Number.isFinite(sum) ? d[idx[a]!]! ** 2 / sum : 1 / q;
      }
      // Only whole rows teach the model (a partial one says nothing of the missing covariances).
      if (q < k) return score;
      const fits = score < o.threshold;
      // A row that fits no state: with one state it teaches it slowly (alpha / 10, as a glitch of
      // at most CLIP deviations); with several it teaches only the state being learned, so the
      // rows of a new state do not widen the old one.
      if (fits) learn(regimes[best]!, row, o.alpha);
      else if (o.regimes === 1 && Number.isFinite(bestT2)) learn(regimes[best]!, row, o.alpha / 10, bestT2 > CLIP * CLIP ? CLIP / Math.sqrt(bestT2) : 1);
      regimes[best]!.used = rows;
      strange = fits ? 0 : strange + 1;
      if (fits) warming = null; // what was strange passed before it became a state
      else if (o.regimes > 1) {
        // A state that lasts (minRows strange rows in a row) is learned as a state of its own;
        // its own minRows later it judges rows, and the least recently used one makes room.
        if (warming === null && strange >= o.minRows) warming = regime();
        if (warming) {
          learn(warming, row, o.alpha);
          if (warming.n >= o.minRows) {
            warming.used = rows;
            if (regimes.length >= o.regimes) regimes.splice(leastUsed(regimes), 1);
            regimes.push(warming);
            warming = null;
            strange = 0;
          }
        }
      }
      return score;
    },
    explain: () => ({ t2: last.t2, p: last.p, shares: [...last.shares], regime: last.regime, regimes: regimes.length }),
    learned: () => (regimes.length > 1 ? 1 : Math.min(1, regimes[0]!.n / o.minRows)),
    save: () => {
      const out = (r: Regime): SavedRegime => ({ n: r.n, mean: [...r.mean], cov: [...r.cov], used: r.used });
      return { k, rows, strange, regimes: regimes.map(out), warming: warming ? out(warming) : null };
    },
  };
}

const leastUsed = (rs: readonly Regime[]) => rs.reduce((lru, r, i) => (r.used < rs[lru]!.used ? i : lru), 0);

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
