import type { Detector, Severity, Verdict } from './detector.js';

export interface ThresholdOptions {
  min?: number;
  max?: number;
  severity: Severity;
}

/** Fires when a value leaves [min, max]; re-arms once a value is back inside. */
export function createThresholdDetector({ min, max, severity }: ThresholdOptions): Detector {
  let alarmed = false;
  return {
    observe(_ts, value): Verdict | undefined {
      const below = min !== undefined && value < min;
      const above = max !== undefined && value > max;
      if (!below && !above) {
        alarmed = false;
        return undefined;
      }
      if (alarmed) return undefined;
      alarmed = true;
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
