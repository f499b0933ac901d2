// Times firmwares send without a zone (Tasmota's "Time": "2026-11-29T10:00:00", zigbee2mqtt's
// ISO_8601_local): read in a configured IANA time zone, with the offset that zone had at that
// moment (daylight saving included). Intl only; no zone database of our own.

const ZONE_LESS_RE = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3})\d*)?)?$/;
const formatters = new Map<string, Intl.DateTimeFormat>();

/** Whether `zone` is an IANA time zone this runtime knows ("Europe/Berlin", "UTC"). */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** Offset of `zone` from UTC at the instant `utcMs`, in ms (UTC+1 -> 3,600,000). */
function offsetAt(utcMs: number, zone: string): number {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    formatters.set(zone, f);
  }
  const p: Record<string, number> = {};
  for (const part of f.formatToParts(new Date(utcMs))) if (part.type !== 'literal') p[part.type] = Number(part.value);
  const asUtc = Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!, p.second!);
  return asUtc - Math.floor(utcMs / 1000) * 1000;
}

/** Whether `text` is a date-time without a zone. */
export const isZoneLess = (text: string): boolean => ZONE_LESS_RE.test(text);

/**
 * Epoch ms of a zone-less date-time read in `zone`, or undefined when `text` is not one. In the
 * hour a clock is set back (two instants share the wall time) the earlier one is taken; in the
 * hour it skips, the time is read with the offset before the change.
 */
export function zonedTime(text: string, zone: string): number | undefined {
  const m = ZONE_LESS_RE.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, ms] = m;
  const wall = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s ?? 0), Number((ms ?? '0').padEnd(3, '0')));
  if (!Number.isFinite(wall)) return undefined;
  // Date.UTC rolls 2026-11-31 over to December 1st: a date that is no date is refused instead.
  const back = new Date(wall);
  if (back.getUTCFullYear() !== Number(y) || back.getUTCMonth() !== Number(mo) - 1 || back.getUTCDate() !== Number(d) || back.getUTCHours() !== Number(h) || back.getUTCMinutes() !== Number(mi) || back.getUTCSeconds() !== Number(s ?? 0)) return undefined;
  // The instant lies within [wall - 14 h, wall + 12 h] (offsets run from -12 h to +14 h); the
  // offsets 26 h either side of the wall time are those before and after any transition near
  // it (transitions are months apart).
  const before = offsetAt(wall - 26 * 3_600_000, zone);
  const after = offsetAt(wall + 26 * 3_600_000, zone);
  const fits = [wall - before, wall - after].filter((t) => t + offsetAt(t, zone) === wall);
  return fits.length > 0 ? Math.min(...fits) : wall - before;
}
