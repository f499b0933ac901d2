// The NAB scorer, implemented from the method's description, checked against the official
// numbers: fed the official Windowed Gaussian per-row scores it must give 39.65 / 20.87 / 47.41
// at threshold 1.0. And the runner that feeds detectors checked by a port of Windowed Gaussian,
// which must reproduce the official per-row scores and corpus score.
import { beforeAll, describe, expect, it } from 'vitest';
import { detector as detectorSchema } from '../../src/config/pipelines-schema.js';
import type { SensorDetectorSpec } from '../../src/stream/detectors/create-detector.js';
import { loadCorpus, loadOfficialScores, type NabFile } from '../../src/tools/nab/corpus.js';
import { PROFILES, bestThreshold, normalize, probation, scoreCorpus, scoreFile, type ScoredFile } from '../../src/tools/nab/scorer.js';
import { runDetector } from '../../src/tools/nab/run-detector.js';
import { createWindowedGaussian } from '../../src/tools/nab/windowed-gaussian.js';
import { createDetector } from '../../src/stream/detectors/create-detector.js';
import { DEFAULT_NAB_DIR } from '../../src/tools/nab-command.js';

const [standard, lowFp, lowFn] = PROFILES as [typeof PROFILES[0], typeof PROFILES[0], typeof PROFILES[0]];

describe('NAB scoring rules on small cases', () => {
  const rows = 1000; // probation = 150
  const file = (detections: number[], windows: Array<[number, number]>): ScoredFile => {
    const scores = new Float64Array(rows);
    for (const i of detections) scores[i] = 1;
    return { rows, windows, scores };
  };
  it('a detection at a window\'s first row is worth A_TP; none costs A_FN', () => {
    expect(probation(rows)).toBe(150);
    expect(scoreFile(file([400], [[400, 499]]), 0.5, standard)).toBeCloseTo(1, 12);
    expect(scoreFile(file([], [[400, 499]]), 0.5, lowFn)).toBe(-2);
  });
  it('later in the window is worth less, and only the best detection counts', () => {
    const mid = scoreFile(file([450], [[400, 499]]), 0.5, standard);
    expect(mid).toBeGreaterThan(0.5);
    expect(mid).toBeLessThan(1);
    expect(scoreFile(file([450, 451, 460], [[400, 499]]), 0.5, standard)).toBeCloseTo(mid, 12);
    expect(scoreFile(file([499], [[400, 499]]), 0.5, standard)).toBeLessThan(0.1);
  });
  it('a false positive before any window costs A_FP; right after a window almost nothing; probation nothing', () => {
    expect(scoreFile(file([300], []), 0.5, lowFp)).toBeCloseTo(-0.22, 12);
    const after = scoreFile(file([400, 500], [[400, 499]]), 0.5, standard) - 1;
    expect(after).toBeLessThan(0);
    expect(after).toBeGreaterThan(-0.11 * 0.1);
    expect(scoreFile(file([400, 900], [[400, 499]]), 0.5, standard) - 1).toBeCloseTo(-0.11, 12); // more than 3 widths later
    expect(scoreFile(file([10, 100], []), 0.5, standard)).toBe(0);
  });
  it('normalizes between the null detector (0) and a perfect one (100)', () => {
    expect(normalize(-116, 116, standard)).toBe(0);
    expect(normalize(116, 116, standard)).toBe(100);
    expect(normalize(-232, 116, lowFn)).toBe(0);
  });
});

describe('NAB corpus', () => {
  let files: NabFile[];
  beforeAll(() => {
    files = loadCorpus(DEFAULT_NAB_DIR);
  });

  it('has its 58 files, 365,558 rows and 116 windows', () => {
    expect(files).toHaveLength(58);
    expect(files.reduce((n, f) => n + f.values.length, 0)).toBe(365_558);
    expect(files.reduce((n, f) => n + f.windows.length, 0)).toBe(116);
  });

  it('scores the official Windowed Gaussian results at 39.65 / 20.87 / 47.41, and sweeps to the same threshold', () => {
    const official = loadOfficialScores(DEFAULT_NAB_DIR, 'windowedGaussian', files);
    const scored = files.map((f, i) => ({ rows: f.values.length, windows: f.windows, scores: official[i]! }));
    expect(PROFILES.map((p) => Number(scoreCorpus(scored, 1.0, p).normalized.toFixed(2)))).toEqual([39.65, 20.87, 47.41]);
    // the raw total of the official per-file scores file (Totals row): -24.0131054891
    expect(scoreCorpus(scored, 1.0, standard).raw).toBeCloseTo(-24.0131054891, 8);
    for (const p of PROFILES) expect(bestThreshold(scored, p).threshold).toBe(1.0);
  });

  it('feeds detectors as NAB does: a port of Windowed Gaussian reproduces the official rows and score', () => {
    const official = loadOfficialScores(DEFAULT_NAB_DIR, 'windowedGaussian', files);
    const run = runDetector(files, createWindowedGaussian);
    let worst = 0;
    run.scored.forEach((s, i) => {
      for (let j = 0; j < s.rows; j++) worst = Math.max(worst, Math.abs(s.scores[j]! - official[i]![j]!));
    });
    expect(worst).toBeLessThan(1e-6);
    expect(PROFILES.map((p) => Number(scoreCorpus(run.scored, 1.0, p).normalized.toFixed(1)))).toEqual([39.6, 20.9, 47.4]);
  });

  it('the shipped default detector scores >= 60 at the NAB-optimal threshold and >= 50 at its default', () => {
    const run = runDetector(files, () => createDetector(detectorSchema.parse({ type: 'novelty' }) as SensorDetectorSpec));
    const optimal = bestThreshold(run.scored, standard).normalized;
    const atDefault = scoreCorpus(run.scored, 0.5, standard).normalized;
    console.log(`novelty on NAB: ${optimal.toFixed(1)} at the optimal threshold, ${atDefault.toFixed(1)} at 0.5`);
    expect(optimal).toBeGreaterThanOrEqual(60);
    expect(atDefault).toBeGreaterThanOrEqual(50);
  });
});
