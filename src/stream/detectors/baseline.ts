// The slow "normal" that EWMA and CUSUM compare against: an exponentially weighted level, with
// (detrend) a trend learned as slowly (Holt's linear method), and the variance of what they do
// not predict. `alpha` is the weight of each new value (about 2 / (N + 1) for an N-reading memory).
// Why the trend: a plain slow mean lags behind a drift by its slope times the memory, and every
// reading of the drift then looks shifted the same way, which is what made these charts raise
// false alarms on real plant data (docs/anomaly-detection.md).
export interface Baseline {
  n: number;
  level: number;
  /** Change per reading (0 without detrend). */
  trend: number;
  /** Of the one-step residuals, value - (level + trend). */
  variance: number;
  /** A fast average of the residuals, and the slow mean of its square (see `deviation`). */
  run?: number;
  runSquare?: number;
}

export const emptyBaseline = (): Baseline => ({ n: 0, level: 0, trend: 0, variance: 0 });

/** A saved baseline (checkpoints before the trend held { n, mean, variance }); without detrend, no trend. */
export function restoreBaseline(saved: unknown, detrend: boolean): Baseline {
  const s = saved as Partial<Baseline> & { mean?: number };
  return { n: s.n ?? 0, level: s.level ?? s.mean ?? 0, trend: detrend ? (s.trend ?? 0) : 0, variance: s.variance ?? 0, ...(s.run !== undefined && { run: s.run, runSquare: s.runSquare }) };
}

const RUN_LAMBDA = 0.1;
/** The trend learns ten times slower than the level: damped, so noise does not swing it. */
const TREND = 0.1;

/**
 * The residuals' deviation as runs of them vary: sqrt(mean square of their fast average *
 * (2 - l) / l), which is their plain deviation for independent noise and larger for a sensor
 * whose noise wanders (autocorrelated: real process data), where runs of same-signed residuals
 * are normal and must not count as a shift.
 */
export const deviation = (b: Baseline): number => Math.sqrt(Math.max(b.variance, ((b.runSquare ?? 0) * (2 - RUN_LAMBDA)) / RUN_LAMBDA));

/** The value expected next. */
export const expected = (b: Baseline): number => b.level + b.trend;

/** The deviation to standardize by, never below 1e-12 of the level: float noise on a constant is not a shift. */
export const scaleOf = (b: Baseline, e: number): number => Math.max(deviation(b), 1e-12 * Math.abs(e));

/** A reading's residual from `e` in deviations `sd`; on a zero scale any difference counts as 10. */
export const standardized = (value: number, e: number, sd: number): number => (sd > 0 ? (value - e) / sd : value === e ? 0 : 10 * Math.sign(value - e));

/** Past its first readings, a residual teaches as if it were at most this many deviations. */
const CLIP = 5;
const CLIP_AFTER = 30;

/**
 * Huber's clip, as every learning step here uses it: once `seen` readings have taught the
 * estimate (CLIP_AFTER), `x` counts at most CLIP times `scale` (its usual size) either way, so
 * one gross reading (a sentinel 65535, a glitch) moves an estimate by a bounded amount.
 */
export function huber(x: number, scale: number, seen: number): number {
  const limit = CLIP * scale;
  return seen >= CLIP_AFTER && limit > 0 && Math.abs(x) > limit ? Math.sign(x) * limit : x;
}

export function learn(b: Baseline, value: number, alpha: number, detrend: boolean): void {
  if (b.n === 0) {
    b.level = value;
  } else {
    // Until 1/alpha readings, plain running means (the first values would weigh too much).
    const a = Math.max(alpha, 1 / (b.n + 1));
    // One gross reading must not swing the level, the trend and the variance for hours; a real
    // step still moves the baseline, CLIP deviations' worth a reading.
    const e = huber(value - b.level - b.trend, deviation(b), b.n);
    const level = b.level + b.trend + a * e;
    if (detrend) b.trend += alpha * TREND * (level - b.level - b.trend);
    b.level = level;
    b.variance = (1 - a) * (b.variance + a * e * e);
    b.run = RUN_LAMBDA * e + (1 - RUN_LAMBDA) * (b.run ?? 0);
    b.runSquare = (1 - a) * (b.runSquare ?? 0) + a * b.run * b.run;
  }
  b.n++;
}
