// Upstream messages as an agent sends them, for fleet tests.

/** A health report as an agent sends it (every field the schema requires), with `rows` waiting. */
export function healthMessage(device: string, ts: number, rows: number): Record<string, unknown> {
  const iso = (ms: number) => new Date(ms).toISOString();
  const zero = { summaries: 0, anomalies: 0 };
  return {
    v: 1, device, ts: iso(ts), uptimeS: 60,
    ingest: { readings: 10, ratePerS: 1, late: 0, unrouted: 0, sensors: 2, openWindows: 2 },
    emitted: zero,
    backlog: { rows, bytes: rows * 100, oldestAgeS: null },
    uplink: { state: 'online', since: iso(ts - 60_000), lastError: null, delivered: 10, inflight: 0, protocol: '5', lastSeqSent: 100, firstSeq: 1 },
    deadLetters: { total: 0, byReason: {} }, evictions: 0, merges: 0, journalTrimmed: 0,
    clock: { state: 'trusted', synchronized: true, unsyncedFallback: false, jumps: 0, lastJumpMs: null, held: 0 },
    schedules: {}, alarms: [], sources: {},
    store: {
      writable: true, problem: null, error: null, since: null, waiting: 0, heldMessages: 0, heldBatches: 0,
      shed: { journalReadings: 0, summaries: 0, anomalies: 0, deadLetters: 0 },
      budget: { maxBytes: 1, fileBytes: 1, usedBytes: 1, limitBytes: 1, diskFull: false },
      evicted: zero, deadLettersTrimmed: 0, salvage: null,
    },
  };
}
