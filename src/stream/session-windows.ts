// Session windows: a sensor's readings no more than `gap` apart (in event time) form one
// session; the session closes once the watermark (max event time - lateness, advanced by wall
// time while the sensor is quiet) passes its last reading + gap. A reading that bridges two
// open sessions merges them (exactly: moments and sketches merge). A reading that would have
// extended a session already closed is late. The summary's window is [first, last + 1 ms).
import type { Windows, WindowResult } from './windows.js';
import { addValue, emptyMoments, mergeMoments, type Moments } from './moments.js';
import { addToSketch, emptySketch, loadSketch, mergeSketches, saveSketch, type QuantileSketch } from './quantile-sketch.js';
import { createWatermarkedSensors, type SensorState } from './watermarked-sensors.js';

interface Session {
  first: number;
  last: number;
  moments: Moments;
  sketch?: QuantileSketch;
}

type SavedSession = [number, number, Moments, ReturnType<typeof saveSketch>?];

export function createSessionWindows({ gapMs, latenessMs, quantiles }: { gapMs: number; latenessMs: number; quantiles: boolean }, saved?: unknown): Windows {
  const result = (sensor: string, s: SensorState<Session>, w: Session, partial: boolean): WindowResult => ({
    sensor,
    start: w.first,
    end: w.last + 1,
    moments: partial ? { ...w.moments } : w.moments,
    sketch: w.sketch,
    late: s.late,
    partial,
  });

  const tracked = createWatermarkedSensors<Session, SavedSession>({
    latenessMs,
    saved,
    saveWindow: (w) => (w.sketch ? [w.first, w.last, { ...w.moments }, saveSketch(w.sketch)] : [w.first, w.last, { ...w.moments }]),
    loadWindow: ([first, last, moments, sketch]) => ({ first, last, moments: { ...moments }, ...(sketch && { sketch: loadSketch(sketch) }) }),
    closeUpTo(sensor, s, watermark, out) {
      let n = 0;
      while (n < s.open.length && s.open[n]!.last + gapMs <= watermark) {
        const w = s.open[n++]!;
        out.push(result(sensor, s, w, false));
        s.late = 0;
        s.closedBefore = Math.max(s.closedBefore, w.last + gapMs);
      }
      if (n > 0) s.open.splice(0, n);
      return n > 0;
    },
  });

  return {
    add(r, out) {
      const s = tracked.get(r.sensor, r.receivedAt);
      if (r.ts < s.closedBefore) {
        s.late++; // it would have extended a session already reported
        return false;
      }
      // Sessions this reading touches: within `gap` of their span.
      const touching = s.open.filter((w) => r.ts > w.first - gapMs && r.ts < w.last + gapMs);
      const w: Session =
        touching.length === 0
          ? { first: r.ts, last: r.ts, moments: emptyMoments(), ...(quantiles && { sketch: emptySketch() }) }
          : touching.reduce((a, b) => ({
              first: Math.min(a.first, b.first),
              last: Math.max(a.last, b.last),
              moments: mergeMoments(a.moments, b.moments),
              ...(a.sketch && b.sketch && { sketch: mergeSketches(a.sketch, b.sketch) }),
            }));
      s.open = s.open.filter((x) => !touching.includes(x));
      s.open.push(w);
      s.open.sort((a, b) => a.first - b.first);
      addValue(w.moments, r.ts, r.value);
      if (w.sketch) addToSketch(w.sketch, r.value);
      if (r.ts < w.first) w.first = r.ts;
      if (r.ts > w.last) w.last = r.ts;
      tracked.advance(r.sensor, s, r.ts, r.receivedAt, out);
      return true;
    },
    tick: tracked.tick,
    flush(out) {
      for (const [sensor, s] of tracked.sensors) for (const w of s.open) out.push(result(sensor, s, w, true));
    },
    forget(sensor, out) {
      const s = tracked.sensors.get(sensor);
      if (!s) return -Infinity;
      let reported = s.closedBefore;
      for (const w of s.open) {
        out.push(result(sensor, s, w, true));
        reported = Math.max(reported, w.last + 1);
      }
      tracked.sensors.delete(sensor);
      return reported;
    },
    openWindows: tracked.openWindows,
    shiftArrivals: tracked.shiftArrivals,
    save: tracked.save,
  };
}
