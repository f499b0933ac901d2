// Event-level figures for a detector over a labelled corpus, as an operator would count them:
// a fault is caught when the detector raised an event (a verdict: what the device would send
// upstream) inside its window; a false alarm is an event outside every window; detection delay
// runs from the window's start to the first event in it. "Recall within 60 s" is compared with
// chance: a blind alarm source raising events at random with the same rate (a Poisson process,
// rate = false alarms per hour of normal time) would catch a window within its first 60 s with
// probability 1 - exp(-rate * 60 s). With a device map, the same figures per device: an event
// on any of a device's sensors is the device's, events within 60 s of each other are one, and a
// device's fault window is the union of its sensors' windows. Pure: times in, numbers out.

export interface EventSeries {
  name: string;
  /** Epoch ms per row. */
  ts: ArrayLike<number>;
  /** Inclusive row ranges. */
  windows: ReadonlyArray<readonly [number, number]>;
  /** Rows where the detector raised an event, ascending. */
  alarms: readonly number[];
}

export interface EventFigures {
  /** Sensors, or devices in the device view. */
  units: number;
  faults: number;
  caught: number;
  /** caught / faults (NaN without faults). */
  recall: number;
  falseAlarms: number;
  /** Hours outside the windows, summed over the units. */
  normalHours: number;
  falseAlarmsPerHour: number;
  /** Median and p90 seconds from a window's start to its first event (caught windows only). */
  delayMedianS: number;
  delayP90S: number;
  /** Windows with an event within their first 60 s, over all windows. */
  recall60: number;
  /** What a random source at the same false-alarm rate would get for recall60. */
  chance60: number;
}

const HOUR = 3_600_000;
const NEAR_MS = 60_000;

export interface Unit {
  /** [start, end] ms of each fault window. */
  windows: Array<[number, number]>;
  /** Event times, ms, ascending. */
  alarms: number[];
  /** Span of the recording, ms. */
  from: number;
  to: number;
}

const quantile = (xs: number[], q: number) => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
};

/** Windows in time order, overlapping ones joined (a fault counted once, normal time not negative). */
function joined(spans: Array<[number, number]>): Array<[number, number]> {
  const windows: Array<[number, number]> = [];
  for (const [a, b] of [...spans].sort((x, y) => x[0] - y[0])) {
    const last = windows[windows.length - 1];
    if (last && a <= last[1]) last[1] = Math.max(last[1], b);
    else windows.push([a, b]);
  }
  return windows;
}

/** A series' unit: its windows (joined) and alarms in ms. */
export function unitOf(s: EventSeries): Unit {
  const n = s.ts.length;
  return {
    windows: joined(s.windows.map(([a, b]) => [s.ts[a]!, s.ts[b]!])),
    alarms: s.alarms.map((r) => s.ts[r]!),
    from: n > 0 ? s.ts[0]! : 0,
    to: n > 0 ? s.ts[n - 1]! : 0,
  };
}

/**
 * Events closer than NEAR_MS to the previous one are the same alarm (several sensors at once),
 * unless a window begins or ends between them: an alarm just before a fault must not swallow
 * the first one inside it.
 */
export function merged(times: number[], windows: ReadonlyArray<readonly [number, number]> = []): number[] {
  const which = (t: number) => windows.findIndex(([a, b]) => t >= a && t <= b);
  const out: number[] = [];
  for (const t of [...times].sort((a, b) => a - b)) {
    const prev = out[out.length - 1];
    if (prev === undefined || t - prev >= NEAR_MS || which(t) !== which(prev)) out.push(t);
  }
  return out;
}

export function figures(units: Unit[]): EventFigures {
  let faults = 0;
  let caught = 0;
  let within60 = 0;
  let falseAlarms = 0;
  let normalMs = 0;
  const delays: number[] = [];
  for (const u of units) {
    const inside = (t: number) => u.windows.some(([a, b]) => t >= a && t <= b);
    for (const [a, b] of u.windows) {
      faults++;
      const first = u.alarms.find((t) => t >= a && t <= b);
      if (first === undefined) continue;
      caught++;
      delays.push((first - a) / 1000);
      if (first - a <= NEAR_MS) within60++;
    }
    falseAlarms += u.alarms.filter((t) => !inside(t)).length;
    normalMs += Math.max(0, u.to - u.from - u.windows.reduce((n, [a, b]) => n + (b - a), 0));
  }
  const normalHours = normalMs / HOUR;
  const rate = normalHours > 0 ? falseAlarms / normalHours : 0;
  return {
    units: units.length,
    faults,
    caught,
    recall: faults > 0 ? caught / faults : NaN,
    falseAlarms,
    normalHours,
    falseAlarmsPerHour: rate,
    delayMedianS: quantile(delays, 0.5),
    delayP90S: quantile(delays, 0.9),
    recall60: faults > 0 ? within60 / faults : NaN,
    chance60: 1 - Math.exp(-(rate / HOUR) * NEAR_MS),
  };
}

/** Per sensor: each file its own unit. */
export function sensorFigures(series: readonly EventSeries[]): EventFigures {
  return figures(series.map(unitOf));
}

/** Per device: `devices` maps a device to the names of its files. Files of no device are left out. */
export function deviceFigures(series: readonly EventSeries[], devices: ReadonlyMap<string, readonly string[]>): EventFigures {
  const byName = new Map(series.map((s) => [s.name, s]));
  const units: Unit[] = [];
  for (const names of devices.values()) {
    const parts = names.map((n) => byName.get(n)).filter((s): s is EventSeries => s !== undefined).map(unitOf);
    if (parts.length > 0) units.push(deviceUnit(parts, parts.flatMap((p) => p.alarms)));
  }
  return figures(units);
}

/** One device from its sensors' units: windows merged, the given alarm times merged (60 s). */
export function deviceUnit(parts: readonly Unit[], alarms: number[]): Unit {
  const windows = joined(parts.flatMap((p) => p.windows));
  return { windows, alarms: merged(alarms, windows), from: Math.min(...parts.map((p) => p.from)), to: Math.max(...parts.map((p) => p.to)) };
}

