// Gap: no reading from a sensor for `duration` of wall-clock time (a sensor that died, a cut
// cable, a node out of battery). Found by the stream's once-a-second tick, not by a reading;
// one event per silence, re-armed by the next reading. The event's ts is the tick's time and
// its value the last reading. Readings themselves score 0.
import type { Detector, Severity, Verdict } from './detector.js';

export interface GapOptions {
  /** ms of silence. */
  duration: number;
  severity: Severity;
}

interface Saved {
  lastAt: number | null;
  lastValue: number;
  reported: boolean;
}

export function createGapDetector({ duration, severity }: GapOptions, saved?: unknown): Detector {
  const s = saved as Saved | undefined;
  let lastAt = s?.lastAt ?? null;
  let lastValue = s?.lastValue ?? NaN;
  let reported = s?.reported ?? false;
  return {
    score: 0,
    save: (): Saved => ({ lastAt, lastValue, reported }),
    observe(ts, value, receivedAt) {
      lastAt = receivedAt ?? ts;
      lastValue = value;
      reported = false;
      return undefined;
    },
    tick(now): Verdict | undefined {
      if (lastAt === null || reported || now - lastAt < duration) return undefined;
      reported = true;
      const silentS = Math.round((now - lastAt) / 1000);
      return {
        detector: 'gap',
        severity,
        score: 1,
        message: `no reading for ${silentS} s (the limit is ${Math.round(duration / 1000)} s); the last was ${lastValue} at ${new Date(lastAt).toISOString()}`,
        evidence: { silentSeconds: silentS, limitSeconds: Math.round(duration / 1000), lastValue },
      };
    },
  };
}
