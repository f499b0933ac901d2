// Event-time windows per sensor, aligned to the epoch and half-open [start, end): windows of
// `size` starting every `step` ms. Tumbling: step = size (each reading in one window); hopping
// (a sliding window over the last `size`, reported every `step`): step < size, each reading in
// ceil(size / step) windows.
//
// Invariants, per sensor:
// - watermark = max event time seen - lateness; a window closes once watermark >= its end;
// - when a sensor goes quiet, event time is advanced by the wall-clock time since its last
//   reading, so its last window still closes about `lateness` after its end;
// - a reading whose windows have all closed is counted as late, never folded in; the count
//   travels in the sensor's next summary (`late`).
import type { Windows, WindowResult } from './windows.js';
import { addValue, emptyMoments, type Moments } from './moments.js';
import { addToSketch, emptySketch, loadSketch, saveSketch, type QuantileSketch } from './quantile-sketch.js';
import { createWatermarkedSensors, type SensorState } from './watermarked-sensors.js';

export interface AlignedWindowOptions {
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

type SavedWindow = [number, Moments, ReturnType<typeof saveSketch>?];

export function createAlignedWindows({ sizeMs, stepMs = sizeMs, latenessMs, quantiles = false }: AlignedWindowOptions, saved?: unknown): Windows {
  const emit = (sensor: string, s: SensorState<OpenWindow>, w: OpenWindow, partial: boolean, out: WindowResult[]) => {
    out.push({ sensor, start: w.start, end: w.start + sizeMs, moments: partial ? { ...w.moments } : w.moments, sketch: w.sketch, late: s.late, partial });
    if (!partial) s.late = 0;
  };

  const tracked = createWatermarkedSensors<OpenWindow, SavedWindow>({
    latenessMs,
    saved,
    saveWindow: (w) => (w.sketch ? [w.start, { ...w.moments }, saveSketch(w.sketch)] : [w.start, { ...w.moments }]),
    loadWindow: ([start, moments, sketch]) => ({ start, moments: { ...moments }, ...(sketch && { sketch: loadSketch(sketch) }) }),
    closeUpTo(sensor, s, watermark, out) {
      // The largest window end at or before the watermark (ends are k * step + size).
      const boundary = Math.floor((watermark - sizeMs) / stepMs) * stepMs + sizeMs;
      if (boundary <= s.closedBefore) return false;
      s.closedBefore = boundary;
      let n = 0;
      while (n < s.open.length && s.open[n]!.start + sizeMs <= boundary) emit(sensor, s, s.open[n++]!, false, out);
      if (n > 0) s.open.splice(0, n);
      return true;
    },
  });

  return {
    add(r, out) {
      const s = tracked.get(r.sensor, r.receivedAt);
      const lastStart = Math.floor(r.ts / stepMs) * stepMs; // the latest window holding ts
      if (lastStart + sizeMs <= s.closedBefore) {
        s.late++; // every window it belongs to has closed
        return false;
      }
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
      tracked.advance(r.sensor, s, r.ts, r.receivedAt, out);
      return true;
    },
    tick: tracked.tick,
    flush(out) {
      for (const [sensor, s] of tracked.sensors) for (const w of s.open) emit(sensor, s, w, true, out);
    },
    forget(sensor, out) {
      const s = tracked.sensors.get(sensor);
      if (!s) return -Infinity;
      let reported = s.closedBefore;
      for (const w of s.open) {
        emit(sensor, s, w, true, out);
        reported = Math.max(reported, w.start + sizeMs);
      }
      tracked.sensors.delete(sensor);
      return reported;
    },
    openWindows: tracked.openWindows,
    shiftArrivals: tracked.shiftArrivals,
    save: tracked.save,
  };
}
