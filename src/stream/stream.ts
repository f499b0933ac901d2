// The stream stage: routes each reading to the first pipeline whose globs match its sensor,
// runs that pipeline's detectors on it, and folds it into the sensor's tumbling window.
// Pure and synchronous: time comes in as arguments, results go out through `out` arrays.
import type { Reading } from './reading.js';
import type { AggregateName } from './aggregate-names.js';
import { compileGlobs, type GlobMatcher } from './glob.js';
import { createTumblingWindows, type TumblingWindows, type WindowResult } from './tumbling-window.js';
import { aggregateValues } from './moments.js';
import type { Detector, Severity, Verdict } from './detectors/detector.js';
import { createThresholdDetector } from './detectors/threshold.js';
import { createZScoreDetector } from './detectors/zscore.js';

export type DetectorSpec =
  | { type: 'threshold'; min?: number; max?: number; severity: Severity }
  | { type: 'zscore'; threshold: number; window: number; minSamples: number; severity: Severity };

export interface PipelineSpec {
  name?: string;
  match: string[];
  window: { size: number; lateness: number };
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
  /** Closes the windows of quiet sensors; call about once a second with the wall clock. */
  tick(now: number, out: StreamOutput[]): void;
  /** Emits every open window as a partial summary (graceful shutdown). */
  flush(out: StreamOutput[]): void;
  openWindows(): number;
}

interface PipelineState {
  spec: PipelineSpec;
  matches: GlobMatcher;
  windows: TumblingWindows;
  detectors: Map<string, Detector[]>;
}

export function createDetector(spec: DetectorSpec): Detector {
  switch (spec.type) {
    case 'threshold':
      return createThresholdDetector(spec);
    case 'zscore':
      return createZScoreDetector(spec);
  }
}

export function createStream(specs: readonly PipelineSpec[]): Stream {
  const pipelines: PipelineState[] = specs.map((spec) => ({
    spec,
    matches: compileGlobs(spec.match),
    windows: createTumblingWindows({ sizeMs: spec.window.size, latenessMs: spec.window.lateness }),
    detectors: new Map(),
  }));
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
        values: aggregateValues(w.moments, p.spec.aggregates),
        late: w.late,
        partial: w.partial,
      });
    }
    closed.length = 0;
  };

  return {
    ingest(r, out) {
      const p = route(r.sensor);
      if (!p) return 'unrouted';
      let dets = p.detectors.get(r.sensor);
      if (!dets) {
        dets = p.spec.detectors.map(createDetector);
        p.detectors.set(r.sensor, dets);
      }
      for (const d of dets) {
        const verdict = d.observe(r.ts, r.value);
        if (verdict) out.push({ kind: 'anomaly', sensor: r.sensor, ts: r.ts, value: r.value, verdict });
      }
      const onTime = p.windows.add(r, closed);
      drainClosed(p, out);
      return onTime ? 'ok' : 'late';
    },
    tick(now, out) {
      for (const p of pipelines) {
        p.windows.tick(now, closed);
        drainClosed(p, out);
      }
    },
    flush(out) {
      for (const p of pipelines) {
        p.windows.flush(closed);
        drainClosed(p, out);
      }
    },
    openWindows() {
      return pipelines.reduce((n, p) => n + p.windows.openWindows(), 0);
    },
  };
}
