// The agent's own services as components: the HTTP endpoint (opened right after the store, so
// /healthz answers, 503, during a long recovery, and closed just before the database) and the
// scheduled jobs (started last, stopped first: no job runs while the parts it uses stop).
import { startAgentHttp, type AgentHttpDeps } from './agent-http.js';
import { scheduledJobs } from './scheduled-jobs.js';
import { startSchedules } from '../ops/schedules.js';
import type { Health } from '../ops/health.js';
import type { Component } from './lifecycle.js';
import type { AgentContext, AgentParts } from './agent-parts.js';
import { NOT_OPEN, STOPPED_UPLINK, unbudgeted } from './idle-health.js';

export function httpComponent({ config, log, stats, clock }: AgentContext, parts: AgentParts, api: Omit<AgentHttpDeps, 'metrics'>): Component {
  return {
    name: 'http',
    async start() {
      parts.http = await startAgentHttp(
        config,
        {
          ...api,
          metrics: {
            stats,
            clock,
            outbox: async () => (parts.outbox ? parts.outbox.stats() : { rows: 0, bytes: 0, oldestCreatedAt: null }),
            uplink: () => parts.forwarder?.status() ?? STOPPED_UPLINK(stats.startedAt),
            openWindows: () => parts.stream?.openWindows() ?? 0,
            store: () => parts.writer?.health() ?? NOT_OPEN,
            budget: () => parts.budget?.status() ?? unbudgeted(config.storage.maxBytes),
          },
        },
        log,
      );
    },
    stop: async () => parts.http?.close(),
  };
}

export function schedulesComponent({ config, log, stats, clock }: AgentContext, parts: AgentParts, health: () => Promise<Health>): Component {
  return {
    name: 'schedules',
    async start() {
      const jobs = scheduledJobs({
        config,
        db: parts.db!,
        stats,
        clock,
        health,
        checkpointedJournalId: () => parts.writer?.checkpointedJournalId() ?? 0,
        delivered: () => parts.forwarder?.status().delivered ?? 0,
        publishLive: (subtopic, payload, retain) => parts.forwarder?.publishLive(subtopic, payload, retain) ?? false,
      });
      parts.schedules = startSchedules(jobs, log, clock);
    },
    stop: async () => parts.schedules?.stop(),
  };
}
