// The composition root: wiring only. Every long-lived part is a component (lifecycle.ts),
// started in this order and stopped in reverse: the store and its writer first, then the
// outputs, the stream, the local broker and the sources, the broker's listeners and the
// schedules last. So whatever got in is written and, time permitting, delivered.
import type { Clock } from '../sources/source.js';
import { replayDeadLetters } from './dead-letter-replay.js';
import { purgeDeadLetters } from '../store/cli-store.js';
import { buildSources } from './build-sources.js';
import { createStats } from '../ops/stats.js';
import { buildHealth, type Health } from '../ops/health.js';
import { systemClock } from '../ops/system-clock.js';
import { createWriteRate } from '../ops/write-rate.js';
import { BUILD_FLOOR } from '../ops/build-info.js';
import { createClockTrust } from '../stream/clock-trust.js';
import { redactUrl } from '../config/redact.js';
import type { Agent, AgentOptions } from './agent-types.js';
import { createLifecycle, type Component } from './lifecycle.js';
import { emptyParts, type AgentContext } from './agent-parts.js';
import { storeComponent, budgetComponent, writerComponent } from './store-components.js';
import { uplinkComponent, gpioAlarmsComponent, homeAssistantComponent } from './output-components.js';
import { streamComponent, TICK_MS } from './stream-component.js';
import { brokerComponent, brokerListenersComponent, sourceComponent, lazyFeed } from './input-components.js';
import { httpComponent, schedulesComponent } from './ops-components.js';
import { commandComponent } from './commands/command-component.js';
import { createReplyWriter } from './commands/command-reply.js';
import { bump } from '../ops/stats.js';
import { NOT_OPEN, STOPPED_UPLINK, unbudgeted } from './idle-health.js';

/** A commit running longer than this is a wedged store (the watchdog stops being fed). */
const COMMIT_STALL_MS = 15_000;

