// Plain counters bumped on the hot path (cheap), read by /metrics, health and status.
export interface Stats {
  startedAt: number;
  readingsBySource: Map<string, number>;
  readings: number;
  deadLettersByReason: Map<string, number>;
  late: number;
  unrouted: number;
  summaries: number;
  anomalies: number;
  events: number;
  brokerRejections: Map<string, number>;
  /** Pairs of outbox summaries merged to stay within storage.maxBytes. */
  merges: number;
  /** Outbox rows dropped to stay within storage.maxBytes, by class. */
  evictedSummaries: number;
  evictedAnomalies: number;
  evictedEvents: number;
  /** Raw readings deleted from the journal (time and size retention, and the byte budget). */
  journalTrimmed: number;
  /** Dead letters deleted by their share of the byte budget. */
  deadLettersTrimmed: number;
  /** Remote commands by the status of their (last) reply, and "refused-unsigned" and such. */
  commandsByStatus: Map<string, number>;
}

export function createStats(now: number): Stats {
  return {
    startedAt: now,
    readingsBySource: new Map(),
    readings: 0,
    deadLettersByReason: new Map(),
    late: 0,
    unrouted: 0,
    summaries: 0,
    anomalies: 0,
    events: 0,
    brokerRejections: new Map(),
    commandsByStatus: new Map(),
    merges: 0,
    evictedSummaries: 0,
    evictedAnomalies: 0,
    evictedEvents: 0,
    journalTrimmed: 0,
    deadLettersTrimmed: 0,
  };
}

export function bump(map: Map<string, number>, key: string, by = 1): void {
  map.set(key, (map.get(key) ?? 0) + by);
}

export function total(map: Map<string, number>): number {
  let n = 0;
  for (const v of map.values()) n += v;
  return n;
}
