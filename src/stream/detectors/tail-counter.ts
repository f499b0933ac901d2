// How rare a value is among what a sensor has reported: weights in fixed logarithmic bins (sign
// and magnitude, each bin 10% wide, magnitudes 1e-6 .. 1e12, smaller ones count as zero) under a
// Fenwick tree, so the share of history at or beyond a value costs O(log bins). Memory is fixed
// (7 KB, from the first reading) however long the history; bins are what make "the same value"
// 10% wide.
// History can fade: with `decay` < 1 each reading weighs 1/decay times the one before, so one `h`
// readings old weighs decay^h of a new one. Rather than shrinking every bin at each reading, the
// weight of a new reading (`unit`) grows, and all bins are divided by 2^10 when it gets large;
// bins that fall below one unit then vanish, which keeps the saved state small. Every weight is a
// whole number below 2^53, so sums are exact in any order: the per-bin weights read back from the
// tree are exact, and a counter rebuilt from them continues bit for bit.
const GAMMA = 1.1;
const LOG_GAMMA = Math.log(GAMMA);
const K_MIN = Math.round(Math.log(1e-6) / LOG_GAMMA);
const K_MAX = Math.round(Math.log(1e12) / LOG_GAMMA);
const HALF = K_MAX - K_MIN + 1;
const ZERO = HALF; // bins 0..HALF-1 negative (most negative first), HALF zero, HALF+1.. positive
export const TAIL_BINS = 2 * HALF + 1;
/** Weight of a reading when history does not fade (1/1024 resolution); fading, it grows from here to 2^28, then is divided by 2^10. */
const UNIT = 1024;
/** With n_eff <= 1.45 * 1e7 readings (half-life at most 1e7), totals stay below 2^53. */
const RESCALE_AT = 2 ** 28;
const RESCALE_BY = 2 ** 10; // the unit stays >= 2^18 after one: a rareWeight of 0.01 is still 2,600 units
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
  // Allocated at the first reading (a daily residual counter waits a day for its first).
  let tree: Float64Array | null = null;
  let total = 0;
  let unit = UNIT;
  /** The exact, unrounded weight of a new reading; `unit` is it rounded. */
  let growth = UNIT;
  const bump = (bin: number, by: number) => {
    tree ??= new Float64Array(TAIL_BINS + 1);
    for (let i = bin + 1; i <= TAIL_BINS; i += i & -i) tree[i]! += by;
    total += by;
  };
  /** Weight in bins 0..bin. */
  const prefix = (bin: number) => {
    let s = 0;
    if (tree) for (let i = bin + 1; i > 0; i -= i & -i) s += tree[i]!;
    return s;
  };
  /** The tree from per-bin weights in `scratch` (1-based), in O(bins). */
  const build = () => {
    tree ??= new Float64Array(TAIL_BINS + 1);
    tree.set(scratch);
    total = 0;
    for (let i = 1; i <= TAIL_BINS; i++) {
      total += scratch[i]!;
      const j = i + (i & -i);
      if (j <= TAIL_BINS) tree[j]! += tree[i]!;
    }
  };
  /** Per-bin weights into `scratch` (1-based), in O(bins): the inverse of build. */
  const unbuild = () => {
    scratch.fill(0);
    if (!tree) return;
    scratch.set(tree);
    for (let i = TAIL_BINS; i >= 1; i--) {
      const j = i + (i & -i);
      if (j <= TAIL_BINS) scratch[j]! -= scratch[i]!;
    }
  };
  if (saved) {
    scratch.fill(0);
    if (Array.isArray(saved)) {
      for (const [bin, count] of saved) scratch[bin + 1] = count * UNIT;
    } else {
      // Saved while fading and restored without (halfLife set to 0): back to a fixed unit, or
      // the weights of a large unit would pass 2^53 in time.
      const scale = decay === 1 && saved.growth !== UNIT ? UNIT / saved.growth : 1;
      for (const [bin, w] of saved.bins) scratch[bin + 1] = scale === 1 ? w : Math.round(w * scale);
      growth = scale === 1 ? saved.growth : UNIT;
      unit = Math.round(growth);
    }
    if (scratch.some((w) => w !== 0)) build();
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
          unbuild();
          for (let i = 1; i <= TAIL_BINS; i++) scratch[i] = Math.round(scratch[i]! / RESCALE_BY);
          build();
          growth /= RESCALE_BY;
        }
        unit = Math.round(growth);
      }
    },
    upperShare: (b) => (total - (b > 0 ? prefix(b - 1) : 0)) / total,
    lowerShare: (b) => prefix(b) / total,
    save() {
      unbuild();
      const out: Array<[number, number]> = [];
      for (let i = 1; i <= TAIL_BINS; i++) if (scratch[i] !== 0) out.push([i - 1, scratch[i]!]);
      return { bins: out, growth };
    },
  };
}

/** Per-bin weights while a tree is built or read back (synchronous use only). */
const scratch = new Float64Array(TAIL_BINS + 1);

/**
 * Surprise of a tail share, -log10(p) (3 = one in a thousand). Past everything seen (p = 0) it
 * is -log10(1 / (10 n)): a new extreme is the strongest evidence there is (the rule that scored
 * best on NAB among those tried: see docs/anomaly-detection.md).
 */
export function surprise(p: number, n: number): number {
  return -Math.log10(Math.max(p, 1 / (10 * n)));
}
