// Zone-less times (Tasmota's "Time") read in an IANA zone: for generated instants across the
// year and zones with every kind of rule (half-hour, 45-minute, southern hemisphere, +13/+14,
// no DST), the wall time formatted in the zone reads back to that instant, or in the hour a
// clock is set back to the earlier instant with the same wall time.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { zonedTime } from '../../src/sources/mqtt/local-time.js';
import { fuzzParams } from '../helpers/fuzz.js';

const ZONES = ['Europe/Berlin', 'America/New_York', 'Pacific/Auckland', 'Pacific/Chatham', 'Australia/Lord_Howe', 'Asia/Kolkata', 'Asia/Kathmandu', 'America/Santiago', 'Pacific/Apia', 'Pacific/Kiritimati', 'Europe/Dublin', 'Africa/Casablanca', 'UTC'];

function wallIn(instant: number, zone: string): string {
  const f = new Intl.DateTimeFormat('en-CA', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
  const p = Object.fromEntries(f.formatToParts(new Date(instant)).map((x) => [x.type, x.value]));
  return `${p.year}-${p.month}-${p.day}T${p.hour}:${p.minute}:${p.second}`;
}

describe('zone-less times (generated)', () => {
  it('read back to the instant, or to the earlier one with the same wall time', () => {
    const start = Date.UTC(2026, 0, 1);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 365 * 86_400 }), fc.constantFrom(...ZONES), (s, zone) => {
        const instant = start + s * 1000;
        const wall = wallIn(instant, zone);
        const back = zonedTime(wall, zone);
        expect(back, `${wall} in ${zone}`).toBeDefined();
        expect(wallIn(back!, zone)).toBe(wall);
        expect(back!).toBeLessThanOrEqual(instant);
        expect(instant - back!).toBeLessThanOrEqual(2 * 3_600_000);
      }),
      fuzzParams(3000),
    );
  });
});
