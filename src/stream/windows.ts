// The contract every window kind keeps (aligned: tumbling and hopping; count; session), so the
// stream, checkpoints and replay treat them alike. State is per sensor; `save()` is JSON-safe
// and the kind's factory takes it back.
import type { Reading } from './reading.js';
import type { Moments } from './moments.js';
import type { QuantileSketch } from './quantile-sketch.js';

export interface WindowResult {
  sensor: string;
  start: number;
  end: number;
  moments: Moments;
  /** Present when the pipeline asks for quantiles. */
  sketch?: QuantileSketch;
  /** Late readings of this sensor dropped since its previous summary. */
  late: number;
  /** A copy of a window still open (shutdown), not a closed one. */
  partial: boolean;
}

export interface Windows {
  /** Adds a reading; appends any windows it closes to `out`. Returns false if it was late. */
  add(reading: Reading, out: WindowResult[]): boolean;
  /** Closes windows of quiet sensors by wall clock. Returns whether any state changed. */
  tick(now: number, out: WindowResult[]): boolean;
  /** Emits a partial copy of every open window (shutdown); the windows stay open. */
  flush(out: WindowResult[]): void;
  /**
   * Drops all state of one sensor (idle past limits.sensorIdleTtl); its open windows go out as
   * partial summaries. Returns the event time before which a later reading of the sensor
   * belongs only to windows already reported (late), or -Infinity.
   */
  forget(sensor: string, out: WindowResult[]): number;
  openWindows(): number;
  /** The wall clock jumped by `deltaMs`: move arrival times with it, so quiet-sensor closing keeps its pace. */
  shiftArrivals(deltaMs: number): void;
  /** Plain JSON-safe state, in sensor insertion order (iteration order is part of the state). */
  save(): unknown;
}
