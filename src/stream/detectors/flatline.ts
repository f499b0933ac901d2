// Flatline / stuck value: the reading has not moved by more than `tolerance` for `duration`
// (event time), as a frozen sensor or a dead ADC channel reports. Score 0.5 at duration.
import { round, WARMING_UP, type ScoreCore } from './detector.js';

export interface FlatlineOptions {
  /** ms. */
  duration: number;
  tolerance: number;
}

export function flatlineCore({ duration, tolerance }: FlatlineOptions, saved?: unknown): ScoreCore {
  const st = saved as { value: number; since: number; count: number } | null | undefined;
  let ref = st ?? null;
  let stuckMs = 0;
  return {
    save: () => ref,
    assess(ts, value) {
      if (!ref || Math.abs(value - ref.value) > tolerance) {
        ref = { value, since: ts, count: 1 };
        return WARMING_UP;
      }
      ref.count++;
      stuckMs = ts - ref.since;
      return Math.min(1, stuckMs / (2 * duration));
    },
    explain() {
      const r = ref!;
      return {
        message: `value stuck at ${r.value} (within ${tolerance}) for ${round(stuckMs / 1000)} s and ${r.count} readings`,
        evidence: { value: r.value, stuckSeconds: round(stuckMs / 1000), readings: r.count, tolerance },
      };
    },
  };
}
