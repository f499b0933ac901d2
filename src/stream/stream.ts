// The stream stage: routes each reading to the first pipeline whose globs match its sensor,
// runs that pipeline's detectors on it, and folds it into the sensor's tumbling window.
// Pure and synchronous: time comes in as arguments, results go out through `out` arrays.
import type { Reading } from './reading.js';
import { wantsQuantiles, type AggregateName } from './aggregate-names.js';
import type { QuantileSketch } from './quantile-sketch.js';
import { compileGlobs, type GlobMatcher } from './glob.js';
import type { Windows, WindowResult } from './windows.js';
import { createWindows, type WindowSpec } from './create-windows.js';
import { aggregateValues } from './moments.js';
import type { Detector, Verdict } from './detectors/detector.js';
import { createDetector, type DetectorSpec } from './detectors/create-detector.js';

export type { DetectorSpec };

export interface PipelineSpec {
  name?: string;
  match: string[];
  window: WindowSpec;
  aggregates: AggregateName[];
  detectors: DetectorSpec[];
}

export interface Summary {
  kind: 'summary';
  sensor: string;
  start: number;
  end: number;
  count: number;
  values: Partial<Record<AggregateName, number>>;
  late: number;
  partial: boolean;
  /** The window's quantile sketch, when it keeps one (for exact merging; not sent). */
  sketch?: QuantileSketch;
}

export interface Anomaly {
  kind: 'anomaly';
  sensor: string;
  ts: number;
  value: number;
  verdict: Verdict;
}

export type StreamOutput = Summary | Anomaly;

export type IngestOutcome = 'ok' | 'late' | 'unrouted';

export interface Stream {
  ingest(reading: Reading, out: StreamOutput[]): IngestOutcome;
  /**
   * Closes the windows of quiet sensors; call about once a second with the wall clock.
   * Returns whether any state changed (the journal records such ticks, for exact replay).
   */
  tick(now: number, out: StreamOutput[]): boolean;
  /**
   * Emits a partial summary of every open window (graceful shutdown); windows stay open and
   * continue after a restart. `which` limits it to the pipelines it accepts.
   */
  flush(out: StreamOutput[], which?: (fingerprint: string) => boolean): void;
  openWindows(): number;
  /** The wall clock jumped by `deltaMs` (journaled too: replay must shift at the same point). */
  shiftArrivals(deltaMs: number): void;
  /** JSON-safe state of every pipeline, for a checkpoint. */
  save(): SavedStream;
  /** Sensors with state (seen within the idle TTL). */
  sensors(): number;
}

export interface StreamOptions {
  /**
   * A sensor silent this long (ms, by arrival on the wall clock) has its windows flushed (as
   * partial summaries) and its window and detector state dropped at the next tick; 0: never.
   * Given, it replaces the saved stream's; a restored stream keeps the TTL it ran with, so a
   * replay evicts at the same ticks.
   */
  idleTtlMs?: number;
}

export interface SavedPipeline {
  fingerprint: string;
  windows: unknown;
  detectors: Array<[string, unknown[]]>;
}

export interface SavedStream {
  pipelines: SavedPipeline[];
  /** Last arrival (epoch ms) per sensor with state, and the idle TTL it ran with (absent in older checkpoints). */
  seen?: Array<[string, number]>;
  idleTtlMs?: number;
  /**
   * Partial summaries flush() emitted, per sensor, with no reading of that sensor since (a
   * stop's): flushing again without new readings (the next stop, or a pipeline changed at the
   * next start) must not send the same window twice under a second id.
   */
  flushed?: Array<[string, string[]]>;
  /** Evicted sensors: event time before which their readings are late (windows already reported). */
  tombstones?: Array<[string, number]>;
}

interface PipelineState {
  spec: PipelineSpec;
  /** Some detector of this pipeline needs wall-clock ticks (gap). */
  ticking: boolean;
  fingerprint: string;
  matches: GlobMatcher;
  windows: Windows;
  detectors: Map<string, Detector[]>;
}

/** What a pipeline's state depends on: two pipelines with equal fingerprints can share state. */
export function pipelineFingerprint(spec: PipelineSpec): string {
  const w = spec.window;
  const window = w.type === undefined || w.type === 'tumbling' ? { type: 'tumbling', size: w.size, lateness: w.lateness } : w;
  return JSON.stringify({ match: spec.match, window, aggregates: spec.aggregates, detectors: spec.detectors });
}

/**
 * A stream for `specs`; with `saved`, each pipeline takes over the saved state of the first
 * not-yet-taken saved pipeline with the same fingerprint (a changed pipeline starts empty).
 */
/** Evicted sensors remembered (about 60 bytes each); past this the oldest is forgotten. */
const MAX_TOMBSTONES = 10_000;

