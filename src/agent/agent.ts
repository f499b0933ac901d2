// The composition root. Starts outputs first (store, uplink), then the stream and the local
// broker, then sources; stops in reverse, so every reading that got in is written and, time
// permitting, delivered.
import type { Source, Clock } from '../sources/source.js';
import { openStoreChecked } from '../store/open-store.js';
import { readSeqSeed } from '../store/seq-seed.js';
import { openOutbox, type Outbox } from '../store/outbox.js';
import { createGroupCommit } from '../store/group-commit.js';
import type { GroupCommit } from '../store/group-commit-types.js';
import { createBudget, type Budget } from '../store/budget.js';
import type { SalvageReport } from '../store/salvage.js';
import { lockStore, type StoreLock } from '../store/store-lock.js';
import { startSchedules, type Schedules } from '../ops/schedules.js';
import { scheduledJobs } from './scheduled-jobs.js';
import { upstreamEncoder } from '../wire/render.js';
import { summaryMerger } from '../wire/merge-stored.js';
import { createTicker, type Ticker } from './ticker.js';
import { recoverStream } from './recovery.js';
import { replayDeadLetters } from './dead-letter-replay.js';
import { purgeDeadLetters } from '../store/cli-store.js';
import type { Database } from '../store/sqlite.js';
import { createForwarder } from '../outputs/uplink/forwarder.js';
import type { Forwarder } from '../outputs/uplink/uplink-types.js';
import type { Stream, StreamOutput } from '../stream/stream.js';
import { createAdmission, type Admission } from '../stream/admission.js';
import { startEmbeddedBroker, type EmbeddedBroker } from '../broker/embedded-broker.js';
import { brokerOptions } from './broker-options.js';
import { startAgentHttp } from './agent-http.js';
import { createIngest, type Ingest } from './ingest.js';
import { gpioAlarmOutput } from '../outputs/gpio-alarms/gpio-alarm-output.js';
import { uplinkOutput } from '../outputs/uplink/uplink-output.js';
import type { Output } from '../outputs/output.js';
import { createSimulatedGpioDriver } from '../gpio/simulated-driver.js';
import { createOnoffDriver } from '../gpio/onoff-driver.js';
import { buildSources } from './build-sources.js';
import { createStats, bump, type Stats } from '../ops/stats.js';
import { buildHealth, type Health } from '../ops/health.js';
import type { HttpServer } from '../ops/http-server.js';
import { systemClock } from '../ops/system-clock.js';
import { BUILD_FLOOR } from '../ops/build-info.js';
import { createClockTrust } from '../stream/clock-trust.js';
import { redactUrl } from '../config/redact.js';
import type { Agent, AgentOptions } from './agent-types.js';

const TICK_MS = 1000;
/** A commit running longer than this is a wedged store (the watchdog stops being fed). */
const COMMIT_STALL_MS = 15_000;
const BUDGET_CHECK_MS = 1000;
const NOT_OPEN = { writable: false, problem: null, error: 'not open', since: null, waiting: 0, heldMessages: 0, heldBatches: 0, shed: { journalReadings: 0, summaries: 0, anomalies: 0, deadLetters: 0 } } as const;

