// Which saved pipeline state a pipeline may take over: its fingerprint is what its state depends
// on (the sensors it matches, its window, its aggregates, what its detectors learn), without the
// options that only decide when a detector speaks.
import { isGroupSpec } from './detectors/create-detector.js';
import type { PipelineSpec } from './stream-types.js';

/**
 * Options that decide when a detector speaks, or how it learns from now on, not the form of what
 * it has learned: changing them (or their defaults, in an upgrade) keeps a pipeline's state,
 * history included.
 */
const JUDGEMENT = new Set(['threshold', 'cooldown', 'severity', 'minSamples', 'learnFor', 'limit', 'ratio', 'h', 'k', 'lambda', 'extremeMargin', 'detrend', 'halfLife', 'rareWeight']);

/**
 * What a pipeline's state depends on: two pipelines with equal fingerprints can share state.
 * Group detectors are not part of it (each keeps its own state by its own spec: device-group.ts),
 * so adding one to a pipeline keeps the pipeline's windows and per-sensor detectors.
 */
export function pipelineFingerprint(spec: PipelineSpec): string {
  const detectors = spec.detectors.filter((d) => !isGroupSpec(d)).map((d) => Object.fromEntries(Object.entries(d).filter(([k]) => !JUDGEMENT.has(k))));
  return JSON.stringify({ match: spec.match, window: windowOf(spec), aggregates: spec.aggregates, detectors, v: 2 });
}

/** The fingerprint checkpoints were written with before version 2 (the whole spec): still recognised. */
function legacyFingerprint(spec: PipelineSpec): string {
  return JSON.stringify({ match: spec.match, window: windowOf(spec), aggregates: spec.aggregates, detectors: spec.detectors });
}

/**
 * A saved fingerprint (any version) read as the current rules would have written it: without
 * the options that are judgement today (the set grows: a checkpoint written when `lambda` still
 * counted must match a config with `lambda` now) and without group detectors, keys sorted.
 */
function comparable(fingerprint: string): string | undefined {
  let f: { match?: unknown; window?: { type?: string; size?: number; lateness?: number }; aggregates?: unknown; detectors?: Array<Record<string, unknown>> };
  try {
    f = JSON.parse(fingerprint) as typeof f;
  } catch {
    return undefined;
  }
  if (!f || typeof f !== 'object' || !Array.isArray(f.detectors) || !f.window) return undefined;
  const w = f.window;
  const window = w.type === undefined || w.type === 'tumbling' ? { type: 'tumbling', size: w.size, lateness: w.lateness } : w;
  const detectors = f.detectors.filter((d) => d.type !== 'multivariate').map((d) => Object.fromEntries(Object.entries(d).filter(([k]) => !JUDGEMENT.has(k))));
  return sortedJson({ match: f.match, window, aggregates: f.aggregates, detectors });
}

function sortedJson(x: unknown): string {
  return JSON.stringify(x, (_k, v: unknown) => (v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v));
}

/** The window as its state depends on it (a tumbling window's fields in a fixed order). */
function windowOf(spec: PipelineSpec): unknown {
  const w = spec.window;
  return w.type === undefined || w.type === 'tumbling' ? { type: 'tumbling', size: w.size, lateness: w.lateness } : w;
}

/** Whether a saved pipeline's fingerprint (of any version) is `spec`'s: it may take that state over. */
export function stateMatcher(spec: PipelineSpec): (saved: string) => boolean {
  const fingerprint = pipelineFingerprint(spec);
  const legacy = legacyFingerprint(spec);
  const current = comparable(fingerprint);
  return (saved) => saved === fingerprint || saved === legacy || (current !== undefined && comparable(saved) === current);
}
