// Merging two summary messages as the outbox holds them (JSON payload + quantile sketch) into
// one coarser message, for the byte budget. The result is what mergeSummaries gives for the two
// windows, rendered like any summary, with `"merged": n` (how many original windows it covers)
// and the id of the earlier message. Pure: no I/O.
import { AGGREGATES, type AggregateName } from '../stream/aggregate-names.js';
import { mergeSummaries } from '../stream/merge.js';
import { renderBody, wrapBody, type EncodedMessage } from './render.js';
import { loadSketch, saveSketch } from '../stream/quantile-sketch.js';
import type { Summary } from '../stream/stream.js';

export interface StoredSummary {
  seq: number;
  payload: string;
  sketch: string | null;
}

interface Parsed {
  summary: Summary;
  merged: number;
  replayed: boolean;
  keys: string;
}

const VALUE_KEYS = AGGREGATES.filter((k) => k !== 'count');

export function parseStoredSummary(s: StoredSummary): Parsed | undefined {
  let m: Record<string, unknown>;
  try {
    m = JSON.parse(s.payload) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const w = m.window as { start?: string; end?: string } | undefined;
  const start = Date.parse(String(w?.start));
  const end = Date.parse(String(w?.end));
  if (typeof m.sensor !== 'string' || typeof m.count !== 'number' || !Number.isFinite(start) || !Number.isFinite(end)) return undefined;
  const values: Partial<Record<AggregateName, number>> = { count: m.count };
  for (const k of VALUE_KEYS) if (typeof m[k] === 'number') values[k] = m[k];
  const summary: Summary = {
    kind: 'summary',
    sensor: m.sensor,
    start,
    end,
    count: m.count,
    values,
    late: typeof m.late === 'number' ? m.late : 0,
    partial: m.partial === true,
    ...(s.sketch && { sketch: loadSketch(JSON.parse(s.sketch) as Parameters<typeof loadSketch>[0]) }),
  };
  return { summary, merged: typeof m.merged === 'number' ? m.merged : 1, replayed: m.replayed === true, keys: Object.keys(values).sort().join(',') };
}

/**
 * Whether `a` then `b` can become one summary: same sensor and fields, and b starts exactly
 * where a ends. Windows with a gap between them (a silent stretch, a window dropped or not yet
 * written, session windows) never merge: the merged window would claim the gap.
 */
export function canMerge(a: Parsed, b: Parsed): boolean {
  return a.summary.sensor === b.summary.sensor && a.keys === b.keys && a.replayed === b.replayed && a.summary.end === b.summary.start;
}

/** The merged message, under a's seq. */
export function mergeStored(device: string, seq: number, a: Parsed, b: Parsed): { payload: string; sketch: string | null } {
  const s = mergeSummaries(a.summary, b.summary);
  let body = renderBody(device, s);
  body += `,"merged":${a.merged + b.merged}`;
  if (a.replayed) body += ',"replayed":true';
  return { payload: wrapBody(device, seq, body), sketch: s.sketch ? JSON.stringify(saveSketch(s.sketch)) : null };
}

/** Two stored rows to one, or undefined when they may not merge; what the byte budget is given. */
export type Merger = (a: StoredSummary, b: StoredSummary) => EncodedMessage | undefined;

/** Merges summaries of one sensor whose windows touch, exactly (merge-stored above); the earlier id stays. */
export function summaryMerger(device: string): Merger {
  return (a, b) => {
    const pa = parseStoredSummary(a);
    const pb = parseStoredSummary(b);
    if (!pa || !pb || !canMerge(pa, pb)) return undefined;
    return mergeStored(device, a.seq, pa, pb);
  };
}
