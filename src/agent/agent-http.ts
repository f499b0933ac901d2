// The agent's HTTP endpoint from its slice of the config: /healthz, /status, /metrics (with
// prom-client loaded at the first scrape: about 3 MB of RSS a device never scraped does not
// pay) and the dead-letter replay action.
import { hostname } from 'node:os';
import type { AgentConfig } from '../config/load.js';
import type { Logger } from '../ops/logger.js';
import { startHttpServer, type HttpServer } from '../ops/http-server.js';
import { agentHttpToken } from '../ops/http-token.js';
import type { MetricsInputs } from '../ops/metrics.js';
import type { Registry } from 'prom-client';
import type { ReplayFilter, ReplayResult } from './dead-letter-replay.js';
import type { DeadLetterFilter } from '../store/dead-letters.js';

export interface AgentHttpDeps {
  healthy: () => boolean;
  status: () => Promise<unknown>;
  replayDeadLetters: (f: ReplayFilter) => Promise<ReplayResult>;
  purgeDeadLetters: (f: DeadLetterFilter) => Promise<{ purged: number }>;
  metrics: MetricsInputs;
}

export async function startAgentHttp(config: Pick<AgentConfig, 'http' | 'storage'>, d: AgentHttpDeps, log: Logger): Promise<HttpServer | undefined> {
  let registry: Promise<Registry> | undefined;
  const metrics = () => (registry ??= import('../ops/metrics.js').then((m) => m.createMetrics(d.metrics)));
  const names = [...config.http.allowedHosts, hostname(), `${hostname()}.local`].map((h) => h.toLowerCase());
  return startHttpServer(
    { host: config.http.host, port: config.http.port, token: agentHttpToken(config.http.token, config.storage.path), allowedHosts: names },
    { healthy: d.healthy, status: d.status, metrics, replayDeadLetters: d.replayDeadLetters, purgeDeadLetters: d.purgeDeadLetters },
    log,
  );
}
