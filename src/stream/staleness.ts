// Staleness: a sensor silent for longer than its own cadence allows is an event ("raised"),
// and its next reading clears it. The cadence is the median of its last arrival intervals (by
// the wall clock: silence is about arrivals, not event times); the limit is `factor` times it,
// at least `minimumMs`, judged once `minIntervals` intervals are known, or a fixed
// `staleAfterMs` from the first reading. Pure; state is saved with the stream's checkpoint.

export interface StaleSettings {
  /** A fixed limit (ms); undefined: from the cadence. */
  staleAfterMs?: number;
  factor: number;
  minimumMs: number;
  minIntervals: number;
}

export const DEFAULT_STALE: StaleSettings = { factor: 3, minimumMs: 60_000, minIntervals: 8 };

export interface StaleEvent {
  kind: 'event';
  type: 'stale';
  sensor: string;
  /** When it was raised (the tick) or cleared (the arrival), epoch ms. */
  ts: number;
  state: 'raised' | 'cleared';
  /** Silence so far (raised) or in all (cleared), ms. */
  silentForMs: number;
  /** The limit it passed (ms). */
  limitMs: number;
  /** Last arrival before the silence, epoch ms. */
  lastSeen: number;
}

interface Presence {
  last: number;
  /** Recent arrival intervals (ms), a ring of RING. */
  intervals: number[];
  next: number;
  /** The limit while raised (ms); 0 while not. */
  raised: number;
  /** Cached limit; NaN when intervals changed since. */
  limit: number;
}

/** Where events go (any array that takes them). */
export type Sink<T> = { push(...items: T[]): number };

export type SavedPresence = Array<[string, { last: number; intervals: number[]; raised: number }]>;

const RING = 16;
/** Raised sensors kept after eviction, at most (the oldest go first). */
const MAX_KEPT_RAISED = 10_000;

export interface Staleness {
  /** A reading of `sensor` arrived (epoch ms); pushes a "cleared" event when it was stale. */
  observe(sensor: string, arrival: number, settings: StaleSettings, out: Sink<StaleEvent>): void;
  /** Raises the sensors silent past their limit; returns whether any was. */
  tick(now: number, settingsOf: (sensor: string) => StaleSettings | undefined, out: Sink<StaleEvent>): boolean;
  /** Drops a sensor's state (idle eviction), unless it is raised: its return must still clear it. */
  forget(sensor: string): void;
  isRaised(sensor: string): boolean;
  shift(deltaMs: number): void;
  /** Sensors raised now. */
  raised(): number;
  /** Up to `limit` of them. */
  raisedSensors(limit: number): string[];
  save(): SavedPresence;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function limitOf(p: Presence, s: StaleSettings): number {
  if (s.staleAfterMs !== undefined) return s.staleAfterMs;
  if (p.intervals.length < s.minIntervals) return Infinity;
  if (Number.isNaN(p.limit)) p.limit = Math.max(s.minimumMs, s.factor * median(p.intervals));
  return p.limit;
}

export function createStaleness(saved: SavedPresence = []): Staleness {
  const state = new Map<string, Presence>(saved.map(([sensor, p]) => [sensor, { ...p, intervals: [...p.intervals], next: p.intervals.length % RING, limit: NaN }]));
  let raisedCount = [...state.values()].filter((p) => p.raised > 0).length;
  const evictedRaised = new Set<string>();
  return {
    observe(sensor, arrival, settings, out) {
      const p = state.get(sensor);
      if (!p) {
        state.set(sensor, { last: arrival, intervals: [], next: 0, raised: 0, limit: NaN });
        return;
      }
      const gap = arrival - p.last;
      evictedRaised.delete(sensor);
      if (p.raised > 0) {
        out.push({ kind: 'event', type: 'stale', sensor, ts: arrival, state: 'cleared', silentForMs: Math.max(0, gap), limitMs: p.raised, lastSeen: p.last });
        p.raised = 0;
        raisedCount--;
      }
      // Readings of one message arrive together: that is not a cadence. The long silence that
      // just ended is not one either (it would teach the sensor that silence is normal).
      // (A gap within the minimum cannot pass a limit from the cadence: no median needed then.)
      if (gap >= 1 && ((settings.staleAfterMs === undefined && gap <= settings.minimumMs) || !(gap > limitOf(p, settings)))) {
        p.intervals[p.next] = gap;
        p.next = (p.next + 1) % RING;
        p.limit = NaN;
      }
      if (arrival > p.last) p.last = arrival;
    },
    tick(now, settingsOf, out) {
      let changed = false;
      for (const [sensor, p] of state) {
        if (p.raised > 0) continue;
        const s = settingsOf(sensor);
        if (!s) continue;
        const limit = limitOf(p, s);
        if (now - p.last <= limit) continue;
        p.raised = limit;
        raisedCount++;
        changed = true;
        out.push({ kind: 'event', type: 'stale', sensor, ts: now, state: 'raised', silentForMs: now - p.last, limitMs: limit, lastSeen: p.last });
      }
      return changed;
    },
    forget(sensor) {
      const p = state.get(sensor);
      if (!p) return;
      if (p.raised > 0) {
        // Kept, so its return is "cleared" upstream; bounded by dropping the oldest kept one.
        evictedRaised.add(sensor);
        if (evictedRaised.size > MAX_KEPT_RAISED) {
          const oldest = evictedRaised.values().next().value!;
          evictedRaised.delete(oldest);
          state.delete(oldest);
          raisedCount--;
        }
        return;
      }
      state.delete(sensor);
    },
    isRaised: (sensor) => (state.get(sensor)?.raised ?? 0) > 0,
    shift(deltaMs) {
      for (const p of state.values()) p.last += deltaMs;
    },
    raised: () => raisedCount,
    raisedSensors(limit) {
      const out: string[] = [];
      for (const [sensor, p] of state) {
        if (out.length >= limit) break;
        if (p.raised > 0) out.push(sensor);
      }
      return out;
    },
    // The ring saved oldest first, so a restored one writes where the live one would (a replay
    // after a crash must judge exactly as the live stream did).
    save: () => [...state].map(([sensor, p]) => [sensor, { last: p.last, intervals: p.intervals.length < RING ? [...p.intervals] : [...p.intervals.slice(p.next), ...p.intervals.slice(0, p.next)], raised: p.raised }]),
  };
}
