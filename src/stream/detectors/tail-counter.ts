// How rare a value is among everything a sensor has reported: counts in fixed logarithmic bins
// (sign and magnitude, each bin 10% wide, magnitudes 1e-6 .. 1e12, smaller ones count as zero)
// under a Fenwick tree, so the share of history at or beyond a value costs O(log bins). Memory
// is fixed (3.5 KB) however long the history; bins are what make "the same value" 10% wide.
const GAMMA = 1.1;
const LOG_GAMMA = Math.log(GAMMA);
const K_MIN = Math.round(Math.log(1e-6) / LOG_GAMMA);
const K_MAX = Math.round(Math.log(1e12) / LOG_GAMMA);
const HALF = K_MAX - K_MIN + 1;
const ZERO = HALF; // bins 0..HALF-1 negative (most negative first), HALF zero, HALF+1.. positive
export const TAIL_BINS = 2 * HALF + 1;

export function binOf(v: number): number {
  const m = Math.abs(v);
  if (!(m >= 1e-6)) return ZERO;
  const k = Math.min(K_MAX, Math.max(K_MIN, Math.round(Math.log(m) / LOG_GAMMA))) - K_MIN;
  return v > 0 ? ZERO + 1 + k : ZERO - 1 - k;
}

export interface TailCounter {
  readonly n: number;
  add(v: number): void;
  /** Share of history in bin b (from binOf) or above. */
  upperShare(b: number): number;
  /** Share of history in bin b or below. */
  lowerShare(b: number): number;

  save(): Array<[number, number]>;
}

export function createTailCounter(saved?: Array<[number, number]>): TailCounter {
  const tree = new Uint32Array(TAIL_BINS + 1);
  let n = 0;
  const bump = (bin: number, by: number) => {
    for (let i = bin + 1; i <= TAIL_BINS; i += i & -i) tree[i]! += by;
    n += by;
  };
  /** Count in bins 0..bin. */
  const prefix = (bin: number) => {
    let s = 0;
    for (let i = bin + 1; i > 0; i -= i & -i) s += tree[i]!;
    return s;
  };
  for (const [bin, count] of saved ?? []) bump(bin, count);
  return {
    get n() {
      return n;
    },
    add: (v) => bump(binOf(v), 1),
    upperShare: (b) => (n - (b > 0 ? prefix(b - 1) : 0)) / n,
    lowerShare: (b) => prefix(b) / n,

    save() {
      const out: Array<[number, number]> = [];
      let prev = 0;
      for (let b = 0; b < TAIL_BINS; b++) {
        const p = prefix(b);
        if (p !== prev) out.push([b, p - prev]);
        prev = p;
      }
      return out;
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
