// Count windows: a summary every `size` readings of a sensor, in arrival order. The window's
// start and end are its earliest event time and its latest + 1 ms (half-open, like the others).
// No lateness and no late readings: arrival order is the order.
import type { Windows, WindowResult } from './windows.js';
import { addValue, emptyMoments, type Moments } from './moments.js';
import { addToSketch, emptySketch, loadSketch, saveSketch, type QuantileSketch } from './quantile-sketch.js';

interface Open {
  moments: Moments;
  sketch?: QuantileSketch;
}

type Saved = Array<[string, Moments, ReturnType<typeof saveSketch>?]>;

export function createCountWindows({ size, quantiles }: { size: number; quantiles: boolean }, saved?: unknown): Windows {
  const sensors = new Map<string, Open>();
  for (const [sensor, moments, sketch] of (saved as Saved | undefined) ?? []) {
    sensors.set(sensor, { moments: { ...moments }, ...(sketch && { sketch: loadSketch(sketch) }) });
  }
  const result = (sensor: string, w: Open, partial: boolean): WindowResult => ({
    sensor,
    start: w.moments.firstTs,
    end: w.moments.lastTs + 1,
    moments: partial ? { ...w.moments } : w.moments,
    sketch: w.sketch,
    late: 0,
    partial,
  });
  return {
    add(r, out) {
      let w = sensors.get(r.sensor);
      if (!w) {
        w = quantiles ? { moments: emptyMoments(), sketch: emptySketch() } : { moments: emptyMoments() };
        sensors.set(r.sensor, w);
      }
      addValue(w.moments, r.ts, r.value);
      if (w.sketch) addToSketch(w.sketch, r.value);
      if (w.moments.count >= size) {
        out.push(result(r.sensor, w, false));
        sensors.delete(r.sensor); // no empty windows kept: the next reading opens one (and saved state stays finite)
      }
      return true;
    },
    tick: () => false,
    flush(out) {
      for (const [sensor, w] of sensors) out.push(result(sensor, w, true));
    },
    openWindows: () => sensors.size,
    shiftArrivals: () => undefined,
    save(): Saved {
      return [...sensors].map(([sensor, w]) => (w.sketch ? [sensor, { ...w.moments }, saveSketch(w.sketch)] : [sensor, { ...w.moments }]));
    },
  };
}
