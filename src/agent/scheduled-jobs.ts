// The jobs of `schedules` in the config: health published retained, retention, store upkeep,
// and the daily report. What they need comes in as functions, so this file knows no agent
// internals.
import type { Job } from '../ops/schedules.js';
import type { Stats } from '../ops/stats.js';
import { total } from '../ops/stats.js';
import type { AgentConfig } from '../config/load.js';
import type { Database } from '../store/sqlite.js';
import { applyRetention, optimizeStore } from '../store/maintenance.js';
import type { Health } from '../ops/health.js';

export interface JobDeps {
  config: Pick<AgentConfig, 'schedules' | 'storage' | 'device'>;
  db: Database;
  stats: Stats;
  clock: () => number;
  health: () => Promise<Health>;
  /** Journal id the latest checkpoint covers (retention never goes past it). */
  checkpointedJournalId: () => number;
  /** Messages delivered upstream so far. */
  delivered: () => number;
  /** Publishes on <prefix>/<subtopic> now; false when the uplink is offline. */
  publishLive: (subtopic: string, payload: string, retain: boolean) => boolean;
}

export function scheduledJobs(d: JobDeps): Job[] {
  const { config, stats, clock } = d;
  const counters = () => ({
    readings: stats.readings,
    summaries: stats.summaries,
    anomalies: stats.anomalies,
    deadLetters: total(stats.deadLettersByReason),
    delivered: d.delivered(),
    merges: stats.merges,
    evictions: stats.evictedSummaries + stats.evictedAnomalies,
  });
  let lastDaily = { at: clock(), ...counters() };
  return [
    { name: 'health', cron: config.schedules.health, run: async () => d.publishLive('health', JSON.stringify(await d.health()), true) },
    {
      name: 'retention',
      cron: config.schedules.retention,
      run: async () => {
        const now = clock();
        const r = await applyRetention(d.db, {
          journalBefore: now - config.storage.journal.retention,
          journalMaxBytes: config.storage.journal.maxBytes,
          coveredUpTo: d.checkpointedJournalId(),
          deadLettersBefore: now - config.storage.deadLetters.retention,
        });
        stats.journalTrimmed += r.journalReadings;
        stats.deadLettersTrimmed += r.deadLetters;
      },
    },
    { name: 'optimize', cron: config.schedules.optimize, run: () => optimizeStore(d.db) },
    {
      name: 'dailySummary',
      cron: config.schedules.dailySummary,
      run: async () => {
        const now = clock();
        const c = counters();
        const since = lastDaily;
        const report = {
          v: 1,
          device: config.device.id,
          from: new Date(since.at).toISOString(),
          to: new Date(now).toISOString(),
          readings: c.readings - since.readings,
          summaries: c.summaries - since.summaries,
          anomalies: c.anomalies - since.anomalies,
          deadLetters: c.deadLetters - since.deadLetters,
          delivered: c.delivered - since.delivered,
          merges: c.merges - since.merges,
          evictions: c.evictions - since.evictions,
          backlog: (await d.health()).backlog,
        };
        // The period starts anew only once its report went out: an offline uplink keeps it open.
        if (!d.publishLive('daily', JSON.stringify(report), true)) throw new Error('uplink offline: the daily report was not sent');
        lastDaily = { at: now, ...c };
      },
    },
  ];
}
