// A sensor's usual value at each time of day: 96 slots of 15 minutes (UTC), each an
// exponentially weighted mean over days of that slot's daily mean (weight `alpha` per day).
// Predicts a reading from earlier days only; fixed memory (96 x 4 numbers).
const SLOT_MS = 15 * 60_000;
const SLOTS = 96;
const DAY_MS = 86_400_000;

export interface DailyProfile {
  /** The usual value at ts's time of day from earlier days, or undefined while there are none. */
  expect(ts: number): number | undefined;
  add(ts: number, value: number): void;
  save(): number[];
}

export function createDailyProfile(alpha: number, saved?: number[]): DailyProfile {
  // per slot: mean over earlier days (NaN: none yet), day of the accumulator, its sum and count
  const st = new Float64Array(SLOTS * 4);
  if (saved && saved.length === st.length) st.set(saved.map((x) => (x === null ? NaN : x)));
  else {
    for (let s = 0; s < SLOTS; s++) {
      st[s * 4] = NaN;
      st[s * 4 + 1] = -1;
    }
  }
  const slotOf = (ts: number) => Math.floor((((ts % DAY_MS) + DAY_MS) % DAY_MS) / SLOT_MS);
  /** Folds a finished day into the slot's mean. */
  const roll = (s: number, day: number) => {
    const o = s * 4;
    if (st[o + 1] === day) return;
    if (st[o + 3]! > 0) {
      const dayMean = st[o + 2]! / st[o + 3]!;
      st[o] = Number.isNaN(st[o]!) ? dayMean : st[o]! + alpha * (dayMean - st[o]!);
    }
    st[o + 1] = day;
    st[o + 2] = 0;
    st[o + 3] = 0;
  };
  return {
    expect(ts) {
      const s = slotOf(ts);
      roll(s, Math.floor(ts / DAY_MS));
      const m = st[s * 4]!;
      return Number.isNaN(m) ? undefined : m;
    },
    add(ts, value) {
      const s = slotOf(ts);
      roll(s, Math.floor(ts / DAY_MS));
      st[s * 4 + 2]! += value;
      st[s * 4 + 3]! += 1;
    },
    save: () => Array.from(st, (x) => (Number.isNaN(x) ? (null as unknown as number) : x)),
  };
}
