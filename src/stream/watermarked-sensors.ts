// Per-sensor bookkeeping shared by the event-time window kinds (aligned and session): the open
// windows, the watermark inputs (highest event time, last arrival on the wall clock), what has
// closed, and the late count; plus the quiet-sensor tick, clock-jump shift and save/restore.
import type { WindowResult } from './windows.js';

export interface SensorState<W> {
  open: W[]; // sorted by start
  closedBefore: number; // readings before this belong only to closed windows
  maxTs: number;
  lastArrival: number;
  late: number;
}

/** [sensor, saved open windows, closedBefore, maxTs, lastArrival, late]; null = -Infinity. */
export type SavedSensors<S> = Array<[string, S[], number | null, number | null, number, number]>;

/** Closes what the watermark allows; returns whether state changed. */
export type CloseUpTo<W> = (sensor: string, s: SensorState<W>, watermark: number, out: WindowResult[]) => boolean;

export interface WatermarkedSensors<W, S> {
  sensors: Map<string, SensorState<W>>;
  /** The sensor's state, created at its first reading. */
  get(sensor: string, receivedAt: number): SensorState<W>;
  /** Records the reading's times; closes by watermark when it advanced event time. */
  advance(sensor: string, s: SensorState<W>, ts: number, receivedAt: number, out: WindowResult[]): void;
  tick(now: number, out: WindowResult[]): boolean;
  shiftArrivals(deltaMs: number): void;
  openWindows(): number;
  save(): SavedSensors<S>;
}

export function createWatermarkedSensors<W, S>(o: {
  latenessMs: number;
  closeUpTo: CloseUpTo<W>;
  saveWindow: (w: W) => S;
  loadWindow: (s: S) => W;
  saved?: unknown;
}): WatermarkedSensors<W, S> {
  const sensors = new Map<string, SensorState<W>>();
  for (const [sensor, open, closedBefore, maxTs, lastArrival, late] of (o.saved as SavedSensors<S> | undefined) ?? []) {
    sensors.set(sensor, { open: open.map(o.loadWindow), closedBefore: closedBefore ?? -Infinity, maxTs: maxTs ?? -Infinity, lastArrival, late });
  }
  return {
    sensors,
    get(sensor, receivedAt) {
      let s = sensors.get(sensor);
      if (!s) {
        s = { open: [], closedBefore: -Infinity, maxTs: -Infinity, lastArrival: receivedAt, late: 0 };
        sensors.set(sensor, s);
      }
      return s;
    },
    advance(sensor, s, ts, receivedAt, out) {
      s.lastArrival = receivedAt;
      if (ts > s.maxTs) {
        s.maxTs = ts;
        o.closeUpTo(sensor, s, ts - o.latenessMs, out);
      }
    },
    tick(now, out) {
      let changed = false;
      for (const [sensor, s] of sensors) {
        if (s.open.length === 0) continue;
        // A quiet sensor's event time advances with the wall clock since its last reading.
        const idle = Math.max(0, now - s.lastArrival);
        if (o.closeUpTo(sensor, s, s.maxTs + idle - o.latenessMs, out)) changed = true;
      }
      return changed;
    },
    shiftArrivals(deltaMs) {
      for (const s of sensors.values()) s.lastArrival += deltaMs;
    },
    openWindows() {
      let n = 0;
      for (const s of sensors.values()) n += s.open.length;
      return n;
    },
    save() {
      const fin = (x: number) => (x === -Infinity ? null : x);
      return [...sensors].map(([sensor, s]) => [sensor, s.open.map(o.saveWindow), fin(s.closedBefore), fin(s.maxTs), s.lastArrival, s.late]);
    },
  };
}
