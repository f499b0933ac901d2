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
import { appendJournalTx, type JournalEntry } from './journal.js';
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
}

interface Draft {
  kind: StreamOutput['kind'];
  sensor: string;
  body: string;
  createdAt: number;
}

interface Batch {
  entries: JournalEntry[];
  drafts: Draft[];
  rejections: Rejection[];
  checkpoint: { specs: string; state: string } | undefined;
}

const MAX_DRAFTS = 2000;

export function createGroupCommit(opts: GroupCommitOptions): GroupCommit {
  let pending: Batch = { entries: [], drafts: [], rejections: [], checkpoint: undefined };
  let checkpointWanted = false;
  let checkpointed = 0;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let failing = false;
  let closed = false;

  const schedule = () => {
    if (timer || closed) return;
    timer = setTimeout(() => {
      timer = undefined;
      void flush();
    }, opts.commitIntervalMs);
  };

  const cut = (): Batch => {
    const batch = pending;
    // The snapshot is taken here, synchronously, so it matches exactly what this batch holds.
    if (checkpointWanted) {
      batch.checkpoint = opts.snapshot();
      checkpointWanted = false;
    }
    pending = { entries: [], drafts: [], rejections: [], checkpoint: undefined };
    return batch;
  };

  const commit = async (batch: Batch) => {
    try {
      let journalId: number | undefined;
      await opts.db.transaction(async (tx) => {
        journalId = await appendJournalTx(tx, batch.entries);
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
    } catch (err) {
      opts.outbox.settle(false);
      // Put the batch back in front of what arrived meanwhile; a checkpoint is retaken later.
      pending = {
        entries: batch.entries.concat(pending.entries),
        drafts: batch.drafts.concat(pending.drafts),
        rejections: batch.rejections.concat(pending.rejections),
        checkpoint: undefined,
      };
      if (batch.checkpoint) checkpointWanted = true;
      if (!failing) opts.log.error({ err: (err as Error).message, waiting: pending.entries.length + pending.drafts.length }, 'store commit failed; keeping data in memory and retrying');
      failing = true;
      schedule();
    }
  };

  const flush = (): Promise<void> => {
    const run = async () => {
      if (running) await running;
      const empty = pending.entries.length === 0 && pending.drafts.length === 0 && pending.rejections.length === 0;
      if (empty && !checkpointWanted) return;
      await commit(cut());
    };
    const p = run().finally(() => {
      if (running === p) running = undefined;
    });
    running = p;
    return p;
  };

  const grew = () => {
    if (pending.entries.length >= opts.commitReadings || pending.drafts.length >= MAX_DRAFTS) void flush();
    else schedule();
  };

  return {
    reading(sensor, ts, value, receivedAt, late) {
      if (!opts.journal) return;
      pending.entries.push({ sensor, ts, value, receivedAt, late });
      grew();
    },
    tick(now) {
      if (!opts.journal) return;
      pending.entries.push({ sensor: null, ts: now, value: null, receivedAt: now, late: false });
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
    waiting: () => pending.entries.length + pending.drafts.length + pending.rejections.length,
    writable: () => !failing,
    checkpointedJournalId: () => checkpointed,
  };
}
