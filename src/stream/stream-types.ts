// The stream stage's types: what goes in (pipeline specs), what comes out (summaries,
// anomalies, events) and the saved state of a checkpoint.
import type { Reading } from './reading.js';
import type { AggregateName } from './aggregate-names.js';
import type { QuantileSketch } from './quantile-sketch.js';
import type { WindowSpec } from './create-windows.js';
import type { Verdict } from './detectors/detector.js';
import type { DetectorSpec } from './detectors/create-detector.js';
import type { StaleEvent, SavedPresence } from './staleness.js';
import type { AvailabilityEvent, SavedAvailability } from './availability.js';
import type { DerivedSpec, RuleEvent, RuleSpec, SavedRules } from './rules/rule-types.js';

export type { DetectorSpec, StaleEvent, AvailabilityEvent, RuleEvent, RuleSpec, DerivedSpec };

export interface PipelineSpec {
  name?: string;
  match: string[];
  window: WindowSpec;
  aggregates: AggregateName[];
  detectors: DetectorSpec[];
  /**
   * When a silent sensor is stale (an event upstream): 'auto' (default) from its own cadence,
   * a fixed duration in ms, or 'off'.
   */
  staleAfter?: 'auto' | 'off' | number;
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

/** Something that happened to a sensor or device rather than a measurement (event/<type>/...). */
export type StreamEvent = StaleEvent | AvailabilityEvent | RuleEvent;

export type StreamOutput = Summary | Anomaly | StreamEvent;

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
  /**
   * A device's availability as its firmware reports it (journaled, like readings): an event
   * when it changed or is new. Returns whether it did.
   */
  availability(device: string, online: boolean, at: number, out: StreamOutput[]): boolean;
  /**
   * Detectors still warming up: how many of all that learn, and the `limit` least advanced
   * (sensor, detector type, progress 0..1).
   */
  learning(limit: number): { detectors: number; learning: number; least: Array<{ sensor: string; detector: string; progress: number }> };
  /** Forgets the detector state of the sensors `matches` accepts (they learn again); returns how many. */
  resetDetectors(matches: (sensor: string) => boolean): number;
  /** Ids of sensors with state (routed, not evicted), at most `limit`. */
  sensorIds(limit: number): string[];
  /** Sensors stale now (at most `limit`), and devices offline. */
  presence(limit: number): { stale: string[]; staleCount: number; offline: number };
  /** Rules raised now. */
  rulesRaised(): Array<{ rule: string; severity: RuleSpec['severity']; since: number; raisedAt: number }>;
  /**
   * The hand-over after a restart: rules of the saved state that are raised and no longer
   * configured (removed or changed) are cleared.
   */
  retireRules(now: number, out: StreamOutput[]): void;
}

export interface StreamOptions {
  /**
   * A sensor silent this long (ms, by arrival on the wall clock) has its windows flushed (as
   * partial summaries) and its window and detector state dropped at the next tick; 0: never.
   * Given, it replaces the saved stream's; a restored stream keeps the TTL it ran with, so a
   * replay evicts at the same ticks.
   */
  idleTtlMs?: number;
  /** Rules across sensors (rules/rule-state.ts). */
  rules?: readonly RuleSpec[];
  /** Derived sensors, computed from others; their readings are ingested like any. */
  derived?: readonly DerivedSpec[];
}

/** What a stream is made of: its checkpoint records it, so a replay runs what ran. */
export interface StreamSpecs {
  pipelines: PipelineSpec[];
  rules?: RuleSpec[];
  derived?: DerivedSpec[];
}

export interface SavedPipeline {
  fingerprint: string;
  windows: unknown;
  detectors: Array<[string, unknown[]]>;
  /** Group detectors' states, in config order (absent without any). */
  groups?: unknown[];
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
  /** Arrival cadence and stale state per sensor (absent in older checkpoints). */
  presence?: SavedPresence;
  /** Last reported availability per device. */
  availability?: SavedAvailability;
  /** Rules' state and the latest readings they and derived sensors read. */
  rules?: SavedRules;
}

