// Merging two summaries of one sensor into one coarser summary, exactly: the result equals the
// summary of both windows' readings (count, sum, min, max, mean, stddev, first, last). The
// store uses it to compact a full outbox without losing what the readings said.
import type { Summary } from './stream.js';
import type { AggregateName } from './aggregate-names.js';
import { mergeMoments, stddev, type Moments } from './moments.js';
import { QUANTILES } from './aggregate-names.js';
import { mergeSketches, quantile } from './quantile-sketch.js';

/** `a` must end at or before `b` starts (time order); the result spans a.start to b.end. */
export function mergeSummaries(a: Summary, b: Summary): Summary {
  if (a.sensor !== b.sensor) throw new Error(`cannot merge summaries of ${a.sensor} and ${b.sensor}`);
  if (a.end > b.start) throw new Error(`summaries overlap or are out of order: [${a.start}, ${a.end}) then [${b.start}, ${b.end})`);
  const m = mergeMoments(toMoments(a, 0), toMoments(b, 1));
  const values: Partial<Record<AggregateName, number>> = {};
  // Only what both inputs carry can be carried on (mean can also come from sum / count).
  const both = (k: AggregateName) => a.values[k] !== undefined && b.values[k] !== undefined;
  if (both('count')) values.count = m.count;
  if (both('sum')) values.sum = m.sum;
  if (both('min')) values.min = m.min;
  if (both('max')) values.max = m.max;
  if (hasMean(a) && hasMean(b)) values.mean = m.mean;
  if (both('stddev') && hasMean(a) && hasMean(b)) values.stddev = stddev(m);
  if (both('first')) values.first = m.first;
  if (both('last')) values.last = m.last;
  // Quantiles merge through their sketches (exactly); without both sketches they cannot.
  const sketch = a.sketch && b.sketch ? mergeSketches(a.sketch, b.sketch) : undefined;
  if (sketch) for (const [k, q] of Object.entries(QUANTILES)) if (both(k as AggregateName)) values[k as AggregateName] = quantile(sketch, q!);
  return { kind: 'summary', sensor: a.sensor, start: a.start, end: b.end, count: m.count, values, late: a.late + b.late, partial: a.partial || b.partial, ...(sketch && { sketch }) };
}

function hasMean(s: Summary): boolean {
  return s.values.mean !== undefined || s.values.sum !== undefined;
}

/** The moments a summary implies; `order` keeps first/last in time order between the two. */
function toMoments(s: Summary, order: number): Moments {
  const mean = s.values.mean ?? (s.values.sum !== undefined ? s.values.sum / s.count : 0);
  const sd = s.values.stddev ?? 0;
  return {
    count: s.count,
    sum: s.values.sum ?? mean * s.count,
    min: s.values.min ?? Infinity,
    max: s.values.max ?? -Infinity,
    mean,
    m2: sd * sd * Math.max(0, s.count - 1), // sample stddev back to the sum of squared deviations
    first: s.values.first ?? NaN,
    firstTs: order,
    last: s.values.last ?? NaN,
    lastTs: order,
  };
}
