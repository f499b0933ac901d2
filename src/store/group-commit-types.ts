// The group commit's contract: its options (what the agent gives it), its health, and its API
// for ingest, recovery, the ticker and the uplink's memory lane (group-commit.ts).
import type { Database } from './sqlite.js';
import type { Outbox, MessageKind, OutboxRow, OutboxMessage } from './outbox.js';
import type { HeldLimits, ShedCounts } from './held-batches.js';
import type { StoreProblem } from './store-errors.js';
import type { StreamOutput } from '../stream/stream.js';
import type { Rejection } from '../stream/rejection.js';
import type { Logger } from '../ops/logger.js';

export interface OutsideMessage {
  kind: MessageKind;
  /** The topic under the kind (for a reply: the topic under the prefix). */
  sensor: string;
  /** The row's payload (its id from the seq) and MQTT 5 properties (JSON). */
  render(seq: number): { payload: string; props?: string | null };
  command?: OutboxMessage['command'];
}

export interface CommitHooks {
  /** Before each commit, with the bytes it is about to add: the byte budget makes room. */
  beforeCommit(bytes: number): Promise<void>;
  /** After a failed commit: true when the failure was the budget's page cap and room was made. */
  afterFull(err: unknown): Promise<boolean>;
}

export interface GroupCommitOptions {
  db: Database;
  outbox: Outbox;
  /** For the ids in log lines only. */
  device: string;
  /** Turns an output into the row's payload and sketch: the store never renders one itself (wire/render.ts). */
  encode: (seq: number, output: StreamOutput) => { payload: string; sketch: string | null; sensor?: string };
  commitIntervalMs: number;
  /**
   * When nothing urgent waits (no acknowledgement, no anomaly, event or reply: readings nobody
   * waits for, summaries, dead letters, ticks), commits are this far apart at most (ms), not
   * commitIntervalMs: far fewer writes when sensors are sparse. Default: commitIntervalMs.
   */
  quietCommitIntervalMs?: number;
  /** Commit early once this many journal entries wait. */
  commitReadings: number;
  /** false: readings are not journaled (no replay; windows open at a crash are lost). */
  journal: boolean;
  /**
   * The stream's state and the pipelines it belongs to, as JSON, for a checkpoint; undefined
   * before the stream exists (none is taken then; the next cut tries again).
   */
  snapshot: () => { specs: string; state: string } | undefined;
  clock: () => number;
  log: Logger;
  /** Called after each cut that queued messages (the uplink wakes up), with how many were anomalies. */
  onQueued: (anomalies: number) => void;
  hooks?: CommitHooks;
  held?: HeldLimits;
}

export interface StoreHealth {
  writable: boolean;
  problem: StoreProblem | null;
  error: string | null;
  /** Since when the store has been failing (epoch ms), or null. */
  since: number | null;
  waiting: number;
  /** Messages held in memory because the store cannot commit. */
  heldMessages: number;
  /** Batches they are held in (coalesced up to a piece each). */
  heldBatches: number;
  shed: ShedCounts;
}

export interface GroupCommit {
  /** An admitted reading, in processing order. */
  reading(sensor: string, ts: number, value: number, receivedAt: number, late: boolean): void;
  /** A wall-clock tick that changed window state (replay needs it to close the same windows). */
  tick(now: number): void;
  /** The wall clock jumped by `deltaMs` and the stream's arrival times were shifted with it. */
  shift(deltaMs: number, now: number): void;
  /** A device's availability, journaled (replay reports it again at the same point). */
  availability(device: string, online: boolean, at: number): void;
  write(output: StreamOutput, createdAt: number): void;
  /**
   * A message the stream did not produce (a command reply, a backfill), in the outbox with the
   * next seq; its seq is recorded as outside the stream's, so recovery's regenerated outputs
   * keep their ids. A reply updates its command's record in the same transaction.
   */
  writeOutside(message: OutsideMessage, createdAt: number): void;
  reject(rejection: Rejection): void;
  /** The next commit also saves a checkpoint. */
  requestCheckpoint(): void;
  /** Commits everything waiting now. */
  flush(): Promise<void>;
  /** Final commit, with a checkpoint; no timer afterwards. */
  close(): Promise<void>;
  waiting(): number;
  /** False while commits are failing (disk full, read-only, corrupt file). */
  writable(): boolean;
  /** How long the commit now in flight has been running (ms), 0 when none is: a wedged disk shows here. */
  busyFor(now: number): number;
  health(): StoreHealth;
  /** Journal id the latest saved checkpoint covers (0: none yet). */
  checkpointedJournalId(): number;
  /** undefined while keeping up; else resolves once the backlog is below half the high-water mark. */
  ready(): Promise<void> | undefined;
  /**
   * Resolves once everything handed over so far is committed (synchronous=FULL: durable), for
   * acknowledging a QoS 1 reading only then. Commits run back to back while acknowledgements
   * wait. While the store cannot commit, it resolves when the data is held in memory instead
   * (the sensor is not stalled by a full disk; health says the store is failing).
   */
  durable(): Promise<void>;
  /** Messages that could not be committed yet, for the uplink to send live. */
  unwritten(kind: MessageKind, afterSeq: number, limit: number): OutboxRow[];
  /** A message from unwritten() was acknowledged upstream. */
  delivered(seq: number): void;
}

