// Session windows: a sensor's readings no more than `gap` apart (in event time) form one
// session; the session closes once the watermark (max event time - lateness, advanced by wall
// time while the sensor is quiet) passes its last reading + gap. A reading that bridges two
// open sessions merges them (exactly: moments and sketches merge). A reading that would have
// extended a session already closed is late. The summary's window is [first, last + 1 ms).
import type { Windows, WindowResult } from './windows.js';
import { addValue, emptyMoments, mergeMoments, type Moments } from './moments.js';
import { addToSketch, emptySketch, loadSketch, mergeSketches, saveSketch, type QuantileSketch } from './quantile-sketch.js';

interface Session {
  first: number;
  last: number;
  moments: Moments;
  sketch?: QuantileSketch;
}

interface SensorSessions {
  open: Session[]; // sorted, non-overlapping
  closedBefore: number; // a reading before this would have joined a closed session
  maxTs: number;
  lastArrival: number;
  late: number;
}

type SavedSession = [number, number, Moments, ReturnType<typeof saveSketch>?];
type Saved = Array<[string, SavedSession[], number | null, number | null, number, number]>;

export function createSessionWindows({ gapMs, latenessMs, quantiles }: { gapMs: number; latenessMs: number; quantiles: boolean }, saved?: unknown): Windows {
  const sensors = new Map<string, SensorSessions>();
  for (const [sensor, open, closedBefore, maxTs, lastArrival, late] of (saved as Saved | undefined) ?? []) {
    sensors.set(sensor, {
      open: open.map(([first, last, moments, sketch]) => ({ first, last, moments: { ...moments }, ...(sketch && { sketch: loadSketch(sketch) }) })),
      closedBefore: closedBefore ?? -Infinity,
      maxTs: maxTs ?? -Infinity,
      lastArrival,
      late,
    });
  }
  const result = (sensor: string, s: SensorSessions, w: Session, partial: boolean): WindowResult => ({
    sensor,
    start: w.first,
    end: w.last + 1,
    moments: partial ? { ...w.moments } : w.moments,
    sketch: w.sketch,
    late: s.late,
    partial,
  });
  const closeUpTo = (sensor: string, s: SensorSessions, watermark: number, out: WindowResult[]): boolean => {
    let n = 0;
    while (n < s.open.length && s.open[n]!.last + gapMs <= watermark) {
      const w = s.open[n++]!;
      out.push(result(sensor, s, w, false));
      s.late = 0;
      s.closedBefore = Math.max(s.closedBefore, w.last + gapMs);
    }
    if (n > 0) s.open.splice(0, n);
    return n > 0;
  };

  return {
    add(r, out) {
      let s = sensors.get(r.sensor);
      if (!s) {
        s = { open: [], closedBefore: -Infinity, maxTs: -Infinity, lastArrival: r.receivedAt, late: 0 };
        sensors.set(r.sensor, s);
      }
      if (r.ts < s.closedBefore) {
        s.late++;
        return false;
      }
      s.lastArrival = r.receivedAt;
      // Sessions this reading touches: within `gap` of their span.
      const touching = s.open.filter((w) => r.ts > w.first - gapMs && r.ts < w.last + gapMs);
      let w: Session;
      if (touching.length === 0) {
        w = { first: r.ts, last: r.ts, moments: emptyMoments(), ...(quantiles && { sketch: emptySketch() }) };
        s.open.push(w);
        s.open.sort((a, b) => a.first - b.first);
      } else {
        w = touching.reduce((a, b) => ({
          first: Math.min(a.first, b.first),
          last: Math.max(a.last, b.last),
          moments: mergeMoments(a.moments, b.moments),
          ...(a.sketch && b.sketch && { sketch: mergeSketches(a.sketch, b.sketch) }),
        }));
        s.open = s.open.filter((x) => !touching.includes(x));
        s.open.push(w);
        s.open.sort((a, b) => a.first - b.first);
      }
      addValue(w.moments, r.ts, r.value);
      if (w.sketch) addToSketch(w.sketch, r.value);
      if (r.ts < w.first) w.first = r.ts;
      if (r.ts > w.last) w.last = r.ts;
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
        if (closeUpTo(sensor, s, s.maxTs + Math.max(0, now - s.lastArrival) - latenessMs, out)) changed = true;
      }
      return changed;
    },
    flush(out) {
      for (const [sensor, s] of sensors) for (const w of s.open) out.push(result(sensor, s, w, true));
    },
    openWindows() {
      let n = 0;
      for (const s of sensors.values()) n += s.open.length;
      return n;
    },
    shiftArrivals(deltaMs) {
      for (const s of sensors.values()) s.lastArrival += deltaMs;
    },
    save(): Saved {
      const fin = (x: number) => (x === -Infinity ? null : x);
      return [...sensors].map(([sensor, s]) => [
        sensor,
        s.open.map((w): SavedSession => (w.sketch ? [w.first, w.last, { ...w.moments }, saveSketch(w.sketch)] : [w.first, w.last, { ...w.moments }])),
        fin(s.closedBefore),
        fin(s.maxTs),
        s.lastArrival,
        s.late,
      ]);
    },
  };
}
