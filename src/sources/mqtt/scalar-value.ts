// What a single JSON value or bare payload means as a reading: numbers are numbers, numeric
// strings ("45.2") too, booleans and state words (ON/OFF, open/closed, ...) are 1/0, and
// everything else has no numeric meaning (skipped and counted by the caller, not dead-lettered).
// Pure.

/** State word (lower case) -> value. */
export type StateWords = ReadonlyMap<string, number>;

export const DEFAULT_STATES: Readonly<Record<string, number>> = { on: 1, off: 0, open: 1, closed: 0, true: 1, false: 0, yes: 1, no: 0 };

/** The default words with the config's `states:` on top (keys case-insensitive). */
export function stateWords(extra: Readonly<Record<string, number>> = {}): StateWords {
  const words = new Map<string, number>();
  for (const [k, v] of Object.entries({ ...DEFAULT_STATES, ...extra })) words.set(k.toLowerCase(), v);
  return words;
}

const NUMBER_RE = /^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/;
/** Words longer than this are never looked up (no state word is that long). */
const MAX_WORD = 64;

/** A finite number, or undefined when `v` has no numeric meaning. */
export function scalarValue(v: unknown, states: StateWords): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v !== 'string' || v.length > MAX_WORD * 4) return undefined;
  if (NUMBER_RE.test(v)) {
    const n = Number(v);
    return Number.isFinite(n) ? n : undefined;
  }
  const word = v.trim();
  return word.length <= MAX_WORD ? states.get(word.toLowerCase()) : undefined;
}
