export const AGGREGATES = ['count', 'sum', 'min', 'max', 'mean', 'stddev', 'first', 'last', 'p50', 'p90', 'p95', 'p99'] as const;
export type AggregateName = (typeof AGGREGATES)[number];

/** Quantile aggregates and their q; any of them makes a window keep a sketch. */
export const QUANTILES: Partial<Record<AggregateName, number>> = { p50: 0.5, p90: 0.9, p95: 0.95, p99: 0.99 };
export const wantsQuantiles = (names: readonly AggregateName[]) => names.some((n) => QUANTILES[n] !== undefined);
