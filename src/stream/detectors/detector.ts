// The contract every anomaly detector keeps: one instance per sensor, fed every reading in
// order, O(1) or bounded state, and a verdict only when something starts being wrong
// (a fault that persists gives one event, not one per reading).

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
  observe(ts: number, value: number): Verdict | undefined;
  /** JSON-safe state; the detector's factory takes it back to continue exactly. */
  save(): unknown;
}
