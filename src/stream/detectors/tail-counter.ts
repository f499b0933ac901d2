// How rare a value is among what a sensor has reported: weights in fixed logarithmic bins (sign
// and magnitude, each bin 10% wide, magnitudes 1e-6 .. 1e12, smaller ones count as zero) under a
// Fenwick tree, so the share of history at or beyond a value costs O(log bins). Memory is fixed
// (about 14 KB) however long the history; bins are what make "the same value" 10% wide.
// History can fade: with `decay` < 1 each reading weighs 1/decay times the one before, so one `h`
// readings old weighs decay^h of a new one. Rather than shrinking every bin at each reading, the
// weight of a new reading (`unit`) grows, and all bins are divided by 2^20 when it gets large;
// bins that fall below one unit then vanish, which keeps the state small. Every weight is a whole
// number below 2^53, so sums are exact in any order: a counter restored from its bins continues
// bit for bit.
const GAMMA = 1.1;
const LOG_GAMMA = Math.log(GAMMA);
const K_MIN = Math.round(Math.log(1e-6) / LOG_GAMMA);
const K_MAX = Math.round(Math.log(1e12) / LOG_GAMMA);
const HALF = K_MAX - K_MIN + 1;
const ZERO = HALF; // bins 0..HALF-1 negative (most negative first), HALF zero, HALF+1.. positive
export const TAIL_BINS = 2 * HALF + 1;
/** Weight of a reading when history does not fade (1/1024 resolution); fading, it grows from here to 2^28, then is divided by 2^20. */
const UNIT = 1024;
/** With n_eff <= 1.45 * 1e7 readings (half-life at most 1e7), totals stay below 2^53. */
const RESCALE_AT = 2 ** 28;
const RESCALE_BY = 2 ** 20;
export const MAX_HALF_LIFE = 1e7;

export function binOf(v: number): number {
  const m = Math.abs(v);
  if (!(m >= 1e-6)) return ZERO;
  const k = Math.min(K_MAX, Math.max(K_MIN, Math.round(Math.log(m) / LOG_GAMMA))) - K_MIN;
  return v > 0 ? ZERO + 1 + k : ZERO - 1 - k;
}

export interface TailCounter {
  /** Effective number of readings in history (their weights summed; = readings without fading). */
  readonly n: number;
  /** Adds a reading with `weight` (1: a full reading). */
  add(v: number, weight?: number): void;
  /** Share of history in bin b (from binOf) or above. */
  upperShare(b: number): number;
  /** Share of history in bin b or below. */
  lowerShare(b: number): number;
  save(): SavedTailCounter;
}

/** Non-zero bins [bin, weight] (whole numbers) and the exact weight of a new reading. */
export interface SavedTailCounter {
  bins: Array<[number, number]>;
  growth: number;
}

/**
 * `saved`: from save(), or (checkpoints before fading) per-bin counts [bin, count].
 * `decay`: weight kept per reading (1: history never fades; 2^(-1/h) halves it every h readings).
 */
export function createTailCounter(saved?: SavedTailCounter | Array<[number, number]>, decay = 1): TailCounter {
  const bins = new Float64Array(TAIL_BINS);
  const tree = new Float64Array(TAIL_BINS + 1);
  let total = 0;
  let unit = UNIT;
  /** The exact, unrounded weight of a new reading; `unit` is it rounded. */
  let growth = UNIT;
  const bump = (bin: number, by: number) => {
    bins[bin]! += by;
    for (let i = bin + 1; i <= TAIL_BINS; i += i & -i) tree[i]! += by;
    total += by;
  };
  /** Weight in bins 0..bin. */
  const prefix = (bin: number) => {
    let s = 0;
    for (let i = bin + 1; i > 0; i -= i & -i) s += tree[i]!;
    return s;
  };
  const rebuild = () => {
    tree.fill(0);
    total = 0;
    for (let b = 0; b < TAIL_BINS; b++) {
      const w = bins[b]!;
      if (w === 0) continue;
      for (let i = b + 1; i <= TAIL_BINS; i += i & -i) tree[i]! += w;
      total += w;
    }
  };
  if (Array.isArray(saved)) {
    for (const [bin, count] of saved) bins[bin] = count * UNIT;
    rebuild();
  } else if (saved) {
    for (const [bin, w] of saved.bins) bins[bin] = w;
    growth = saved.growth;
    unit = Math.round(growth);
    rebuild();
  }
  return {
    get n() {
      return total / unit;
    },
    add(v, weight = 1) {
      const w = Math.round(weight * unit);
      if (w > 0) bump(binOf(v), w);
      if (decay < 1) {
        growth /= decay;
        if (growth >= RESCALE_AT) {
          for (let b = 0; b < TAIL_BINS; b++) bins[b] = Math.round(bins[b]! / RESCALE_BY);
          growth /= RESCALE_BY;
          rebuild();
        }
        unit = Math.round(growth);
      }
    },
    upperShare: (b) => (total - (b > 0 ? prefix(b - 1) : 0)) / total,
    lowerShare: (b) => prefix(b) / total,
    save() {
      const out: Array<[number, number]> = [];
      for (let b = 0; b < TAIL_BINS; b++) if (bins[b] !== 0) out.push([b, bins[b]!]);
      return { bins: out, growth };
    },
  };
}

/**
 * Surprise of a tail share, -log10(p) (3 = one in a thousand). Past everything seen (p = 0) it
 * is -log10(1 / (10 n)): a new extreme is the strongest evidence there is (the rule that scored
 * best on NAB among those tried: see docs/anomaly-detection.md).
 */
export function surprise(p: number, n: number): number {
  return -Math.log10(Math.max(p, 1 / (10 * n)));
}
