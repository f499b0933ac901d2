// Fixed limits: fires when a value leaves [min, max] (or crosses to the other side), and re-arms
// only once it is back inside by `hysteresis`, so a value hovering at the limit gives one event,
// not one per wobble. Score 1 outside, 0 inside.
import type { Detector, Severity, Verdict } from './detector.js';

export interface ThresholdOptions {
  min?: number;
  max?: number;
  /** How far back inside a value must come before the next event (same unit as min/max). */
  hysteresis?: number;
  severity: Severity;
}

type Side = 'in' | 'below' | 'above';

export function createThresholdDetector({ min, max, hysteresis = 0, severity }: ThresholdOptions, saved?: unknown): Detector {
  let side: Side = (saved as { side?: Side } | undefined)?.side ?? 'in';
  let score = 0;
  return {
    get score() {
      return score;
    },
    save: () => ({ side }),
    observe(_ts, value): Verdict | undefined {
      const below = min !== undefined && value < min;
      const above = max !== undefined && value > max;
      score = below || above ? 1 : 0;
      const now: Side = below ? 'below' : above ? 'above' : 'in';
      if (now === 'in') {
        // back inside only once clear of the limit it crossed by the hysteresis
        if (side === 'above' && max !== undefined && value > max - hysteresis) return undefined;
        if (side === 'below' && min !== undefined && value < min + hysteresis) return undefined;
        side = 'in';
        return undefined;
      }
      if (now === side) return undefined;
      side = now;
      const evidence: Record<string, number> = {};
      if (min !== undefined) evidence.min = min;
      if (max !== undefined) evidence.max = max;
      if (hysteresis) evidence.hysteresis = hysteresis;
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
