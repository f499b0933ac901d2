// `outpost nab`: runs detectors over the Numenta Anomaly Benchmark (58 files, 116 labelled
// windows; the corpus ships in nab/), scores them with Outpost's implementation of NAB's method
// and prints the table: each profile at the NAB-optimal threshold and at the shipped default,
// CPU time per reading, and the published scoreboard to compare with.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { loadCorpus } from './nab/corpus.js';
import { evaluate, type Evaluation } from './nab/evaluate.js';
import { createWindowedGaussian } from './nab/windowed-gaussian.js';
import { createDetector, type SensorDetectorSpec, type DetectorType } from '../stream/detectors/create-detector.js';
import { detector as detectorSchema } from '../config/pipelines-schema.js';
import type { Io } from '../cli/io.js';

/** Detectors that need limits only the user knows (a sensor's range, its physical rate, a silence). */
const NEEDS_LIMITS: Partial<Record<DetectorType, string>> = {
  threshold: 'needs min/max for the sensor',
  rate: 'needs the sensor\'s believable maxPerSecond',
  gap: 'NAB series have no silences',
  multivariate: 'watches a group of sensors; NAB files are single series (outpost evaluate runs it per device)',
};
export const NAB_DETECTORS: DetectorType[] = ['novelty', 'zscore', 'ewma', 'cusum', 'mad', 'variance', 'flatline', 'threshold', 'rate', 'gap'];

export const DEFAULT_NAB_DIR = fileURLToPath(new URL('../../nab', import.meta.url));

export async function nab(o: { nab?: string; detector?: string[]; json?: boolean }, io: Io): Promise<number> {
  const dir = o.nab ?? DEFAULT_NAB_DIR;
  if (!existsSync(join(dir, 'labels', 'combined_windows.json'))) {
    io.err(`outpost nab: ${dir} is not a NAB directory (data/, labels/combined_windows.json)`);
    return 2;
  }
  const types = (o.detector?.length ? o.detector : [...NAB_DETECTORS, 'windowedGaussian']) as Array<DetectorType | 'windowedGaussian'>;
  const files = loadCorpus(dir);
  const rows = files.reduce((n, f) => n + f.values.length, 0);
  const results: Evaluation[] = [];
  const skipped: string[] = [];
  for (const type of types) {
    if (type === 'windowedGaussian') {
      results.push(evaluate('windowedGaussian (port of NAB\'s)', files, createWindowedGaussian, 1.0));
      continue;
    }
    if (NEEDS_LIMITS[type]) {
      skipped.push(`${type}: ${NEEDS_LIMITS[type]}`);
      continue;
    }
    const parsed = detectorSchema.safeParse({ type });
    if (!parsed.success) {
      io.err(`outpost nab: unknown detector ${type}`);
      return 2;
    }
    const spec = parsed.data as SensorDetectorSpec;
    const threshold = spec.type === 'novelty' ? spec.threshold : 0.5;
    results.push(evaluate(`${type} (shipped defaults)`, files, () => createDetector(spec), threshold));
  }
  if (o.json) {
    io.out(JSON.stringify({ files: files.length, rows, results, skipped }, null, 2));
    return 0;
  }
  const f = (x: number) => x.toFixed(1);
  io.out(`NAB corpus: ${files.length} files, ${rows.toLocaleString('en')} rows, ${files.reduce((n, x) => n + x.windows.length, 0)} windows (${dir})`);
  io.out('');
  io.out('| detector | NAB-optimal: standard / low FP / low FN (threshold) | shipped default: standard / low FP / low FN (threshold) | CPU us/reading |');
  io.out('|---|---|---|---|');
  for (const r of results) {
    io.out(
      `| ${r.name} | ${r.optimal.map((s) => f(s.normalized)).join(' / ')} (${r.optimal.map((s) => s.threshold.toFixed(3)).join(', ')}) | ${r.atDefault.map((s) => f(s.normalized)).join(' / ')} (${r.defaultThreshold}) | ${r.cpuMicrosPerReading.toFixed(2)} |`,
    );
  }
  for (const s of skipped) io.out(`| ${s.split(':')[0]} | n/a: ${s.split(': ')[1]} | | |`);
  const board = published(dir);
  if (board.length > 0) {
    io.out('');
    io.out('published scoreboard (results/final_results.json; their thresholds swept on the corpus, some given each file\'s min and max in advance):');
    io.out('| detector | standard / low FP / low FN |');
    io.out('|---|---|');
    for (const [name, s] of board) io.out(`| ${name} | ${f(s.standard)} / ${f(s.reward_low_FP_rate)} / ${f(s.reward_low_FN_rate)} |`);
  }
  return 0;
}

type Scores = { standard: number; reward_low_FP_rate: number; reward_low_FN_rate: number };

function published(dir: string): Array<[string, Scores]> {
  const path = join(dir, 'results', 'final_results.json');
  if (!existsSync(path)) return [];
  const all = JSON.parse(readFileSync(path, 'utf8')) as Record<string, Scores>;
  return Object.entries(all)
    .filter(([, s]) => typeof s.standard === 'number')
    .sort((a, b) => b[1].standard - a[1].standard);
}
