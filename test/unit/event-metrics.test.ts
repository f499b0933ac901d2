// Event-level figures on hand-made series whose answers are known: caught and missed windows,
// false alarms and the hours they are counted over, delays, recall within 60 s against the
// chance a random source at the same rate would have, and the device view's merging.
import { describe, expect, it } from 'vitest';
import { deviceFigures, sensorFigures, type EventSeries } from '../../src/tools/nab/event-metrics.js';

const T0 = Date.parse('2026-11-29T00:00:00Z');
/** One row per 10 s for `hours`. */
const ts = (hours: number) => Float64Array.from({ length: hours * 360 + 1 }, (_, i) => T0 + i * 10_000);

describe('event figures', () => {
  it('counts caught faults, false alarms per hour of normal time, delays and recall within 60 s', () => {
    const t = ts(10); // 10 h
    const a: EventSeries = { name: 'd1/a.csv', ts: t, windows: [[360, 720], [1800, 1836]], alarms: [100, 363, 2500, 3000] }; // caught at +30 s; second missed
    const b: EventSeries = { name: 'd1/b.csv', ts: t, windows: [[1800, 1836]], alarms: [1830] }; // caught at +300 s
    const f = sensorFigures([a, b]);
    expect(f).toMatchObject({ units: 2, faults: 3, caught: 2, falseAlarms: 3, delayMedianS: 300, recall60: 1 / 3 });
    expect(f.normalHours).toBeCloseTo(8.9 + 9.9, 6); // 10 h - 1 h - 0.1 h of windows, and 10 h - 0.1 h
    expect(f.falseAlarmsPerHour).toBeCloseTo(3 / 18.8, 9);
    expect(f.chance60).toBeCloseTo(1 - Math.exp(-(3 / 18.8) / 60), 9);
  });

  it('per device: any sensor\'s event is the device\'s, events within 60 s are one, windows merge', () => {
    const t = ts(2);
    const a: EventSeries = { name: 'a', ts: t, windows: [[360, 400]], alarms: [10, 370] };
    const b: EventSeries = { name: 'b', ts: t, windows: [[380, 420]], alarms: [12, 500] }; // 12 is 20 s after a's 10: one alarm
    const f = deviceFigures([a, b], new Map([['dev', ['a', 'b']]]));
    expect(f).toMatchObject({ units: 1, faults: 1, caught: 1, falseAlarms: 2, delayMedianS: 100 });
    expect(f.normalHours).toBeCloseTo(2 - 600 / 3600, 6);
  });

  it('an alarm just before a fault does not swallow the first one inside it; overlapping windows count once', () => {
    const t = ts(1);
    const x: EventSeries = { name: 'x', ts: t, windows: [[100, 200]], alarms: [99] }; // 10 s before the window
    const y: EventSeries = { name: 'y', ts: t, windows: [[100, 200]], alarms: [102] }; // 20 s into it
    expect(deviceFigures([x, y], new Map([['d', ['x', 'y']]]))).toMatchObject({ faults: 1, caught: 1, falseAlarms: 1 });
    const o = sensorFigures([{ name: 'o', ts: t, windows: [[0, 50], [25, 75]], alarms: [] }]);
    expect(o.faults).toBe(1);
    expect(o.normalHours).toBeCloseTo(1 - 750 / 3600, 6);
  });

  it('a silent detector catches nothing and has a chance of 0', () => {
    const f = sensorFigures([{ name: 'x', ts: ts(1), windows: [[10, 20]], alarms: [] }]);
    expect(f).toMatchObject({ faults: 1, caught: 0, recall: 0, falseAlarms: 0, chance60: 0 });
  });
});
