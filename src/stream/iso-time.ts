// Times as the wire and the dead letters show them: ISO 8601 UTC with milliseconds.

// Date's own range (ECMA-262 21.4.1.22): outside it toISOString throws, so rendering clamps
// and parsing bounds timestamps by it.
export const MAX_DATE_MS = 8.64e15;

/**
 * ISO 8601 UTC with milliseconds. Never throws: times are bounded at parse time, and this is
 * the last guard (a non-finite or out-of-range time renders as the nearest representable one).
 */
export function iso(ms: number): string {
  const t = Number.isFinite(ms) ? Math.min(Math.max(ms, -MAX_DATE_MS), MAX_DATE_MS) : 0;
  return new Date(t).toISOString();
}
