// Group commit: everything the agent must keep (journal entries, stream outputs, rejections,
// and now and then a checkpoint of the stream state) collects in memory and is written in ONE
// transaction every `commitIntervalMs` (or sooner when `commitReadings` readings wait). The
// batch is cut synchronously, so a checkpoint taken at the cut covers exactly the journal
// entries and outputs up to it: a restart that loads it and replays the journal after it
// re-creates the same outputs with the same seqs. A failed commit keeps the batch in memory
// for the next try; nothing is dropped here.
import type { Database } from './sqlite.js';
import type { Outbox } from './outbox.js';
import { insertDeadLettersTx } from './dead-letters.js';
import { appendJournalTx } from './journal.js';
import { createJournalBatch, type JournalBatchWriter } from './journal-codec.js';
import { saveCheckpointTx } from './checkpoint.js';
import type { StreamOutput } from '../stream/stream.js';
import type { Rejection } from '../stream/rejection.js';
import { renderBody, wrapBody } from '../stream/messages.js';
import type { Logger } from '../ops/logger.js';

export interface GroupCommitOptions {
  db: Database;
  outbox: Outbox;
  device: string;
  commitIntervalMs: number;
  /** Commit early once this many journal entries wait. */
  commitReadings: number;
  /** false: readings are not journaled (no replay; windows open at a crash are lost). */
  journal: boolean;
  /** The stream's state and the pipelines it belongs to, as JSON, for a checkpoint. */
  snapshot: () => { specs: string; state: string };
  clock: () => number;
  log: Logger;
  /** Called after each commit that added outbox rows (the uplink wakes up). */
  onCommitted: () => void;
}

export interface GroupCommit {
  /** An admitted reading, in processing order. */
  reading(sensor: string, ts: number, value: number, receivedAt: number, late: boolean): void;
  /** A wall-clock tick that changed window state (replay needs it to close the same windows). */
  tick(now: number): void;
  /** The wall clock jumped by `deltaMs` and the stream's arrival times were shifted with it. */
  shift(deltaMs: number, now: number): void;
  write(output: StreamOutput, createdAt: number): void;
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
  /** Journal id the latest saved checkpoint covers (0: none yet). */
  checkpointedJournalId(): number;
  /** undefined while keeping up; else resolves once the backlog is below half the high-water mark. */
  ready(): Promise<void> | undefined;
}

interface Draft {
  kind: StreamOutput['kind'];
  sensor: string;
  body: string;
  createdAt: number;
}

interface Batch {
  /** Packed journal entries, or undefined when there were none. */
  journal: { data: Buffer; count: number; firstReceived: number; lastReceived: number } | undefined;
  drafts: Draft[];
  rejections: Rejection[];
  checkpoint: { specs: string; state: string } | undefined;
}

const MAX_DRAFTS = 2000;
// Journal entries waiting before ingest is paused (in commitReadings batches).
const HIGH_WATER_BATCHES = 40;

