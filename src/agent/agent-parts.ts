// What the agent's components share: the context they are built from (config, clocks, log,
// counters) and the parts they fill in as they start (the store, the writer, the stream...).
// A part is undefined until its component has started, and stays set after it stopped; every
// reader copes with undefined (health during start, a start that failed).
import type { AgentConfig } from '../config/load.js';
import type { Logger } from '../ops/logger.js';
import type { Clock, Source } from '../sources/source.js';
import type { SystemClock } from '../ops/system-clock.js';
import type { Stats } from '../ops/stats.js';
import type { ClockTrust } from '../stream/clock-trust.js';
import type { AgentOptions } from './agent-types.js';
import type { Database } from '../store/sqlite.js';
import type { Outbox } from '../store/outbox.js';
import type { GroupCommit } from '../store/group-commit-types.js';
import type { Budget } from '../store/budget.js';
import type { SalvageReport } from '../store/salvage.js';
import type { Forwarder } from '../outputs/uplink/uplink-types.js';
import type { Output } from '../outputs/output.js';
import type { ReplyWriter } from './commands/command-reply.js';
import type { CommandInbox } from './commands/command-inbox.js';
import type { AlarmControl } from '../outputs/gpio-alarms/gpio-alarm-output.js';
import type { Stream } from '../stream/stream.js';
import type { Admission } from '../stream/admission.js';
import type { Ingest } from './ingest.js';
import type { Ticker, TickerDeps } from './ticker.js';
import type { UnopenedBroker } from '../broker/embedded-broker.js';
import type { HttpServer } from '../ops/http-server.js';
import type { Schedules } from '../ops/schedules.js';

export interface AgentContext {
  config: AgentConfig;
  log: Logger;
  clock: Clock;
  system: SystemClock;
  trust: ClockTrust;
  /** Feeds the wall/monotonic/sync reading to the clock trust; returns its verdict. */
  observeClock: TickerDeps['observeClock'];
  stats: Stats;
  opts: Pick<AgentOptions, 'gpioDriver' | 'wrapDatabase' | 'stopTimeoutMs' | 'host'>;
}

export interface AgentParts {
  db?: Database;
  outbox?: Outbox;
  salvage?: SalvageReport;
  /** The first outbox id this database hands out (health's uplink.firstSeq). */
  firstSeq: number;
  budget?: Budget;
  writer?: GroupCommit;
  forwarder?: Forwarder;
  outputs: Output[];
  alarms?: Output & AlarmControl;
  stream?: Stream;
  admission?: Admission;
  ingest?: Ingest;
  heartbeat?: Ticker;
  /** Set while the heartbeat's interval runs. */
  ticking: boolean;
  broker?: UnopenedBroker;
  http?: HttpServer;
  /** Sources started so far, in order. */
  sources: Source[];
  schedules?: Schedules;
  /** Commands from the uplink, waiting for their runner. */
  commandInbox?: CommandInbox;
  /** Writes command replies (set while commands run). */
  replies?: ReplyWriter;
  /** Whether the stop sends open windows as partial summaries (false on a reload). */
  flushOpenWindows: boolean;
}

export const emptyParts = (): AgentParts => ({ firstSeq: 1, outputs: [], ticking: false, sources: [], flushOpenWindows: true });
