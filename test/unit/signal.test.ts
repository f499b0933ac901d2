import { describe, expect, it } from 'vitest';
import { createSignal } from '../../src/sources/simulated/signal.js';
import type { SimulatedSensorConfig } from '../../src/config/schema.js';

const cfg = (over: Partial<SimulatedSensorConfig>): Omit<SimulatedSensorConfig, 'id'> => ({
  rateHz: 1, shape: 'sine', base: 20, amplitude: 2, period: 60_000, noise: 0, anomalies: [], ...over,
});
const take = (s: ReturnType<typeof createSignal>, n: number) => Array.from({ length: n }, () => s.next());

describe('simulated signals', () => {
  it('are deterministic for a seed', () => {
    const a = take(createSignal(cfg({ shape: 'random-walk', noise: 0.3 }), 7), 50);
    const b = take(createSignal(cfg({ shape: 'random-walk', noise: 0.3 }), 7), 50);
    const c = take(createSignal(cfg({ shape: 'random-walk', noise: 0.3 }), 8), 50);
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
  });
  it('draw the configured shapes', () => {
    const sine = take(createSignal(cfg({}), 1), 61) as number[];
    expect(sine[0]).toBeCloseTo(20);
    expect(sine[15]).toBeCloseTo(22);
    expect(sine[45]).toBeCloseTo(18);
    const step = take(createSignal(cfg({ shape: 'step' }), 1), 60);
    expect(step[0]).toBe(20);
    expect(step[30]).toBe(22);
  });
  it('inject spikes, drift, stuck values and dropouts on schedule', () => {
    const spike = take(createSignal(cfg({ shape: 'step', anomalies: [{ type: 'spike', at: 5_000, every: 10_000, duration: 0, magnitude: 10 }] }), 1), 26);
    expect(spike.map((v, i) => (v === 30 ? i : -1)).filter((i) => i >= 0)).toEqual([5, 15, 25]);
    const drift = take(createSignal(cfg({ shape: 'step', anomalies: [{ type: 'drift', at: 2_000, duration: 3_000, magnitude: 1 }] }), 1), 7);
    expect(drift).toEqual([20, 20, 20, 21, 22, 20, 20]);
    const stuck = take(createSignal(cfg({ anomalies: [{ type: 'stuck', at: 3_000, duration: 4_000, magnitude: 0 }] }), 1), 9) as number[];
    expect(new Set(stuck.slice(3, 7)).size).toBe(1);
    expect(stuck[7]).not.toBe(stuck[6]);
    const dropout = take(createSignal(cfg({ anomalies: [{ type: 'dropout', at: 1_000, duration: 2_000, magnitude: 0 }] }), 1), 4);
    expect(dropout.map((v) => v === undefined)).toEqual([false, true, true, false]);
  });
});
