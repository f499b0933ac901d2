// Turns a scoring core into a detector: a verdict when the score reaches `threshold`, then a
// cooldown of `cooldown` readings, extended by every reading still at or above the threshold,
// so one fault gives one event however long it lasts. Inside the cooldown the reported score
// is 0 (the benchmark sees exactly what would make events).
import type { Detector, ScoreCore, Severity, Verdict } from './detector.js';

export interface GateOptions {
  detector: string;
  severity: Severity;
  /** Score at or above which a reading is anomalous. */
  threshold: number;
  /** Readings after an anomalous one before another event can be made (>= 1). */
  cooldown: number;
}

interface Saved {
  quiet: number;
  core: unknown;
}

export function gate(makeCore: (saved?: unknown) => ScoreCore, o: GateOptions, saved?: unknown): Detector {
  const s = saved as Saved | undefined;
  const core = makeCore(s?.core);
  let quiet = s?.quiet ?? 0;
  let score = 0;
  return {
    get score() {
      return score;
    },
    observe(ts, value): Verdict | undefined {
      const a = core.assess(ts, value);
      if (a < 0) {
        score = 0;
        return undefined;
      }
      const hot = a >= o.threshold;
      if (quiet > 0) {
        quiet = hot ? o.cooldown : quiet - 1;
        score = 0;
        return undefined;
      }
      score = a;
      if (!hot) return undefined;
      quiet = o.cooldown;
      return { detector: o.detector, severity: o.severity, score: Math.round(a * 1e4) / 1e4, ...core.explain() };
    },
    save: (): Saved => ({ quiet, core: core.save() }),
    ...(core.learned && { learned: () => core.learned!() }),
  };
}
