import type { Detector, Severity, Verdict } from './detector.js';

export interface ThresholdOptions {
  min?: number;
  max?: number;
  severity: Severity;
}

/** Fires when a value leaves [min, max] (or crosses to the other side); re-arms once back inside. */
type Side = 'in' | 'below' | 'above';

export function createThresholdDetector({ min, max, severity }: ThresholdOptions, saved?: unknown): Detector {
  let side: Side = (saved as { side?: Side } | undefined)?.side ?? 'in';
  return {
    save: () => ({ side }),
    observe(_ts, value): Verdict | undefined {
      const below = min !== undefined && value < min;
      const above = max !== undefined && value > max;
      const now = below ? 'below' : above ? 'above' : 'in';
      const changed = now !== side;
      side = now;
      if (now === 'in' || !changed) return undefined;
      const evidence: Record<string, number> = {};
      if (min !== undefined) evidence.min = min;
      if (max !== undefined) evidence.max = max;
      return {
        detector: 'threshold',
        severity,
        score: 1,
        message: below ? `value ${value} is below the minimum ${min}` : `value ${value} is above the maximum ${max}`,
        evidence,
      };
    },
  };
}
