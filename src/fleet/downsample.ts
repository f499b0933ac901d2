// At most `points` summaries for a chart: adjacent windows merged exactly (count, sum, min, max,
// mean, and the pooled standard deviation), as the agent's byte budget merges them.
export interface SummaryPoint {
  start: string;
  end: string;
  count: number;
  min?: number;
  max?: number;
  mean?: number;
  stddev?: number;
  partial?: boolean;
  merged?: number;
  replayed?: boolean;
}

type Raw = Record<string, unknown>;

function point(r: Raw): SummaryPoint {
  const w = r.window as { start: string; end: string };
  const p: SummaryPoint = { start: w.start, end: w.end, count: Number(r.count) };
  for (const k of ['min', 'max', 'mean', 'stddev'] as const) if (typeof r[k] === 'number') p[k] = r[k] as number;
  if (r.partial === true) p.partial = true;
  if (typeof r.merged === 'number') p.merged = r.merged;
  if (r.replayed === true) p.replayed = true;
  return p;
}

function merge(a: SummaryPoint, b: SummaryPoint): SummaryPoint {
  const n = a.count + b.count;
  const out: SummaryPoint = { start: a.start < b.start ? a.start : b.start, end: a.end > b.end ? a.end : b.end, count: n, merged: (a.merged ?? 1) + (b.merged ?? 1) };
  if (a.min !== undefined && b.min !== undefined) out.min = Math.min(a.min, b.min);
  if (a.max !== undefined && b.max !== undefined) out.max = Math.max(a.max, b.max);
  if (a.mean !== undefined && b.mean !== undefined && n > 0) {
    const mean = (a.mean * a.count + b.mean * b.count) / n;
    out.mean = mean;
    if (a.stddev !== undefined && b.stddev !== undefined && n > 1) {
      // Sums of squared deviations (sample stddev, n - 1), moved to the common mean.
      const ss = (p: SummaryPoint) => (p.count > 1 ? p.stddev! ** 2 * (p.count - 1) : 0) + p.count * (p.mean! - mean) ** 2;
      out.stddev = Math.sqrt((ss(a) + ss(b)) / (n - 1));
    }
  }
  if (a.partial || b.partial) out.partial = true;
  return out;
}

export function downsample(rows: readonly Raw[], points: number): SummaryPoint[] {
  const all = rows.map(point);
  if (all.length <= points || points < 1) return all;
  const per = Math.ceil(all.length / points);
  const out: SummaryPoint[] = [];
  for (let i = 0; i < all.length; i += per) out.push(all.slice(i, i + per).reduce(merge));
  return out;
}
