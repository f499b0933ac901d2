import { describe, expect, it } from 'vitest';
import { createClockTrust } from '../../src/stream/clock-trust.js';

const FLOOR = Date.parse('2026-11-01T00:00:00Z');
const NOW = Date.parse('2026-11-23T10:00:00Z');

describe('clock trust policy', () => {
  it('never trusts a time before the build floor, synchronized or not', () => {
    const t = createClockTrust({ floor: FLOOR, syncTimeoutMs: 1000 });
    expect(t.observe({ wall: 300_000, mono: 0, synchronized: true }).state).toBe('invalid');
    expect(t.observe({ wall: 301_000, mono: 5_000, synchronized: null }).state).toBe('invalid');
  });
  it('trusts a synchronized clock, or one with no time service to ask', () => {
    expect(createClockTrust({ floor: FLOOR, syncTimeoutMs: 1000 }).observe({ wall: NOW, mono: 0, synchronized: true }).state).toBe('trusted');
    expect(createClockTrust({ floor: FLOOR, syncTimeoutMs: 1000 }).observe({ wall: NOW, mono: 0, synchronized: null }).state).toBe('trusted');
  });
  it('waits for sync, then falls back to the local clock after the timeout and says so', () => {
    const t = createClockTrust({ floor: FLOOR, syncTimeoutMs: 600_000 });
    expect(t.observe({ wall: NOW, mono: 0, synchronized: false }).state).toBe('unsynchronized');
    expect(t.observe({ wall: NOW + 599_000, mono: 599_000, synchronized: false }).state).toBe('unsynchronized');
    expect(t.observe({ wall: NOW + 600_000, mono: 600_000, synchronized: false })).toMatchObject({ state: 'trusted', unsyncedFallback: true });
  });
  it('detects jumps both ways, beyond the tolerance only', () => {
    const t = createClockTrust({ floor: FLOOR, syncTimeoutMs: 0, jumpToleranceMs: 2000 });
    t.observe({ wall: NOW, mono: 0, synchronized: null });
    expect(t.observe({ wall: NOW + 1_500, mono: 1_000, synchronized: null }).jump).toBe(0); // 500 ms drift: tolerated
    expect(t.observe({ wall: NOW + 62_000, mono: 2_000, synchronized: null }).jump).toBe(59_500);
    const back = t.observe({ wall: NOW + 33_000, mono: 3_000, synchronized: null });
    expect(back.jump).toBe(-30_000);
    expect(back).toMatchObject({ jumps: 2, lastJumpMs: -30_000 });
  });
});
