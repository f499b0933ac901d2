// Prometheus metrics, read from the plain counters at scrape time so the hot path never
// touches prom-client. One registry per agent (no global default registry).
import { readFileSync } from 'node:fs';
import { Registry, Counter, Gauge, collectDefaultMetrics } from 'prom-client';
import type { Stats } from './stats.js';
import type { OutboxStats } from '../store/outbox.js';
import type { UplinkStatus } from '../outputs/uplink/uplink-types.js';
import type { StoreHealth } from '../store/group-commit-types.js';
import type { BudgetStatus } from '../store/budget.js';

export interface MetricsInputs {
  stats: Stats;
  outbox: () => Promise<OutboxStats>;
  uplink: () => UplinkStatus;
  openWindows: () => number;
  store: () => StoreHealth;
  budget: () => BudgetStatus;
  clock: () => number;
}

export function createMetrics(i: MetricsInputs): Registry {
  const register = new Registry();
  collectDefaultMetrics({ register, prefix: 'outpost_' });

  const fromMap = (name: string, help: string, label: string, read: () => Map<string, number>) =>
    new Counter({
      name,
      help,
      labelNames: [label],
      registers: [register],
      collect() {
        this.reset();
        for (const [k, v] of read()) this.inc({ [label]: k }, v);
      },
    });
  const fromValue = (name: string, help: string, read: () => number) =>
    new Counter({
      name,
      help,
      registers: [register],
      collect() {
        this.reset();
        this.inc(read());
      },
    });

  fromMap('outpost_readings_total', 'Readings accepted into the stream, by source', 'source', () => i.stats.readingsBySource);
  fromMap('outpost_dead_letters_total', 'Inputs rejected to the dead-letter table, by reason', 'reason', () => i.stats.deadLettersByReason);
  fromMap('outpost_commands_total', 'Remote commands answered, by reply status (duplicates counted as duplicate)', 'status', () => i.stats.commandsByStatus);
  fromMap('outpost_broker_rejections_total', 'Clients and packets refused by the local broker', 'reason', () => i.stats.brokerRejections);
  fromValue('outpost_late_readings_total', 'Readings that arrived after their window closed', () => i.stats.late);
  fromValue('outpost_unrouted_readings_total', 'Readings whose sensor matches no pipeline', () => i.stats.unrouted);
  fromValue('outpost_summaries_total', 'Window summaries emitted', () => i.stats.summaries);
  fromValue('outpost_anomalies_total', 'Anomaly events emitted', () => i.stats.anomalies);
  fromValue('outpost_uplink_delivered_total', 'Messages acknowledged by the fleet broker', () => i.uplink().delivered);
  fromMap('outpost_outbox_evictions_total', 'Outbox messages dropped to stay within storage.maxBytes, by class', 'kind', () => new Map([['summary', i.stats.evictedSummaries], ['anomaly', i.stats.evictedAnomalies], ['event', i.stats.evictedEvents]]));
  fromValue('outpost_outbox_merges_total', 'Pairs of outbox summaries merged into one coarser window to stay within storage.maxBytes', () => i.stats.merges);
  fromValue('outpost_journal_trimmed_readings_total', 'Raw readings deleted from the journal by retention or the byte budget', () => i.stats.journalTrimmed);
  fromValue('outpost_dead_letters_trimmed_total', 'Dead letters deleted by their share of the byte budget', () => i.stats.deadLettersTrimmed);
  fromMap('outpost_store_shed_total', 'Data shed from memory while the store could not commit, by what', 'what', () => new Map(Object.entries(i.store().shed)));
  new Gauge({ name: 'outpost_store_writable', help: '1 when the database accepts commits', registers: [register], collect() { this.set(i.store().writable ? 1 : 0); } });
  new Gauge({ name: 'outpost_store_held_messages', help: 'Messages held in memory because the database cannot commit', registers: [register], collect() { this.set(i.store().heldMessages); } });
  new Gauge({ name: 'outpost_store_file_bytes', help: 'Database file plus WAL on disk', registers: [register], collect() { this.set(i.budget().fileBytes); } });
  new Gauge({ name: 'outpost_store_max_bytes', help: 'storage.maxBytes', registers: [register], collect() { this.set(i.budget().maxBytes); } });

  // What this process has had written to storage (its SD card wear), from /proc/self/io.
  new Gauge({
    name: 'outpost_disk_written_bytes',
    help: 'Bytes this process caused to be written to storage since it started (/proc/self/io write_bytes)',
    registers: [register],
    collect() {
      try {
        this.set(Number(/write_bytes:\s+(\d+)/.exec(readFileSync('/proc/self/io', 'utf8'))?.[1] ?? 0));
      } catch {
        // not Linux: no figure
      }
    },
  });
  let drain = { at: i.clock(), delivered: i.uplink().delivered };
  new Gauge({
    name: 'outpost_uplink_drain_rate',
    help: 'Messages acknowledged by the fleet broker per second since the previous scrape',
    registers: [register],
    collect() {
      const now = i.clock();
      const delivered = i.uplink().delivered;
      const s = (now - drain.at) / 1000;
      if (s > 0) this.set((delivered - drain.delivered) / s);
      drain = { at: now, delivered };
    },
  });
  new Gauge({ name: 'outpost_open_windows', help: 'Windows currently open', registers: [register], collect() { this.set(i.openWindows()); } });
  new Gauge({ name: 'outpost_uplink_connected', help: '1 when connected to the fleet broker', registers: [register], collect() { this.set(i.uplink().state === 'online' ? 1 : 0); } });
  new Gauge({ name: 'outpost_uplink_inflight', help: 'QoS 1 messages awaiting PUBACK', registers: [register], collect() { this.set(i.uplink().inflight); } });
  const rows = new Gauge({ name: 'outpost_outbox_rows', help: 'Messages waiting to go upstream', registers: [register] });
  const bytes = new Gauge({ name: 'outpost_outbox_bytes', help: 'Payload bytes waiting to go upstream', registers: [register] });
  new Gauge({
    name: 'outpost_outbox_oldest_age_seconds',
    help: 'Age of the oldest message waiting to go upstream',
    registers: [register],
    async collect() {
      const s = await i.outbox();
      rows.set(s.rows);
      bytes.set(s.bytes);
      this.set(s.oldestCreatedAt === null ? 0 : (i.clock() - s.oldestCreatedAt) / 1000);
    },
  });
  return register;
}