export function createAgent(opts: AgentOptions): Agent {
  const { config, log } = opts;
  const system = opts.system ?? systemClock;
  const clock: Clock = () => system.wall();
  const trust = createClockTrust({ floor: BUILD_FLOOR, syncTimeoutMs: config.clock.syncTimeout });
  const observeClock = () => trust.observe({ wall: system.wall(), mono: system.mono(), synchronized: system.synchronized() });
  observeClock();
  const stats = createStats(clock());
  const writeRate = createWriteRate();
  const ctx: AgentContext = { config, log, clock, system, trust, observeClock, stats, opts };
  const parts = emptyParts();
  let stopping: Promise<void> | undefined;

  const health = async (): Promise<Health> =>
    buildHealth({
      device: config.device.id,
      now: clock(),
      stats,
      ratePerS: parts.heartbeat?.ratePerS() ?? 0,
      sensors: parts.admission?.knownSensors() ?? 0,
      openWindows: parts.stream?.openWindows() ?? 0,
      outbox: parts.outbox ? await parts.outbox.stats() : { rows: 0, bytes: 0, oldestCreatedAt: null },
      uplink: parts.forwarder?.status() ?? STOPPED_UPLINK(stats.startedAt),
      firstSeq: parts.firstSeq,
      store: parts.writer?.health() ?? NOT_OPEN,
      writes: writeRate.sample(system.mono()), // monotonic: a clock step is no burst of writes
      budget: parts.budget?.status() ?? unbudgeted(config.storage.maxBytes),
      salvage: parts.salvage,
      clock: { ...trust.status(), held: parts.ingest?.held() ?? 0 },
      schedules: parts.schedules?.status() ?? {},
      alarms: parts.alarms?.active() ?? [],
      sources: Object.fromEntries(parts.sources.map((s) => [s.name, s.health()])),
      presence: parts.stream?.presence(20),
      learning: parts.stream?.learning(5),
      ...(config.rules.length > 0 && {
        rules: {
          rules: config.rules.length,
          raised: (parts.stream?.rulesRaised() ?? []).slice(0, 20).map((r) => ({ rule: r.rule, severity: r.severity, since: new Date(r.since).toISOString(), raisedAt: new Date(r.raisedAt).toISOString() })),
        },
      }),
    });

  const agent: Agent = {
    config,
    get brokerPort() {
      return parts.broker?.port;
    },
    get httpPort() {
      return parts.http?.port;
    },
    health,
    progressing() {
      if (!parts.writer || !parts.ticking) return false;
      return system.mono() - (parts.heartbeat?.lastTickMono() ?? -Infinity) < 5 * TICK_MS && parts.writer.busyFor(clock()) < COMMIT_STALL_MS;
    },
    async status() {
      return { ...(await health()), latest: (parts.ingest?.latest() ?? []).slice(0, 50) };
    },
    async replayDeadLetters(filter) {
      const { db, ingest, writer } = parts;
      if (!db || !ingest || !writer) throw new Error('the agent is not running');
      const result = await replayDeadLetters({ db, sources: parts.sources, sinkFor: (s) => ingest.sinkFor(s), writer, clock }, filter);
      log.info({ ...filter, replayed: result.replayed, skipped: result.skipped.length }, 'dead letters replayed');
      return result;
    },
    async purgeDeadLetters(filter) {
      if (!parts.db) throw new Error('the agent is not running');
      const purged = await purgeDeadLetters(parts.db, filter);
      log.info({ ...filter, purged }, 'dead letters purged');
      return { purged };
    },
    async finishCommand(cmd, body) {
      if (!parts.writer) throw new Error('the agent is not running');
      const replies = parts.replies ?? createReplyWriter(parts.writer, config.device.id, clock, (s) => bump(stats.commandsByStatus, s));
      await replies.write(cmd, cmd.route, body, { record: 'final' });
    },
    async start() {
      try {
        await lifecycle.start();
      } catch (err) {
        // What started is stopped again, and open windows stay in the checkpoint: a start that
        // fails (a port taken) must not send them as partial summaries, at every restart.
        await this.stop({ flushOpenWindows: false }).catch(() => undefined);
        throw err;
      }
      log.info({ device: config.device.id, sources: parts.sources.map((s) => s.name), pipelines: config.pipelines.length, uplink: redactUrl(config.uplink.url) }, 'outpost running');
    },
    stop({ flushOpenWindows = true } = {}) {
      // Once, as the first call asked: a second stop (start's failure path after a signal) must
      // not flush, commit or change what the first decided.
      stopping ??= (async () => {
        parts.flushOpenWindows = flushOpenWindows;
        await lifecycle.stop();
        log.info('outpost stopped');
      })();
      return stopping;
    },
  };

  const components: Component[] = [
    storeComponent(ctx, parts),
    ...(config.http.enabled
      ? [
          httpComponent(ctx, parts, {
            healthy: () => (parts.writer?.writable() ?? false) && agent.progressing(),
            status: () => agent.status(),
            replayDeadLetters: (f) => agent.replayDeadLetters(f),
            purgeDeadLetters: (f) => agent.purgeDeadLetters(f),
          }),
        ]
      : []),
    budgetComponent(ctx, parts),
    writerComponent(ctx, parts),
    uplinkComponent(ctx, parts),
    ...(config.gpio.alarms.length > 0 ? [gpioAlarmsComponent(ctx, parts)] : []),
    streamComponent(ctx, parts),
    ...(config.commands.enabled ? [commandComponent(ctx, parts, { status: () => agent.status(), replayDeadLetters: (f) => agent.replayDeadLetters(f) })] : []),
    // After the stream, whose sensors it announces; stopped before it, while the uplink runs.
    ...(config.uplink.homeAssistant.enabled ? [homeAssistantComponent(ctx, parts)] : []),
    ...(config.broker.enabled ? [brokerComponent(ctx, parts)] : []),
    ...buildSources({ config, localFeed: config.broker.enabled ? lazyFeed(() => parts.broker) : undefined, clock, log, gpioDriver: opts.gpioDriver }).map((s) => sourceComponent(s, ctx, parts)),
    ...(config.broker.enabled ? [brokerListenersComponent(parts)] : []),
    schedulesComponent(ctx, parts, health),
  ];
  const lifecycle = createLifecycle(components, log);
  return agent;
}