export function createStream(specs: readonly PipelineSpec[], saved?: SavedStream, options: StreamOptions = {}): Stream {
  const idleTtlMs = options.idleTtlMs ?? saved?.idleTtlMs ?? 0;
  // Sensors with state, by last arrival. A sensor restored from a checkpoint without this map
  // enters it at its next reading (until then it is never evicted).
  const seen = new Map<string, number>(saved?.seen ?? []);
  const flushed = new Map<string, string[]>(saved?.flushed ?? []);
  // An evicted sensor that comes back with old readings (a buffered backlog) must not open a
  // window that was already reported: its reported-up-to time is kept, bounded in number.
  const tombstones = new Map<string, number>(saved?.tombstones ?? []);
  const flushKey = (fingerprint: string, o: StreamOutput) => (o.kind === 'summary' ? `${fingerprint}|${o.start}|${o.end}|${o.count}` : '');
  const unclaimed = [...(saved?.pipelines ?? [])];
  const pipelines: PipelineState[] = specs.map((spec) => {
    const fingerprint = pipelineFingerprint(spec);
    const i = unclaimed.findIndex((p) => p.fingerprint === fingerprint);
    const prior = i >= 0 ? unclaimed.splice(i, 1)[0] : undefined;
    return {
      spec,
      ticking: spec.detectors.some((d) => d.type === 'gap'),
      fingerprint,
      matches: compileGlobs(spec.match),
      windows: createWindows(spec.window, wantsQuantiles(spec.aggregates), prior?.windows),
      detectors: new Map((prior?.detectors ?? []).map(([sensor, states]) => [sensor, spec.detectors.map((d, j) => createDetector(d, states[j]))])),
    };
  });
  const routes = new Map<string, PipelineState | null>();
  const closed: WindowResult[] = [];

  const route = (sensor: string): PipelineState | null => {
    let p = routes.get(sensor);
    if (p === undefined) {
      p = pipelines.find((x) => x.matches(sensor)) ?? null;
      routes.set(sensor, p);
    }
    return p;
  };

  const drainClosed = (p: PipelineState, out: StreamOutput[]) => {
    for (const w of closed) {
      out.push({
        kind: 'summary',
        sensor: w.sensor,
        start: w.start,
        end: w.end,
        count: w.moments.count,
        values: aggregateValues(w.moments, p.spec.aggregates, w.sketch),
        late: w.late,
        partial: w.partial,
        ...(w.sketch && { sketch: w.sketch }),
      });
    }
    closed.length = 0;
  };

  /** drainClosed for partial summaries: one already sent, identical, with no reading since is not sent again. */
  const drainPartials = (p: PipelineState, out: StreamOutput[]) => {
    const from = out.length;
    drainClosed(p, out);
    let kept = from;
    for (let i = from; i < out.length; i++) {
      const o = out[i]!;
      const key = flushKey(p.fingerprint, o);
      const keys = flushed.get(o.sensor);
      if (keys?.includes(key)) continue;
      if (keys) keys.push(key);
      else flushed.set(o.sensor, [key]);
      out[kept++] = o;
    }
    out.length = kept;
  };

  return {
    ingest(r, out) {
      const p = route(r.sensor);
      if (!p) return 'unrouted';
      if (tombstones.size > 0) {
        const reported = tombstones.get(r.sensor);
        if (reported !== undefined) {
          if (r.ts < reported) return 'late';
          tombstones.delete(r.sensor);
        }
      }
      if (flushed.size > 0) flushed.delete(r.sensor); // a new reading: a later flush reports something new
      if (idleTtlMs > 0) seen.set(r.sensor, r.receivedAt); // no re-insertion per reading: tick scans them all
      let dets = p.detectors.get(r.sensor);
      if (!dets) {
        dets = p.spec.detectors.map((d) => createDetector(d));
        p.detectors.set(r.sensor, dets);
      }
      for (const d of dets) {
        const verdict = d.observe(r.ts, r.value, r.receivedAt);
        if (verdict) out.push({ kind: 'anomaly', sensor: r.sensor, ts: r.ts, value: r.value, verdict });
      }
      const onTime = p.windows.add(r, closed);
      drainClosed(p, out);
      return onTime ? 'ok' : 'late';
    },
    tick(now, out) {
      let changed = false;
      if (idleTtlMs > 0) {
        // A scan of every sensor with state (a few microseconds per thousand, once a tick).
        for (const [sensor, last] of seen) {
          if (now - last <= idleTtlMs) continue;
          seen.delete(sensor);
          const p = route(sensor);
          routes.delete(sensor);
          changed = true;
          if (!p) continue;
          const reported = p.windows.forget(sensor, closed);
          drainPartials(p, out);
          if (reported > -Infinity) {
            tombstones.set(sensor, reported);
            if (tombstones.size > MAX_TOMBSTONES) tombstones.delete(tombstones.keys().next().value!);
          }
          p.detectors.delete(sensor);
          flushed.delete(sensor);
        }
      }
      for (const p of pipelines) {
        if (p.windows.tick(now, closed)) changed = true;
        drainClosed(p, out);
        if (!p.ticking) continue;
        // Detectors that watch the wall clock (gap): a quiet sensor is an event too.
        for (const [sensor, dets] of p.detectors) {
          for (const d of dets) {
            const verdict = d.tick?.(now);
            if (!verdict) continue;
            out.push({ kind: 'anomaly', sensor, ts: now, value: verdict.evidence.lastValue ?? NaN, verdict });
            changed = true;
          }
        }
      }
      return changed;
    },
    flush(out, which) {
      for (const p of pipelines) {
        if (which && !which(p.fingerprint)) continue;
        p.windows.flush(closed);
        drainPartials(p, out);
      }
    },
    openWindows() {
      return pipelines.reduce((n, p) => n + p.windows.openWindows(), 0);
    },
    shiftArrivals(deltaMs) {
      for (const p of pipelines) p.windows.shiftArrivals(deltaMs);
      for (const [sensor, last] of seen) seen.set(sensor, last + deltaMs);
    },
    sensors: () => seen.size,
    save() {
      return {
        pipelines: pipelines.map((p) => ({
          fingerprint: p.fingerprint,
          windows: p.windows.save(),
          detectors: [...p.detectors].map(([sensor, dets]): [string, unknown[]] => [sensor, dets.map((d) => d.save())]),
        })),
        ...(idleTtlMs > 0 && { seen: [...seen], idleTtlMs }),
        ...(flushed.size > 0 && { flushed: [...flushed] }),
        ...(tombstones.size > 0 && { tombstones: [...tombstones] }),
      };
    },
  };
}