export function createAgent(opts: AgentOptions): Agent {
  const { config, log } = opts;
  const system = opts.system ?? systemClock;
  const clock: Clock = () => system.wall();
  const trust = createClockTrust({ floor: BUILD_FLOOR, syncTimeoutMs: config.clock.syncTimeout });
  const observeClock = () => trust.observe({ wall: system.wall(), mono: system.mono(), synchronized: system.synchronized() });
  observeClock();
  const stats: Stats = createStats(clock());
  const specsJson = JSON.stringify(config.pipelines);

  let db: Database | undefined;
  let outbox: Outbox | undefined;
  let writer: GroupCommit | undefined;
  let budget: Budget | undefined;
  let salvage: SalvageReport | undefined;
  let firstSeq = 1;
  let forwarder: Forwarder | undefined;
  let stream: Stream | undefined;
  let admission: Admission | undefined;
  let ingest: Ingest | undefined;
  let broker: EmbeddedBroker | undefined;
  let http: HttpServer | undefined;
  let sources: Source[] = [];
  let alarms: ReturnType<typeof gpioAlarmOutput> | undefined;
  let uplink: Output | undefined;
  const started: Source[] = [];
  let ticker: NodeJS.Timeout | undefined;
  let schedules: Schedules | undefined;
  let budgetTimer: NodeJS.Timeout | undefined;
  let lock: StoreLock | undefined;
  let stopping: Promise<void> | undefined;
  let heartbeat: Ticker | undefined;

  const health = async (): Promise<Health> =>
    buildHealth({
      device: config.device.id,
      now: clock(),
      stats,
      ratePerS: heartbeat?.ratePerS() ?? 0,
      sensors: admission?.knownSensors() ?? 0,
      openWindows: stream?.openWindows() ?? 0,
      outbox: outbox ? await outbox.stats() : { rows: 0, bytes: 0, oldestCreatedAt: null },
      uplink: forwarder?.status() ?? { state: 'stopped', since: stats.startedAt, lastError: null, inflight: 0, delivered: 0, connects: 0, protocol: '-', lastSeqSent: 0 },
      firstSeq,
      store: writer?.health() ?? NOT_OPEN,
      budget: budget?.status() ?? { maxBytes: config.storage.maxBytes, fileBytes: 0, usedBytes: 0, limitBytes: 0, diskFull: false },
      salvage,
      clock: { ...trust.status(), held: ingest?.held() ?? 0 },
      schedules: schedules?.status() ?? {},
      alarms: alarms?.active() ?? [],
      sources: Object.fromEntries(started.map((s) => [s.name, s.health()])),
    });

  return {
    config,
    get brokerPort() {
      return broker?.port;
    },
    get httpPort() {
      return http?.port;
    },
    health,
    progressing() {
      if (!writer || !ticker) return false;
      return system.mono() - (heartbeat?.lastTickMono() ?? -Infinity) < 5 * TICK_MS && writer.busyFor(clock()) < COMMIT_STALL_MS;
    },
    async status() {
      return { ...(await health()), latest: (ingest?.latest() ?? []).slice(0, 50) };
    },
    async replayDeadLetters(filter) {
      if (!db || !ingest || !writer) throw new Error('the agent is not running');
      const result = await replayDeadLetters({ db, sources: started, sinkFor: (s) => ingest!.sinkFor(s), writer, clock }, filter);
      log.info({ ...filter, replayed: result.replayed, skipped: result.skipped.length }, 'dead letters replayed');
      return result;
    },

    async purgeDeadLetters(filter) {
      if (!db) throw new Error('the agent is not running');
      const purged = await purgeDeadLetters(db, filter);
      log.info({ ...filter, purged }, 'dead letters purged');
      return { purged };
    },

    async start() {
      try {
        await startParts.call(this);
      } catch (err) {
        // What started is stopped again, and open windows stay in the checkpoint: a start that
        // fails (a port taken) must not send them as partial summaries, at every restart.
        await this.stop({ flushOpenWindows: false }).catch(() => undefined);
        throw err;
      }
    },

    async stop({ flushOpenWindows = true } = {}) {
      // Once: a second stop (after a failed start) must not flush or commit again.
      stopping ??= stopParts(flushOpenWindows);
      await stopping;
    },
  };

  async function startParts(this: Agent): Promise<void> {
    lock = lockStore(config.storage.path);
    // 1. Outputs: the store (checked, salvaged if damaged), its byte budget, then the uplink
    // that drains it. They refer to each other through these closures.
    const opened = await openStoreChecked(config.storage.path, config.storage.synchronous, log, config.device.id, clock());
    db = opts.wrapDatabase ? opts.wrapDatabase(opened.db) : opened.db;
    salvage = opened.salvage;
    outbox = await openOutbox(db);
    firstSeq = await readSeqSeed(db);
    const box = outbox;
    const b = createBudget({
      db,
      outbox,
      merge: summaryMerger(config.device.id),
      maxBytes: config.storage.maxBytes,
      journalMaxBytes: config.storage.journal.maxBytes,
      deadLettersMaxBytes: config.storage.deadLetters.maxBytes,
      claimed: (kind) => forwarder?.claimed(kind) ?? 0,
      coveredJournalId: () => writer?.checkpointedJournalId() ?? 0,
      requestCheckpoint: () => writer?.requestCheckpoint(),
      counters: stats,
      log,
    });
    budget = b;
    await b.configure();
    writer = createGroupCommit({
      db,
      outbox,
      device: config.device.id,
      encode: upstreamEncoder(config.device.id),
      commitIntervalMs: config.storage.commitInterval,
      commitReadings: config.storage.commitReadings,
      journal: config.storage.journal.enabled,
      // The byte budget may ask for a checkpoint before recovery has built the stream.
      snapshot: () => (stream ? { specs: specsJson, state: JSON.stringify(stream.save()) } : undefined),
      clock,
      log,
      onQueued: (anomalies) => forwarder?.wake(anomalies),
      hooks: b,
    });
    const w = writer;
    const f = createForwarder({
      uplink: config.uplink,
      outbox: box,
      memory: writer,
      log,
      clock,
      onRefused: (row, why) => {
        bump(stats.deadLettersByReason, 'upstream-refused');
        w.reject({ reason: 'upstream-refused', detail: why, source: 'uplink', topic: `${config.uplink.topicPrefix}/${row.kind}/${row.sensor}`, receivedAt: clock(), payload: row.payload });
        return w.durable(); // the row leaves the outbox only once its dead letter is committed
      },
    });
    forwarder = f;
    uplink = uplinkOutput(f);
    await uplink.start();
    budgetTimer = setInterval(() => void b.enforce().catch((err: Error) => log.warn({ err: err.message }, 'storage budget check failed')), BUDGET_CHECK_MS);

    // 2. The stream, as the checkpoint and journal left it, and the door into it.
    const recovered = await recoverStream({ db, outbox, writer, pipelines: config.pipelines, journal: config.storage.journal.enabled, idleTtlMs: config.limits.sensorIdleTtl, clock, log });
    stream = recovered.stream;
    writer.requestCheckpoint(); // the next restart starts from here, not from the old checkpoint
    await writer.flush();
    admission = createAdmission({ ...config.limits, floor: BUILD_FLOOR });
    ingest = createIngest({
      admission,
      stream,
      writer,
      stats,
      clock,
      log,
      maxLatest: config.limits.maxSensors,
      trusted: () => trust.status().state === 'trusted',
      mono: () => system.mono(),
      holdReadings: config.clock.holdReadings,
      onAnomaly: (a) => alarms?.onAnomaly?.(a),
    });
    if (trust.status().state !== 'trusted') log.warn({ clock: trust.status(), wall: new Date(clock()).toISOString() }, 'wall clock not trusted yet: readings without a timestamp are held until it is');
    const beat = createTicker({ clock, mono: () => system.mono(), observeClock, stream, writer, ingest, admission, stats, log, checkpointIntervalMs: config.storage.checkpointInterval });
    heartbeat = beat;
    ticker = setInterval(() => beat.tick(), TICK_MS);

    // 3. Observability, then the local broker and the sources.
    if (config.http.enabled) {
      http = await startAgentHttp(config, {
        healthy: () => (writer?.writable() ?? false) && this.progressing(),
        status: () => this.status(),
        replayDeadLetters: (f) => this.replayDeadLetters(f),
        purgeDeadLetters: (f) => this.purgeDeadLetters(f),
        metrics: { stats, outbox: () => box.stats(), uplink: () => f.status(), openWindows: () => stream?.openWindows() ?? 0, store: () => writer!.health(), budget: () => b.status(), clock },
      }, log);
    }
    if (config.broker.enabled) broker = await startEmbeddedBroker(brokerOptions(config.broker, log, (reason) => bump(stats.brokerRejections, reason)));
    if (config.gpio.alarms.length > 0) {
      const driver = config.gpio.simulate ? createSimulatedGpioDriver() : (opts.gpioDriver ?? createOnoffDriver(config.gpio.sysfs));
      alarms = gpioAlarmOutput(config.gpio.alarms, driver, log);
      await alarms.start();
    }
    sources = buildSources({ config, localFeed: broker, clock, log, gpioDriver: opts.gpioDriver });
    for (const s of sources) {
      await s.start(ingest.sinkFor(s.name));
      started.push(s);
    }
    const jobs = scheduledJobs({
      config,
      db,
      stats,
      clock,
      health,
      checkpointedJournalId: () => writer?.checkpointedJournalId() ?? 0,
      delivered: () => forwarder?.status().delivered ?? 0,
      publishLive: (subtopic, payload, retain) => forwarder?.publishLive(subtopic, payload, retain) ?? false,
    });
    schedules = startSchedules(jobs, log, clock);
    log.info({ device: config.device.id, sources: sources.map((s) => s.name), pipelines: config.pipelines.length, uplink: redactUrl(config.uplink.url) }, 'outpost running');
  }

  async function stopParts(flushOpenWindows: boolean): Promise<void> {
    try {
      await schedules?.stop();
      clearInterval(budgetTimer);
      // The broker stops taking publishes and answers those it took (their commits still run),
      // then closes before the sources let go of it: no publish is acknowledged with no source
      // to take it, and none is committed but left unacknowledged (a sensor would resend it).
      await broker?.drain(3000);
      await broker?.close();
      for (const s of started.reverse()) await s.stop().catch((err: Error) => log.warn({ source: s.name, err: err.message }, 'source did not stop cleanly'));
      started.length = 0;
      await alarms?.stop(0);
      clearInterval(ticker);
      ingest?.spillHeld();
      if (stream && ingest && flushOpenWindows) {
        // Open windows go out as partial summaries; they stay in the checkpoint that close()
        // saves and continue after a restart, ending in a complete summary.
        const out: StreamOutput[] = [];
        stream.flush(out);
        ingest.emit(out);
      }
      await writer?.close();
      await uplink?.stop(opts.stopTimeoutMs ?? 3000);
      await http?.close();
      await db?.close();
    } finally {
      // Whatever failed above, the database is free for the next agent (a reload's, say).
      lock?.release();
    }
    log.info('outpost stopped');
  }
}
