export const AGGREGATES = ['count', 'sum', 'min', 'max', 'mean', 'stddev', 'first', 'last'] as const;
export type AggregateName = (typeof AGGREGATES)[number];
