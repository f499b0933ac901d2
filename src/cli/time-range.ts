import type { Io } from './io.js';

/** --from/--to as epoch ms (open ends infinite), or undefined after saying what is wrong. */
export function timeRange(a: { from?: string; to?: string }, io: Io): { from: number; to: number } | undefined {
  const from = a.from === undefined ? -Infinity : Date.parse(a.from);
  const to = a.to === undefined ? Infinity : Date.parse(a.to);
  if (Number.isNaN(from) || Number.isNaN(to)) {
    io.err('--from/--to: write ISO 8601 times, e.g. 2026-11-22T10:00:00Z');
    return undefined;
  }
  return { from, to };
}
