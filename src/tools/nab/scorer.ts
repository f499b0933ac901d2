// The NAB scoring method, implemented from its description (nab/README of this repository's
// shared data): probation, windows, the scaled sigmoid weights, one corpus-wide threshold per
// profile found by sweeping every distinct score, and normalization to 0 (null detector) ..
// 100 (perfect). Pure: scores in, numbers out.

export interface Profile {
  name: string;
  tp: number;
  fp: number;
  fn: number;
}

export const PROFILES: readonly Profile[] = [
  { name: 'standard', tp: 1, fp: 0.11, fn: 1 },
  { name: 'reward_low_FP_rate', tp: 1, fp: 0.22, fn: 1 },
  { name: 'reward_low_FN_rate', tp: 1, fp: 0.11, fn: 2 },
];

export interface ScoredFile {
  rows: number;
  /** Inclusive row ranges. */
  windows: ReadonlyArray<readonly [number, number]>;
  /** One anomaly score in [0, 1] per row. */
  scores: ArrayLike<number>;
}

const sigma = (y: number) => 2 / (1 + Math.exp(5 * y)) - 1;
const SIGMA_MINUS_1 = sigma(-1);

export const probation = (rows: number) => Math.min(Math.floor(0.15 * rows), 750);

/**
 * What a detection at each row would be worth: for a row inside window k, its weight in units
 * of A_TP (k >= 0); outside, its weight in units of A_FP (k = -1).
 */
interface RowWeights {
  window: Int32Array;
  weight: Float64Array;
}

function rowWeights(f: ScoredFile): RowWeights {
  const window = new Int32Array(f.rows).fill(-1);
  const weight = new Float64Array(f.rows);
  const wins = [...f.windows].sort((a, b) => a[0] - b[0]);
  let prev: readonly [number, number] | undefined;
  let k = 0;
  for (let i = 0; i < f.rows; i++) {
    while (k < wins.length && wins[k]![1] < i) prev = wins[k++];
    const w = wins[k];
    if (w && i >= w[0] && i <= w[1]) {
      const width = w[1] - w[0] + 1;
      window[i] = k;
      weight[i] = sigma(-(w[1] - i + 1) / width) / SIGMA_MINUS_1;
    } else if (!prev) weight[i] = -1;
    else {
      const y = (i - prev[1]) / (prev[1] - prev[0]);
      weight[i] = y > 3 ? -1 : sigma(y);
    }
  }
  return { window, weight };
}

/** Raw score of one file at threshold `theta` (a detection is score >= theta). */
export function scoreFile(f: ScoredFile, theta: number, p: Profile): number {
  const { window, weight } = rowWeights(f);
  const start = probation(f.rows);
  const best = new Float64Array(f.windows.length).fill(-Infinity);
  let outside = 0;
  for (let i = start; i < f.rows; i++) {
    if (f.scores[i]! < theta) continue;
    const k = window[i]!;
    if (k >= 0) best[k] = Math.max(best[k]!, weight[i]!);
    else outside += p.fp * weight[i]!;
  }
  let total = outside;
  const wins = [...f.windows].sort((a, b) => a[0] - b[0]);
  wins.forEach((w, k) => {
    if (w[1] < start) return; // entirely in probation: does not count
    total += best[k] === -Infinity ? -p.fn : p.tp * best[k]!;
  });
  return total;
}

export interface CorpusScore {
  profile: string;
  threshold: number;
  raw: number;
  /** 0 = the null detector, 100 = perfect. */
  normalized: number;
}

export function normalize(raw: number, windows: number, p: Profile): number {
  const perfect = p.tp * windows;
  const nul = -p.fn * windows;
  return (100 * (raw - nul)) / (perfect - nul);
}

/** Windows that count (not entirely in probation), over the corpus. */
export function countedWindows(files: readonly ScoredFile[]): number {
  return files.reduce((n, f) => n + f.windows.filter((w) => w[1] >= probation(f.rows)).length, 0);
}

/** The corpus score at a given threshold. */
export function scoreCorpus(files: readonly ScoredFile[], theta: number, p: Profile): CorpusScore {
  const raw = files.reduce((n, f) => n + scoreFile(f, theta, p), 0);
  return { profile: p.name, threshold: theta, raw, normalized: normalize(raw, countedWindows(files), p) };
}

/**
 * The corpus-wide threshold with the best total: every distinct non-probationary score is
 * tried (and 1.1, no detections); ties go to the higher threshold. O(n log n): rows are taken
 * in descending score order and the total updated as each becomes a detection.
 */
export function bestThreshold(files: readonly ScoredFile[], p: Profile): CorpusScore {
  const events: Array<{ score: number; file: number; row: number }> = [];
  const weights = files.map(rowWeights);
  files.forEach((f, fi) => {
    for (let i = probation(f.rows); i < f.rows; i++) events.push({ score: f.scores[i]!, file: fi, row: i });
  });
  events.sort((a, b) => b.score - a.score);
  // Start: no detections. Every counted window is a miss.
  const best = files.map((f) => new Float64Array(f.windows.length).fill(-Infinity));
  let total = -p.fn * countedWindows(files);
  let top: CorpusScore = { profile: p.name, threshold: 1.1, raw: total, normalized: 0 };
  for (let e = 0; e < events.length; ) {
    const score = events[e]!.score;
    for (; e < events.length && events[e]!.score === score; e++) {
      const { file, row } = events[e]!;
      const k = weights[file]!.window[row]!;
      const w = weights[file]!.weight[row]!;
      if (k < 0) total += p.fp * w;
      else if (w > best[file]![k]!) {
        total += best[file]![k] === -Infinity ? p.fn + p.tp * w : p.tp * (w - best[file]![k]!);
        best[file]![k] = w;
      }
    }
    if (total > top.raw) top = { profile: p.name, threshold: score, raw: total, normalized: 0 };
  }
  top.normalized = normalize(top.raw, countedWindows(files), p);
  return top;
}
