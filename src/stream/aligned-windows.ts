// Event-time windows per sensor, aligned to the epoch and half-open [start, end): windows of
// `size` starting every `step` ms. Tumbling: step = size (each reading in one window); hopping
// (a sliding window over the last `size`, reported every `step`): step < size, each reading in
// ceil(size / step) windows.
//
// Invariants, per sensor:
// - watermark = max event time seen - lateness; a window closes once watermark >= its end;
// - when a sensor goes quiet, event time is advanced by the wall-clock time since its last
//   reading, so its last window still closes about `lateness` after its end;
// - a reading whose window has already closed is counted as late, never folded in; the count
//   travels in the sensor's next summary (`late`).
import type { Windows, WindowResult } from './windows.js';
import { addValue, emptyMoments, type Moments } from './moments.js';
import { addToSketch, emptySketch, loadSketch, saveSketch, type QuantileSketch } from './quantile-sketch.js';

export interface TumblingWindowOptions {
  sizeMs: number;
  /** Start-to-start distance; default sizeMs (tumbling). */
  stepMs?: number;
  latenessMs: number;
  /** Keep a quantile sketch per window. */
  quantiles?: boolean;
}

interface OpenWindow {
  start: number;
  moments: Moments;
  sketch?: QuantileSketch;
}

interface SensorWindows {
  open: OpenWindow[]; // sorted by start; usually one or two
  closedBefore: number; // every window ending at or before this has been emitted
  maxTs: number;
  lastArrival: number;
  late: number;
}

export type { WindowResult } from './windows.js';
export type TumblingWindows = Windows;

/** [sensor, open windows as [start, moments, sketch?], closedBefore, maxTs, lastArrival, late]; null = -Infinity. */
export type SavedWindows = Array<[string, Array<[number, Moments, ReturnType<typeof saveSketch>?]>, number | null, number | null, number, number]>;

export function createTumblingWindows({ sizeMs, stepMs = sizeMs, latenessMs, quantiles = false }: TumblingWindowOptions, saved?: unknown): TumblingWindows {
  const sensors = new Map<string, SensorWindows>();
  for (const [sensor, open, closedBefore, maxTs, lastArrival, late] of (saved as SavedWindows | undefined) ?? []) {
    sensors.set(sensor, {
      open: open.map(([start, moments, sketch]) => ({ start, moments: { ...moments }, ...(sketch && { sketch: loadSketch(sketch) }) })),
      closedBefore: closedBefore ?? -Infinity,
      maxTs: maxTs ?? -Infinity,
      lastArrival,
      late,
    });
  }

  const emit = (sensor: string, s: SensorWindows, w: OpenWindow, partial: boolean, out: WindowResult[]) => {
    out.push({ sensor, start: w.start, end: w.start + sizeMs, moments: w.moments, sketch: w.sketch, late: s.late, partial });
    s.late = 0;
  };

  const closeUpTo = (sensor: string, s: SensorWindows, watermark: number, out: WindowResult[]): boolean => {
    // The largest window end at or before the watermark (ends are k * step + size).
    const boundary = Math.floor((watermark - sizeMs) / stepMs) * stepMs + sizeMs;
    if (boundary <= s.closedBefore) return false;
    s.closedBefore = boundary;
    let n = 0;
    while (n < s.open.length && s.open[n]!.start + sizeMs <= boundary) emit(sensor, s, s.open[n++]!, false, out);
    if (n > 0) s.open.splice(0, n);
    return true;
  };

  return {
    add(r, out) {
      let s = sensors.get(r.sensor);
      if (!s) {
        s = { open: [], closedBefore: -Infinity, maxTs: -Infinity, lastArrival: r.receivedAt, late: 0 };
        sensors.set(r.sensor, s);
      }
      const lastStart = Math.floor(r.ts / stepMs) * stepMs; // the latest window holding ts
      if (lastStart + sizeMs <= s.closedBefore) {
        s.late++; // every window it belongs to has closed
        return false;
      }
      s.lastArrival = r.receivedAt;
      const open = s.open;
      // Earliest window holding ts: the smallest k * step > ts - size.
      for (let start = Math.floor((r.ts - sizeMs) / stepMs) * stepMs + stepMs; start <= lastStart; start += stepMs) {
        if (start + sizeMs <= s.closedBefore) continue; // that one closed already
        let i = open.length - 1;
        while (i >= 0 && open[i]!.start > start) i--;
        let w = i >= 0 ? open[i]! : undefined;
        if (!w || w.start !== start) {
          w = quantiles ? { start, moments: emptyMoments(), sketch: emptySketch() } : { start, moments: emptyMoments() };
          open.splice(i + 1, 0, w);
        }
        addValue(w.moments, r.ts, r.value);
        if (w.sketch) addToSketch(w.sketch, r.value);
      }
      if (r.ts > s.maxTs) {
        s.maxTs = r.ts;
        closeUpTo(r.sensor, s, r.ts - latenessMs, out);
      }
      return true;
    },
    tick(now, out) {
      let changed = false;
      for (const [sensor, s] of sensors) {
        if (s.open.length === 0) continue;
        const idle = Math.max(0, now - s.lastArrival);
        if (closeUpTo(sensor, s, s.maxTs + idle - latenessMs, out)) changed = true;
      }
      return changed;
    },
    flush(out) {
      for (const [sensor, s] of sensors) {
        for (const w of s.open) out.push({ sensor, start: w.start, end: w.start + sizeMs, moments: { ...w.moments }, sketch: w.sketch, late: s.late, partial: true });
      }
    },
    save(): SavedWindows {
      const fin = (x: number) => (x === -Infinity ? null : x);
      return [...sensors].map(([sensor, s]) => [
        sensor,
        s.open.map((w): [number, Moments, ReturnType<typeof saveSketch>?] => (w.sketch ? [w.start, { ...w.moments }, saveSketch(w.sketch)] : [w.start, { ...w.moments }])),
        fin(s.closedBefore),
        fin(s.maxTs),
        s.lastArrival,
        s.late,
      ]);
    },
    shiftArrivals(deltaMs) {
      for (const s of sensors.values()) s.lastArrival += deltaMs;
    },
    openWindows() {
      let n = 0;
      for (const s of sensors.values()) n += s.open.length;
      return n;
    },
  };
}
