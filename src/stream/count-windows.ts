// Count windows, in arrival order:
// - tumbling `{ size: N }`: a summary every N readings of a sensor; O(1) memory;
// - sliding `{ size: N, step: M }`: every M readings, a summary of the last N; keeps the last N
//   readings in a ring (O(N) memory per sensor: the price of "the last N"), first report once N
//   have arrived.
// A window's start and end are its earliest event time and its latest + 1 ms (half-open, like
// the others). No lateness and no late readings: arrival order is the order.
import type { Windows, WindowResult } from './windows.js';
import { addValue, emptyMoments, type Moments } from './moments.js';
import { addToSketch, emptySketch, loadSketch, saveSketch, type QuantileSketch } from './quantile-sketch.js';

interface Open {
  moments: Moments;
  sketch?: QuantileSketch;
}

interface Ring {
  ts: number[];
  values: number[];
  next: number;
  sinceReport: number;
}

type SavedTumbling = Array<[string, Moments, ReturnType<typeof saveSketch>?]>;
type SavedSliding = Array<[string, number[], number[], number, number]>;

export function createCountWindows({ size, step = size, quantiles }: { size: number; step?: number; quantiles: boolean }, saved?: unknown): Windows {
  return step >= size ? tumblingCount(size, quantiles, saved) : slidingCount(size, step, quantiles, saved);
}

function tumblingCount(size: number, quantiles: boolean, saved: unknown): Windows {
  const sensors = new Map<string, Open>();
  for (const [sensor, moments, sketch] of (saved as SavedTumbling | undefined) ?? []) {
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
    forget(sensor, out) {
      const w = sensors.get(sensor);
      if (w) out.push(result(sensor, w, true));
      sensors.delete(sensor);
      return -Infinity; // count windows have no event-time order to keep
    },
    openWindows: () => sensors.size,
    shiftArrivals: () => undefined,
    save(): SavedTumbling {
      return [...sensors].map(([sensor, w]) => (w.sketch ? [sensor, { ...w.moments }, saveSketch(w.sketch)] : [sensor, { ...w.moments }]));
    },
  };
}

function slidingCount(size: number, step: number, quantiles: boolean, saved: unknown): Windows {
  const sensors = new Map<string, Ring>();
  for (const [sensor, ts, values, next, sinceReport] of (saved as SavedSliding | undefined) ?? []) {
    sensors.set(sensor, { ts: [...ts], values: [...values], next, sinceReport });
  }
  /** The summary of what the ring holds, oldest first (first/last follow event time anyway). */
  const summarize = (sensor: string, ring: Ring, partial: boolean): WindowResult => {
    const moments = emptyMoments();
    const sketch = quantiles ? emptySketch() : undefined;
    const n = ring.ts.length;
    for (let k = 0; k < n; k++) {
      const i = (ring.next + k) % n;
      addValue(moments, ring.ts[i]!, ring.values[i]!);
      if (sketch) addToSketch(sketch, ring.values[i]!);
    }
    return { sensor, start: moments.firstTs, end: moments.lastTs + 1, moments, sketch, late: 0, partial };
  };
  return {
    add(r, out) {
      let ring = sensors.get(r.sensor);
      if (!ring) {
        ring = { ts: [], values: [], next: 0, sinceReport: 0 };
        sensors.set(r.sensor, ring);
      }
      if (ring.ts.length < size) {
        ring.ts.push(r.ts);
        ring.values.push(r.value);
      } else {
        ring.ts[ring.next] = r.ts;
        ring.values[ring.next] = r.value;
        ring.next = (ring.next + 1) % size;
      }
      ring.sinceReport++;
      if (ring.ts.length === size && ring.sinceReport >= step) {
        out.push(summarize(r.sensor, ring, false));
        ring.sinceReport = 0;
      }
      return true;
    },
    tick: () => false,
    flush(out) {
      for (const [sensor, ring] of sensors) if (ring.sinceReport > 0) out.push(summarize(sensor, ring, true));
    },
    forget(sensor, out) {
      const ring = sensors.get(sensor);
      if (ring && ring.sinceReport > 0) out.push(summarize(sensor, ring, true));
      sensors.delete(sensor);
      return -Infinity;
    },
    openWindows: () => sensors.size,
    shiftArrivals: () => undefined,
    save(): SavedSliding {
      return [...sensors].map(([sensor, r]) => [sensor, [...r.ts], [...r.values], r.next, r.sinceReport]);
    },
  };
}
