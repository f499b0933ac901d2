// Group commit: stream outputs and rejections collect in memory and are written together every
// `flushIntervalMs` (or sooner when many are waiting), one transaction per batch, with the
// seq counter advanced in that same transaction. A failed commit keeps the batch for the next
// try; nothing is dropped here.
import type { Database } from './sqlite.js';
import type { Outbox } from './outbox.js';
import { insertDeadLettersTx } from './dead-letters.js';
import type { StreamOutput } from '../stream/stream.js';
import type { Rejection } from '../stream/rejection.js';
import { renderBody, wrapBody } from '../stream/messages.js';
import type { Logger } from '../ops/logger.js';

export interface OutboxWriterOptions {
  db: Database;
  outbox: Outbox;
  device: string;
  flushIntervalMs: number;
  log: Logger;
  /** Called after each commit that added outbox rows (the uplink wakes up). */
  onCommitted: () => void;
  /** Flush early once this many items wait. */
  batchLimit?: number;
}

export interface OutboxWriter {
  write(output: StreamOutput, createdAt: number): void;
  reject(rejection: Rejection): void;
  /** Commits everything waiting now. */
  flush(): Promise<void>;
  /** Final flush; no timer afterwards. */
  close(): Promise<void>;
  waiting(): number;
  /** False while commits are failing (disk full, read-only, corrupt file). */
  writable(): boolean;
}

interface Draft {
  kind: StreamOutput['kind'];
  sensor: string;
  body: string;
  createdAt: number;
}

export function createOutboxWriter(opts: OutboxWriterOptions): OutboxWriter {
  const batchLimit = opts.batchLimit ?? 2000;
  let drafts: Draft[] = [];
  let rejections: Rejection[] = [];
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let failing = false;
  let closed = false;

  const schedule = () => {
    if (timer || closed) return;
    timer = setTimeout(() => {
      timer = undefined;
      void flush();
    }, opts.flushIntervalMs);
  };

  const commit = async () => {
    const batch = drafts;
    const rejected = rejections;
    drafts = [];
    rejections = [];
    try {
      await opts.db.transaction(async (tx) => {
        const first = opts.outbox.nextSeq();
        await opts.outbox.appendTx(
          tx,
          (seq) => {
            const d = batch[seq - first]!;
            return { kind: d.kind, sensor: d.sensor, payload: wrapBody(opts.device, seq, d.body), createdAt: d.createdAt };
          },
          batch.length,
        );
        if (rejected.length > 0) await insertDeadLettersTx(tx, rejected);
      });
      opts.outbox.settle(true);
      if (failing) opts.log.info('store writable again; buffered output committed');
      failing = false;
      if (batch.length > 0) opts.onCommitted();
    } catch (err) {
      opts.outbox.settle(false);
      drafts = batch.concat(drafts);
      rejections = rejected.concat(rejections);
      if (!failing) opts.log.error({ err: (err as Error).message, waiting: drafts.length }, 'store commit failed; keeping output in memory and retrying');
      failing = true;
      schedule();
    }
  };

  const flush = (): Promise<void> => {
    const run = async () => {
      if (running) await running;
      if (drafts.length === 0 && rejections.length === 0) return;
      await commit();
    };
    const p = run().finally(() => {
      if (running === p) running = undefined;
    });
    running = p;
    return p;
  };

  return {
    write(output, createdAt) {
      drafts.push({ kind: output.kind, sensor: output.sensor, body: renderBody(opts.device, output), createdAt });
      if (drafts.length >= batchLimit) void flush();
      else schedule();
    },
    reject(rejection) {
      rejections.push(rejection);
      schedule();
    },
    flush,
    async close() {
      closed = true;
      clearTimeout(timer);
      timer = undefined;
      await flush();
    },
    waiting: () => drafts.length + rejections.length,
    writable: () => !failing,
  };
}
