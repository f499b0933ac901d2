// Zone-less times at the edges: the hour a clock is set back (the earlier instant), the hour
// it skips (the offset before the change), zones ahead of UTC+12, and dates that are no dates.
import { describe, expect, it } from 'vitest';
import { zonedTime } from '../../src/sources/mqtt/local-time.js';

const iso = (text: string, zone: string) => {
  const t = zonedTime(text, zone);
  return t === undefined ? undefined : new Date(t).toISOString();
};

describe('zone-less times', () => {
  it.each([
    ['2026-11-29T10:00:00', 'Europe/Berlin', '2026-11-29T09:00:00.000Z'],
    ['2026-07-01T10:00:00', 'Europe/Berlin', '2026-07-01T08:00:00.000Z'],
    ['2026-10-25T02:30:00', 'Europe/Berlin', '2026-10-25T00:30:00.000Z'], // set back: the earlier
    ['2026-03-29T02:30:00', 'Europe/Berlin', '2026-03-29T01:30:00.000Z'], // skipped: offset before
    ['2026-04-05T02:00:00', 'Pacific/Auckland', '2026-04-04T13:00:00.000Z'], // set back, UTC+13 -> +12
    ['2026-09-27T02:30:00', 'Pacific/Auckland', '2026-09-26T14:30:00.000Z'], // skipped
    ['2026-06-01T12:00:00', 'Pacific/Chatham', '2026-05-31T23:15:00.000Z'], // UTC+12:45
    ['2026-11-29 10:00', 'UTC', '2026-11-29T10:00:00.000Z'],
    ['2026-11-29T10:00:00.5', 'America/New_York', '2026-11-29T15:00:00.500Z'],
  ])('%s in %s is %s', (text, zone, expected) => expect(iso(text, zone)).toBe(expected));

  it.each(['2026-11-31T10:00:00', '2026-02-29T10:00:00', '2026-11-29T24:00:00', '2026-11-29T99:99:99', '2026-13-01T00:00:00', '2026-11-29T10:00:00Z'])('%s is no zone-less date-time', (text) => {
    expect(zonedTime(text, 'Europe/Berlin')).toBeUndefined();
  });
});
