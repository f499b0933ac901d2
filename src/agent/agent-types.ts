// The agent's API (the CLI, the demo and the tests drive it) and its options.
import type { AgentConfig } from '../config/load.js';
import type { Logger } from '../ops/logger.js';
import type { GpioDriver } from '../gpio/gpio-driver.js';
import type { Database } from '../store/sqlite.js';
import type { Health } from '../ops/health.js';
import type { SystemClock } from '../ops/system-clock.js';
import type { ReplayFilter, ReplayResult } from './dead-letter-replay.js';
import type { DeadLetterFilter } from '../store/dead-letters.js';
import type { CommandRef, ReplyBody, ReplyRoute } from './commands/command-reply.js';

/**
 * The process around the agent (cli/run.ts), which owns the config file and outlives reloads:
 * `config.apply` hands it the new text; it writes, reloads, watches, maybe rolls back, and then
 * has the agent then running answer (Agent.finishCommand).
 */
export interface AgentHost {
  configFile: string;
  /** Takes it on (undefined), or says why not (one is on trial already). */
  applyConfig(cmd: CommandRef & { route: ReplyRoute }, text: string, rollbackAfterMs: number): string | undefined;
  /** Ids of the commands it is finishing (not interrupted ones). */
  continuing(): readonly string[];
}

export interface AgentOptions {
  config: AgentConfig;
  log: Logger;
  /** Wall clock, monotonic clock and time-sync flag; injected by tests. */
  system?: SystemClock;
  gpioDriver?: GpioDriver;
  /** How long a graceful stop waits for in-flight PUBACKs (ms). */
  stopTimeoutMs?: number;
  host?: AgentHost;
  /** Wraps the opened database (tests inject write faults where no file system can be made to fail). */
  wrapDatabase?: (db: Database) => Database;
}

export interface Agent {
  readonly config: AgentConfig;
  start(): Promise<void>;
  /**
   * Stops in reverse order. `flushOpenWindows: false` (a reload) keeps open windows in the
   * checkpoint without sending partial summaries: the next start continues them.
   */
  stop(o?: { flushOpenWindows?: boolean }): Promise<void>;
  health(): Promise<Health>;
  /** Health plus the latest summary per sensor (the /status endpoint). */
  status(): Promise<Health & { latest: unknown[] }>;
  /**
   * Whether the pipeline is moving: the stream's tick ran lately and no commit has been stuck
   * for long. Feeds the systemd watchdog and /healthz.
   */
  progressing(): boolean;
  /** Dead letters back through their sources (after a fix); see dead-letter-replay.ts. */
  replayDeadLetters(filter: ReplayFilter): Promise<ReplayResult>;
  /** Deletes the dead letters a filter selects (all with an empty one): `outpost deadletter purge` while the agent runs. */
  purgeDeadLetters(filter: DeadLetterFilter): Promise<{ purged: number }>;
  /** Writes a command's final reply (one that was handed to the host). */
  finishCommand(cmd: CommandRef & { route: ReplyRoute }, body: ReplyBody): Promise<void>;
  /** Actual ports, useful when the config asked for port 0. */
  readonly brokerPort: number | undefined;
  readonly httpPort: number | undefined;
}

