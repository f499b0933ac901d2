// Rate of change: how fast the value moves between consecutive readings, per second, against
// a physical limit (a temperature cannot rise 5 degrees a second; a tank cannot fill that
// fast). Score 0.5 at maxPerSecond.
import { round, WARMING_UP, type ScoreCore } from './detector.js';

export interface RateOptions {
  /** Largest believable change per second, in the sensor's unit. */
  maxPerSecond: number;
}

export function rateCore({ maxPerSecond }: RateOptions, saved?: unknown): ScoreCore {
  const st = saved as { ts: number; value: number } | null | undefined;
  let last = st ?? null;
  let prev: { ts: number; value: number } | null = null;
  let perSecond = 0;
  return {
    save: () => last,
    assess(ts, value) {
      prev = last;
      last = { ts, value };
      if (!prev || ts <= prev.ts) return WARMING_UP;
      perSecond = ((value - prev.value) * 1000) / (ts - prev.ts);
      return Math.min(1, Math.abs(perSecond) / (2 * maxPerSecond));
    },
    explain() {
      const p = prev!;
      const seconds = round((last!.ts - p.ts) / 1000);
      return {
        message: `value ${perSecond > 0 ? 'rose' : 'fell'} from ${p.value} to ${last!.value} in ${seconds} s (${round(Math.abs(perSecond))}/s, the limit is ${maxPerSecond}/s)`,
        evidence: { perSecond: round(perSecond), maxPerSecond, previous: p.value, seconds },
      };
    },
  };
}
