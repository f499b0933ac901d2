// A detector over the whole corpus: the three profiles at the NAB-optimal threshold (swept on
// the corpus, as the published scoreboard does) and at the threshold the product ships with,
// and the CPU time per reading.
import type { Detector } from '../../stream/detectors/detector.js';
import type { NabFile } from './corpus.js';
import { runDetector } from './run-detector.js';
import { PROFILES, bestThreshold, scoreCorpus, type CorpusScore } from './scorer.js';

export interface Evaluation {
  name: string;
  optimal: CorpusScore[];
  /** At the shipped default threshold. */
  atDefault: CorpusScore[];
  defaultThreshold: number;
  cpuMicrosPerReading: number;
}

export function evaluate(name: string, files: readonly NabFile[], make: () => Detector, defaultThreshold: number): Evaluation {
  const run = runDetector(files, make);
  return {
    name,
    optimal: PROFILES.map((p) => bestThreshold(run.scored, p)),
    atDefault: PROFILES.map((p) => scoreCorpus(run.scored, defaultThreshold, p)),
    defaultThreshold,
    cpuMicrosPerReading: run.cpuMicrosPerReading,
  };
}
