import { describe, expect, it } from 'vitest';
import { createCountWindows } from '../../src/stream/count-windows.js';
import { createSessionWindows } from '../../src/stream/session-windows.js';
import type { WindowResult } from '../../src/stream/windows.js';

const T0 = Date.parse('2026-11-22T10:00:00.000Z');
const r = (sensor: string, offset: number, value: number, received = offset) => ({ sensor, ts: T0 + offset, value, receivedAt: T0 + received });
const shape = (out: WindowResult[]) => out.map((w) => [w.sensor, w.start - T0, w.end - T0, w.moments.count, w.moments.min, w.moments.max, w.late, w.partial]);

describe('count windows', () => {
  it('emits every N readings per sensor, spanning their event times', () => {
    const w = createCountWindows({ size: 3, quantiles: false });
    const out: WindowResult[] = [];
    for (let i = 0; i < 7; i++) w.add(r(i % 2 ? 'b' : 'a', i * 1000, i), out);
    expect(shape(out)).toEqual([
      ['a', 0, 4001, 3, 0, 4, 0, false],
      ['b', 1000, 5001, 3, 1, 5, 0, false],
    ]);
    expect(w.openWindows()).toBe(1); // a has one more
    expect(w.tick(T0 + 1e9, out)).toBe(false); // only counts close them
    w.flush(out);
    expect(shape(out.slice(2))).toEqual([['a', 6000, 6001, 1, 6, 6, 0, true]]);
  });
});

describe('sliding count windows', () => {
  it('reports the last N readings every M readings, once N have arrived', () => {
    const w = createCountWindows({ size: 4, step: 2, quantiles: true });
    const out: WindowResult[] = [];
    for (let i = 0; i < 9; i++) w.add(r('s', i * 1000, i), out);
    // first report after 4 readings, then after every 2 more: [0..3], [2..5], [4..7]
    expect(shape(out)).toEqual([
      ['s', 0, 3001, 4, 0, 3, 0, false],
      ['s', 2000, 5001, 4, 2, 5, 0, false],
      ['s', 4000, 7001, 4, 4, 7, 0, false],
    ]);
    expect(out[2]!.sketch!.count).toBe(4);
    w.flush(out); // one reading since the last report: a partial summary of the last 4
    expect(shape(out.slice(3))).toEqual([['s', 5000, 8001, 4, 5, 8, 0, true]]);
  });
});

describe('session windows', () => {
  it('groups readings closer than the gap and closes a session when the watermark passes last + gap', () => {
    const w = createSessionWindows({ gapMs: 5_000, latenessMs: 0, quantiles: false });
    const out: WindowResult[] = [];
    for (const t of [0, 2_000, 4_000, 20_000, 21_000]) w.add(r('s', t, t / 1000), out);
    expect(shape(out)).toEqual([['s', 0, 4001, 3, 0, 4, 0, false]]);
    w.tick(T0 + 25_999, out);
    expect(out).toHaveLength(1);
    w.tick(T0 + 26_000, out); // quiet since 21 s: 21 s + 5 s gap reached on the wall clock
    expect(shape(out)[1]).toEqual(['s', 20_000, 21_001, 2, 20, 21, 0, false]);
  });

  it('merges two open sessions that a late-arriving reading bridges', () => {
    const w = createSessionWindows({ gapMs: 5_000, latenessMs: 10_000, quantiles: true });
    const out: WindowResult[] = [];
    w.add(r('s', 0, 1), out);
    w.add(r('s', 8_000, 3), out); // 8 s apart: two sessions
    expect(w.openWindows()).toBe(2);
    w.add(r('s', 4_000, 2), out); // within 5 s of both: one session
    expect(w.openWindows()).toBe(1);
    w.add(r('s', 30_000, 9), out); // watermark 20 s passes 8 s + 5 s
    expect(shape(out)).toEqual([['s', 0, 8001, 3, 1, 3, 0, false]]);
    expect(out[0]!.sketch!.count).toBe(3);
  });

  it('counts a reading that would have extended a closed session as late', () => {
    const w = createSessionWindows({ gapMs: 5_000, latenessMs: 0, quantiles: false });
    const out: WindowResult[] = [];
    w.add(r('s', 0, 1), out);
    w.add(r('s', 10_000, 1), out); // closes [0]
    expect(w.add(r('s', 3_000, 7), out)).toBe(false);
    expect(w.add(r('s', 10_500, 2), out)).toBe(true);
    w.add(r('s', 40_000, 1), out);
    expect(shape(out)[1]).toEqual(['s', 10_000, 10_501, 2, 1, 2, 1, false]);
  });
});
