// Detector specs (what a pipeline's config says) to detectors. Explicit: adding a detector is a
// line here and one in the config schema, nothing registers itself.
import type { Detector, Severity } from './detector.js';
import { gate } from './gate.js';
import { createThresholdDetector } from './threshold.js';
import { zscoreCore } from './zscore.js';
import { ewmaCore } from './ewma.js';
import { cusumCore } from './cusum.js';
import { madCore } from './mad.js';
import { rateCore } from './rate.js';
import { varianceCore } from './variance.js';
import { flatlineCore } from './flatline.js';
import { createGapDetector } from './gap.js';
import { noveltyCore } from './novelty.js';
import type { GroupSpec } from './device-group.js';

interface Gated {
  severity: Severity;
  /** Readings after an anomalous one before the next event (extended while still anomalous). */
  cooldown: number;
}

export type DetectorSpec =
  | { type: 'threshold'; min?: number; max?: number; hysteresis?: number; severity: Severity }
  | ({ type: 'zscore'; threshold: number; window: number; minSamples: number } & Gated)
  | ({ type: 'ewma'; lambda: number; limit: number; alpha: number; minSamples: number; detrend: boolean } & Gated)
  | ({ type: 'cusum'; k: number; h: number; alpha: number; minSamples: number; detrend: boolean } & Gated)
  | ({ type: 'mad'; threshold: number; window: number; minSamples: number } & Gated)
  | ({ type: 'variance'; window: number; ratio: number; alpha: number; minSamples: number } & Gated)
  | ({ type: 'rate'; maxPerSecond: number } & Gated)
  | ({ type: 'flatline'; duration: number; tolerance: number } & Gated)
  | { type: 'gap'; duration: number; severity: Severity }
  | ({ type: 'novelty'; threshold: number; minSamples: number; learnFor: number; daily: boolean; halfLife: number; rareWeight: number; extremeMargin: number } & Gated)
  | GroupSpec;

/** The detectors that watch one sensor each (a group detector watches several: device-group.ts). */
export type SensorDetectorSpec = Exclude<DetectorSpec, GroupSpec>;
export const isGroupSpec = (d: DetectorSpec): d is GroupSpec => d.type === 'multivariate';

export type DetectorType = DetectorSpec['type'];

export function createDetector(spec: SensorDetectorSpec, saved?: unknown): Detector {
  // Detectors whose score is 0.5 at their own limit (in the sensor's unit) fire at 0.5.
  const at = (s: Gated, threshold = 0.5) => ({ detector: spec.type, severity: s.severity, cooldown: Math.max(1, s.cooldown), threshold });
  switch (spec.type) {
    case 'threshold':
      return createThresholdDetector(spec, saved);
    case 'gap':
      return createGapDetector(spec, saved);
    case 'zscore':
      return gate((st) => zscoreCore(spec, st), at(spec), saved);
    case 'ewma':
      return gate((st) => ewmaCore(spec, st), at(spec), saved);
    case 'cusum':
      return gate((st) => cusumCore(spec, st), at(spec), saved);
    case 'mad':
      return gate((st) => madCore(spec, st), at(spec), saved);
    case 'variance':
      return gate((st) => varianceCore(spec, st), at(spec), saved);
    case 'rate':
      return gate((st) => rateCore(spec, st), at(spec), saved);
    case 'flatline':
      return gate((st) => flatlineCore(spec, st), at(spec), saved);
    case 'novelty':
      return gate((st) => noveltyCore(spec, st), at(spec, spec.threshold), saved);
  }
}
