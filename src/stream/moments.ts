// Moment aggregates of one window: O(1) memory, exact, and mergeable (the outbox will
// compact old summaries by merging adjacent windows). Variance uses Welford's update and
// Chan et al.'s pairwise merge, which stay accurate where sum-of-squares cancels.
import { QUANTILES, type AggregateName } from './aggregate-names.js';
import { quantile, type QuantileSketch } from './quantile-sketch.js';

export interface Moments {
  count: number;
  sum: number;
  min: number;
  max: number;
  mean: number;
  /** Sum of squared deviations from the mean (Welford's M2). */
  m2: number;
  first: number;
  firstTs: number;
  last: number;
  lastTs: number;
}

export function emptyMoments(): Moments {
  return { count: 0, sum: 0, min: Infinity, max: -Infinity, mean: 0, m2: 0, first: NaN, firstTs: Infinity, last: NaN, lastTs: -Infinity };
}

/** Adds one reading. first/last follow event time (ties: arrival order), not arrival order. */
export function addValue(m: Moments, ts: number, value: number): void {
  m.count++;
  m.sum += value;
  if (value < m.min) m.min = value;
  if (value > m.max) m.max = value;
  const delta = value - m.mean;
  m.mean += delta / m.count;
  m.m2 += delta * (value - m.mean);
  if (ts < m.firstTs) {
    m.firstTs = ts;
    m.first = value;
  }
  if (ts >= m.lastTs) {
    m.lastTs = ts;
    m.last = value;
  }
}

/** The moments of the union of a's and b's readings (neither input is changed). */
export function mergeMoments(a: Moments, b: Moments): Moments {
  if (a.count === 0) return { ...b };
  if (b.count === 0) return { ...a };
  const count = a.count + b.count;
  const delta = b.mean - a.mean;
  const aFirst = a.firstTs <= b.firstTs;
  const bLast = b.lastTs >= a.lastTs;
  return {
    count,
    sum: a.sum + b.sum,
    min: Math.min(a.min, b.min),
    max: Math.max(a.max, b.max),
    mean: a.mean + (delta * b.count) / count,
    m2: a.m2 + b.m2 + (delta * delta * a.count * b.count) / count,
    first: aFirst ? a.first : b.first,
    firstTs: aFirst ? a.firstTs : b.firstTs,
    last: bLast ? b.last : a.last,
    lastTs: bLast ? b.lastTs : a.lastTs,
  };
}

/** Sample standard deviation (n - 1); 0 for a single reading. */
export function stddev(m: Moments): number {
  return m.count > 1 ? Math.sqrt(m.m2 / (m.count - 1)) : 0;
}

/** The configured aggregates as a plain record, ready for a summary payload. */
export function aggregateValues(m: Moments, names: readonly AggregateName[], sketch?: QuantileSketch): Partial<Record<AggregateName, number>> {
  const out: Partial<Record<AggregateName, number>> = {};
  for (const name of names) {
    const q = QUANTILES[name];
    if (q !== undefined) {
      if (sketch) out[name] = quantile(sketch, q);
      continue;
    }
    switch (name) {
      case 'count': out.count = m.count; break;
      case 'sum': out.sum = m.sum; break;
      case 'min': out.min = m.min; break;
      case 'max': out.max = m.max; break;
      case 'mean': out.mean = m.mean; break;
      case 'stddev': out.stddev = stddev(m); break;
      case 'first': out.first = m.first; break;
      case 'last': out.last = m.last; break;
    }
  }
  return out;
}
