// The health report: published retained on <prefix>/health, served on /status, printed by
// `outpost status`. One shape for all three.
import type { Stats } from './stats.js';
import { total } from './stats.js';
import type { OutboxStats } from '../store/outbox.js';
import type { UplinkStatus } from '../outputs/uplink/uplink-types.js';
import type { ClockStatus } from '../stream/clock-trust.js';
import type { StoreHealth } from '../store/group-commit-types.js';
import type { BudgetStatus } from '../store/budget.js';
import { basename } from 'node:path';
import type { SalvageReport } from '../store/salvage.js';
import type { WriteRate } from './write-rate.js';
import type { JobStatus } from './schedules.js';
import type { HealthMessage } from '../wire/upstream.js';

/** Defined once, in zod, with every upstream message (wire/upstream.ts); a type import only: zod is not loaded here. */
export type Health = HealthMessage;

export interface HealthInputs {
  device: string;
  now: number;
  stats: Stats;
  ratePerS: number;
  sensors: number;
  openWindows: number;
  outbox: OutboxStats;
  uplink: UplinkStatus;
  /** The first seq of this database (seq-seed.ts): ids jump to it from an earlier database's, which is not loss. */
  firstSeq: number;
  store: StoreHealth;
  /** This process's disk writes (write-rate.ts). */
  writes?: WriteRate;
  budget: BudgetStatus;
  salvage: SalvageReport | undefined;
  clock: ClockStatus & { held: number };
  schedules: Record<string, JobStatus>;
  alarms: number[];
  sources: Health['sources'];
  presence?: { stale: string[]; staleCount: number; offline: number };
  learning?: Health['learning'];
  rules?: Health['rules'];
}

export function buildHealth(i: HealthInputs): Health {
  return {
    v: 1,
    device: i.device,
    ts: new Date(i.now).toISOString(),
    uptimeS: Math.round((i.now - i.stats.startedAt) / 1000),
    ingest: { readings: i.stats.readings, ratePerS: Math.round(i.ratePerS * 10) / 10, late: i.stats.late, unrouted: i.stats.unrouted, sensors: i.sensors, openWindows: i.openWindows },
    emitted: { summaries: i.stats.summaries, anomalies: i.stats.anomalies, events: i.stats.events },
    ...(i.presence && { presence: { staleSensors: i.presence.staleCount, stale: i.presence.stale, offlineDevices: i.presence.offline } }),
    ...(i.learning && { learning: i.learning }),
    ...(i.rules && { rules: i.rules }),
    backlog: {
      rows: i.outbox.rows,
      bytes: i.outbox.bytes,
      oldestAgeS: i.outbox.oldestCreatedAt === null ? null : Math.max(0, Math.round((i.now - i.outbox.oldestCreatedAt) / 1000)),
    },
    uplink: { state: i.uplink.state, since: new Date(i.uplink.since).toISOString(), lastError: i.uplink.lastError, delivered: i.uplink.delivered, inflight: i.uplink.inflight, protocol: i.uplink.protocol, lastSeqSent: i.uplink.lastSeqSent, firstSeq: i.firstSeq },
    deadLetters: { total: total(i.stats.deadLettersByReason), byReason: Object.fromEntries(i.stats.deadLettersByReason) },
    evictions: i.stats.evictedSummaries + i.stats.evictedAnomalies + i.stats.evictedEvents,
    merges: i.stats.merges,
    journalTrimmed: i.stats.journalTrimmed,
    clock: i.clock,
    schedules: i.schedules,
    alarms: i.alarms,
    sources: i.sources,
    store: {
      ...i.store,
      since: i.store.since === null ? null : new Date(i.store.since).toISOString(),
      ...(i.writes && { writes: i.writes }),
      budget: i.budget,
      evicted: { summaries: i.stats.evictedSummaries, anomalies: i.stats.evictedAnomalies, events: i.stats.evictedEvents },
      deadLettersTrimmed: i.stats.deadLettersTrimmed,
      // The file name only: /status shows no paths.
      salvage: i.salvage ? { ...i.salvage, asideAs: basename(i.salvage.asideAs) } : null,
    },
  };
}
