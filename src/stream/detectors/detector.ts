// The contract every anomaly detector keeps: one instance per sensor, fed every reading in
// order, O(1) or bounded state, causal (a reading's score uses that reading and earlier ones
// only), a score in [0, 1] for every reading, and a verdict only when a fault starts (a fault
// that persists gives one event, not one per reading).

export type Severity = 'info' | 'warning' | 'critical';

export interface Verdict {
  detector: string;
  severity: Severity;
  /** 0 = normal, 1 = certainly anomalous. */
  score: number;
  message: string;
  /** What the value was compared against (thresholds, baseline mean and deviation, ...). */
  evidence: Record<string, number>;
}

export interface Detector {
  /** `receivedAt`: the agent's wall clock at arrival (only the gap detector needs it). */
  observe(ts: number, value: number, receivedAt?: number): Verdict | undefined;
  /** The last reading's score as events see it: 0 during warm-up and inside a cooldown. */
  readonly score: number;
  /** Wall-clock tick while a sensor is quiet (the gap detector); undefined when nothing happened. */
  tick?(now: number): Verdict | undefined;
  /** JSON-safe state; the detector's factory takes it back to continue exactly. */
  save(): unknown;
  /**
   * How far its warm-up is, 0..1 (1: it gives verdicts); absent for detectors that need no
   * history (threshold, rate, gap, flatline).
   */
  learned?(): number;
}

/** A detector's statistics without the event logic (gate.ts adds threshold and cooldown). */
export interface ScoreCore {
  /**
   * The reading's score in [0, 1] (0.5 is the detector's own limit, for those with one in the
   * sensor's unit), or -1 while warming up. Learns from the reading after scoring it. Allocates
   * nothing: this runs for every reading.
   */
  assess(ts: number, value: number): number;
  /** Message and evidence for the reading last assessed; called only when it makes an event. */
  explain(): { message: string; evidence: Record<string, number> };
  save(): unknown;
  /** Warm-up done, 0..1 (see Detector.learned). */
  learned?(): number;
}

/** assess() while warming up. */
export const WARMING_UP = -1;

/** Six significant digits: evidence for humans, stable in JSON. */
export function round(x: number): number {
  return Number.isFinite(x) ? Number(x.toPrecision(6)) : x > 0 ? 1e308 : -1e308;
}
