// An exponentially weighted mean and variance: the slow "normal" that EWMA and CUSUM compare
// against. `alpha` is the weight of each new value (about 2 / (N + 1) for an N-reading memory).
export interface Baseline {
  n: number;
  mean: number;
  variance: number;
}

export const emptyBaseline = (): Baseline => ({ n: 0, mean: 0, variance: 0 });

export function learn(b: Baseline, value: number, alpha: number): void {
  if (b.n === 0) {
    b.mean = value;
    b.variance = 0;
  } else {
    // Until 1/alpha readings, a plain running mean (the first values would weigh too much).
    const a = Math.max(alpha, 1 / (b.n + 1));
    const d = value - b.mean;
    b.mean += a * d;
    b.variance = (1 - a) * (b.variance + a * d * d);
  }
  b.n++;
}