export function createGroupCommit(opts: GroupCommitOptions): GroupCommit {
  const entries: JournalBatchWriter = createJournalBatch();
  // Batches cut but not committed (a failed commit puts its batch back here, in order).
  let retry: Batch[] = [];
  let pending = { drafts: [] as Draft[], rejections: [] as Rejection[] };
  let checkpointWanted = false;
  let checkpointed = 0;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let failing = false;
  let closed = false;
  const highWater = opts.commitReadings * HIGH_WATER_BATCHES;
  let caughtUp: Promise<void> | undefined;
  let release: (() => void) | undefined;
  const retrying = () => retry.reduce((n, b) => n + (b.journal?.count ?? 0) + b.drafts.length + b.rejections.length, 0);
  const waiting = () => entries.count + pending.drafts.length + pending.rejections.length + retrying();
  const checkPressure = () => {
    if (release && waiting() < highWater / 2) {
      release();
      release = undefined;
      caughtUp = undefined;
    }
  };

  const schedule = () => {
    if (timer || closed) return;
    timer = setTimeout(() => {
      timer = undefined;
      void flush();
    }, opts.commitIntervalMs);
  };

  const cut = (): Batch => {
    const journal =
      entries.count > 0
        ? { count: entries.count, firstReceived: entries.firstReceived, lastReceived: entries.lastReceived, data: entries.take() }
        : undefined;
    const batch: Batch = { journal, drafts: pending.drafts, rejections: pending.rejections, checkpoint: undefined };
    // The snapshot is taken here, synchronously, so it matches exactly what this batch holds.
    if (checkpointWanted) {
      batch.checkpoint = opts.snapshot();
      checkpointWanted = false;
    }
    pending = { drafts: [], rejections: [] };
    return batch;
  };

  /** Commits one batch; false (and the batch untouched) when the transaction failed. */
  const commit = async (batch: Batch): Promise<boolean> => {
    try {
      let journalId: number | undefined;
      await opts.db.transaction(async (tx) => {
        if (batch.journal) journalId = await appendJournalTx(tx, batch.journal.data, batch.journal.count, batch.journal.firstReceived, batch.journal.lastReceived);
        const first = opts.outbox.nextSeq();
        await opts.outbox.appendTx(
          tx,
          (seq) => {
            const d = batch.drafts[seq - first]!;
            return { kind: d.kind, sensor: d.sensor, payload: wrapBody(opts.device, seq, d.body), createdAt: d.createdAt };
          },
          batch.drafts.length,
        );
        if (batch.rejections.length > 0) await insertDeadLettersTx(tx, batch.rejections);
        if (batch.checkpoint) {
          const covered = journalId ?? (await tx.get<{ id: number | null }>('SELECT MAX(id) AS id FROM journal'))?.id ?? 0;
          await saveCheckpointTx(tx, { journalId: covered, nextSeq: opts.outbox.nextSeq(), ...batch.checkpoint, createdAt: opts.clock() });
          journalId = covered;
        }
      });
      opts.outbox.settle(true);
      if (batch.checkpoint) checkpointed = journalId ?? checkpointed;
      if (failing) opts.log.info('store writable again; buffered data committed');
      failing = false;
      if (batch.drafts.length > 0) opts.onCommitted();
      return true;
    } catch (err) {
      opts.outbox.settle(false);
      if (!failing) opts.log.error({ err: (err as Error).message, waiting: waiting() }, 'store commit failed; keeping data in memory and retrying');
      failing = true;
      schedule();
      return false;
    }
  };

  const flush = (): Promise<void> => {
    const run = async () => {
      if (running) await running;
      if (waiting() === 0 && !checkpointWanted) return;
      // Batches that failed before go first, in order; a checkpoint is never retried stale.
      const batches = [...retry, cut()];
      retry = [];
      for (let i = 0; i < batches.length; i++) {
        if (!(await commit(batches[i]!))) {
          retry = batches.slice(i).map((b) => {
            if (b.checkpoint) checkpointWanted = true;
            return { ...b, checkpoint: undefined };
          });
          return;
        }
      }
      checkPressure();
      // Falling behind: go again at once rather than wait for the timer.
      if (entries.count >= opts.commitReadings || pending.drafts.length >= MAX_DRAFTS) void flush();
    };
    const p = run().finally(() => {
      if (running === p) running = undefined;
    });
    running = p;
    return p;
  };

  const grew = () => {
    // One flush in flight or queued is enough: it takes everything pending when its turn comes.
    if ((entries.count >= opts.commitReadings || pending.drafts.length >= MAX_DRAFTS) && !running) void flush();
    else schedule();
  };

  return {
    reading(sensor, ts, value, receivedAt, late) {
      if (!opts.journal) return;
      entries.reading(sensor, ts, value, receivedAt, late);
      grew();
    },
    tick(now) {
      if (!opts.journal) return;
      entries.tick(now);
      schedule();
    },
    shift(deltaMs, now) {
      if (!opts.journal) return;
      entries.shift(deltaMs, now);
      schedule();
    },
    write(output, createdAt) {
      pending.drafts.push({ kind: output.kind, sensor: output.sensor, body: renderBody(opts.device, output), createdAt });
      grew();
    },
    reject(rejection) {
      pending.rejections.push(rejection);
      schedule();
    },
    requestCheckpoint() {
      checkpointWanted = true;
      schedule();
    },
    flush,
    async close() {
      closed = true;
      clearTimeout(timer);
      timer = undefined;
      checkpointWanted = true;
      await flush();
    },
    waiting,
    writable: () => !failing,
    checkpointedJournalId: () => checkpointed,
    ready() {
      if (caughtUp) return caughtUp;
      if (waiting() < highWater) return undefined;
      caughtUp = new Promise<void>((resolve) => (release = resolve));
      if (!running) void flush();
      return caughtUp;
    },
  };
}
