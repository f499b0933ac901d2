// Quantiles with a stated error bound: a DDSketch (Masson, Rim, Lee, VLDB 2019). Values fall in
// logarithmic bins of ratio gamma = (1 + a) / (1 - a); a quantile is answered with its bin's
// midpoint, within relative error `a` (1%) of the true value at that rank. Merging adds bin
// counts, so merged sketches are exactly the sketch of the union. Memory is bounded by
// MAX_BINS per sign; past that the lowest bins are folded together (only quantiles in the
// folded range lose the guarantee), which 2,048 bins at 1% make unreachable for real data
// (they span a factor of about 10^17).

export const RELATIVE_ACCURACY = 0.01;
const GAMMA = (1 + RELATIVE_ACCURACY) / (1 - RELATIVE_ACCURACY);
const LOG_GAMMA = Math.log(GAMMA);
const MAX_BINS = 2048;
/** |values| below this count as zero. */
const MIN_INDEXABLE = 1e-12;

export interface QuantileSketch {
  /** bin index -> count, for positive and negative values (negatives by magnitude). */
  pos: Map<number, number>;
  neg: Map<number, number>;
  zeros: number;
  count: number;
}

export function emptySketch(): QuantileSketch {
  return { pos: new Map(), neg: new Map(), zeros: 0, count: 0 };
}

const indexOf = (magnitude: number) => Math.ceil(Math.log(magnitude) / LOG_GAMMA);
const valueOf = (index: number) => (2 * GAMMA ** index) / (GAMMA + 1);

function bump(bins: Map<number, number>, index: number, by: number): void {
  bins.set(index, (bins.get(index) ?? 0) + by);
  if (bins.size > MAX_BINS) {
    // Fold the lowest bin into the next one up.
    const sorted = [...bins.keys()].sort((a, b) => a - b);
    const low = sorted[0]!;
    const next = sorted[1]!;
    bins.set(next, bins.get(next)! + bins.get(low)!);
    bins.delete(low);
  }
}

export function addToSketch(s: QuantileSketch, value: number): void {
  s.count++;
  if (Math.abs(value) < MIN_INDEXABLE) s.zeros++;
  else if (value > 0) bump(s.pos, indexOf(value), 1);
  else bump(s.neg, indexOf(-value), 1);
}

/** The sketch of both inputs' values (neither input changes). */
export function mergeSketches(a: QuantileSketch, b: QuantileSketch): QuantileSketch {
  const out: QuantileSketch = { pos: new Map(a.pos), neg: new Map(a.neg), zeros: a.zeros + b.zeros, count: a.count + b.count };
  for (const [i, n] of b.pos) bump(out.pos, i, n);
  for (const [i, n] of b.neg) bump(out.neg, i, n);
  return out;
}

/** The value at quantile q in [0, 1] (lower rank convention: rank floor(q * (n - 1))), or NaN when empty. */
export function quantile(s: QuantileSketch, q: number): number {
  if (s.count === 0) return NaN;
  const rank = Math.floor(q * (s.count - 1));
  let seen = 0;
  // Ascending order: most negative first (largest magnitude of neg), then zeros, then positives.
  const negs = [...s.neg.keys()].sort((a, b) => b - a);
  for (const i of negs) {
    seen += s.neg.get(i)!;
    if (seen > rank) return -valueOf(i);
  }
  seen += s.zeros;
  if (seen > rank) return 0;
  const poss = [...s.pos.keys()].sort((a, b) => a - b);
  for (const i of poss) {
    seen += s.pos.get(i)!;
    if (seen > rank) return valueOf(i);
  }
  return valueOf(poss[poss.length - 1]!);
}

/** JSON-safe form, for checkpoints. */
export function saveSketch(s: QuantileSketch): [Array<[number, number]>, Array<[number, number]>, number, number] {
  return [[...s.pos], [...s.neg], s.zeros, s.count];
}

export function loadSketch(saved: ReturnType<typeof saveSketch>): QuantileSketch {
  return { pos: new Map(saved[0]), neg: new Map(saved[1]), zeros: saved[2], count: saved[3] };
}
