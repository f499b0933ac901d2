// Feeds every NAB file, row by row, to a fresh detector and collects the score each row got,
// as a device would: causal, one reading at a time, the row's timestamp as event and arrival
// time. Also measures CPU time per reading (process.cpuUsage, user + system).
import type { Detector } from '../../stream/detectors/detector.js';
import type { NabFile } from './corpus.js';
import type { ScoredFile } from './scorer.js';

export interface DetectorRun {
  scored: ScoredFile[];
  /** Per file, the rows where the detector raised an event (what a device would send). */
  alarms: number[][];
  /** Mean CPU microseconds per reading. */
  cpuMicrosPerReading: number;
}

export function runDetector(files: readonly NabFile[], make: () => Detector): DetectorRun {
  let rows = 0;
  const before = process.cpuUsage();
  const alarms: number[][] = [];
  const scored = files.map((f) => {
    const d = make();
    const scores = new Float64Array(f.values.length);
    const raised: number[] = [];
    for (let i = 0; i < f.values.length; i++) {
      if (d.observe(f.ts[i]!, f.values[i]!, f.ts[i]!)) raised.push(i);
      scores[i] = d.score;
    }
    rows += f.values.length;
    alarms.push(raised);
    return { rows: f.values.length, windows: f.windows, scores };
  });
  const used = process.cpuUsage(before);
  return { scored, alarms, cpuMicrosPerReading: (used.user + used.system) / rows };
}
