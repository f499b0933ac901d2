// Group commit: everything the agent must keep (journal entries, stream outputs, rejections,
// and now and then a checkpoint of the stream state) collects in memory and is written in ONE
// transaction every `commitIntervalMs` (or sooner when `commitReadings` readings wait). The
// batch is cut synchronously, so a checkpoint taken at the cut covers exactly the journal
// entries and outputs up to it: a restart that loads it and replays the journal after it
// re-creates the same outputs with the same seqs. Seqs are reserved at the cut, in emission
// order. A failed commit keeps its batch (held-batches.ts: bounded, coalesced, sent live by
// the uplink), retried once a second and committed in bounded pieces when the store is back.
import { createJournalBatch, type JournalBatchWriter } from './journal-codec.js';
import { describeUnkept, writeBatchesTx } from './commit-batches.js';
import { createBackpressure } from './backpressure.js';
import { batchBytes, createHeldBatches, PIECE_BYTES, type Batch, DEFAULT_HELD_LIMITS } from './held-batches.js';
import { classifyStoreError, STORE_PROBLEM_ADVICE, type StoreProblem } from './store-errors.js';
import type { GroupCommit, GroupCommitOptions, OutsideMessage } from './group-commit-types.js';
import { isPriority, type OutboxMessage } from './outbox.js';
import type { StreamOutput } from '../stream/stream.js';
import type { Rejection } from '../stream/rejection.js';

type Draft = { output: StreamOutput; createdAt: number } | { outside: OutsideMessage; createdAt: number };

const MAX_DRAFTS = 2000;
// Journal entries waiting before ingest is paused (in commitReadings batches).
const HIGH_WATER_BATCHES = 40;
/**
 * Dead-letter bytes one commit takes at most. Past it a flood of bad input is shed (counted in
 * health's store.shed.deadLetters), so dead letters can never make a commit outgrow the byte
 * budget or crowd out readings.
 */
const MAX_REJECTION_BYTES_PER_COMMIT = 256 * 1024;
const rejectionBytes = (r: Rejection) => 256 + (r.payload?.length ?? 0) + r.detail.length;
/** Commit attempts while the store fails: at most one a second. */
const FAILING_RETRY_MS = 1000;

export function createGroupCommit(opts: GroupCommitOptions): GroupCommit {
  const entries: JournalBatchWriter = createJournalBatch();
  const held = createHeldBatches(opts.held ?? DEFAULT_HELD_LIMITS);
  let pending = { drafts: [] as Draft[], rejections: [] as Rejection[] };
  let pendingRejectionBytes = 0;
  let acks: Array<() => void> = [];
  const settleAcks = (batches: Batch[]) => {
    for (const b of batches) {
      for (const ack of b.acks ?? []) ack();
      b.acks = undefined;
    }
  };
  let shedRejections = 0;
  let checkpointWanted = false;
  let checkpointed = 0;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let failure: { problem: StoreProblem; error: string; since: number } | undefined;
  let commitStarted: number | undefined;
  let closed = false;
  let closing: Promise<void> | undefined; // close(), once
  const pressure = createBackpressure(opts.commitReadings * HIGH_WATER_BATCHES);
  const waiting = () => entries.count + pending.drafts.length + pending.rejections.length + held.waiting();
  const checkPressure = () => pressure.check(waiting(), failure !== undefined);

  let timerDue = Infinity;
  let firstSummary = true;
  /**
   * A commit at most commitIntervalMs from now when `urgent`, else at most the quiet interval
   * (an earlier one already set stands; an urgent one brings a quiet one forward).
   */
  const schedule = (urgent = true) => {
    if (closed) return;
    // While the store fails, retry once a second at most: each attempt cuts a batch to hold.
    const delay = failure ? Math.max(opts.commitIntervalMs, FAILING_RETRY_MS) : urgent ? opts.commitIntervalMs : Math.max(opts.commitIntervalMs, opts.quietCommitIntervalMs ?? opts.commitIntervalMs);
    const due = performance.now() + delay;
    if (timer && timerDue <= due) return;
    clearTimeout(timer);
    timerDue = due;
    timer = setTimeout(() => {
      timer = undefined;
      timerDue = Infinity;
      void flush();
    }, delay);
  };

  const cut = (): Batch => {
    const journal = entries.count > 0 ? [{ count: entries.count, firstReceived: entries.firstReceived, lastReceived: entries.lastReceived, data: entries.take() }] : [];
    const drafts = pending.drafts;
    const first = opts.outbox.reserve(drafts.length);
    const rows = drafts.map((d, i): OutboxMessage => {
      if ('outside' in d) {
        const m = d.outside;
        return { seq: first + i, kind: m.kind, sensor: m.sensor, createdAt: d.createdAt, sketch: null, outside: true, ...m.render(first + i), ...(m.command && { command: m.command }) };
      }
      const o = d.output;
      return { seq: first + i, kind: o.kind, sensor: o.sensor, createdAt: d.createdAt, ...opts.encode(first + i, o) };
    });
    const batch: Batch = { journal, rows, nextSeq: first + drafts.length, rejections: pending.rejections, checkpoint: undefined, acks };
    acks = [];
    // The snapshot is taken here, synchronously, so it matches exactly what this batch holds.
    if (checkpointWanted) {
      batch.checkpoint = opts.snapshot();
      checkpointWanted = batch.checkpoint === undefined;
    }
    pending = { drafts: [], rejections: [] };
    pendingRejectionBytes = 0;
    return batch;
  };

  /** Commits batches in one transaction; false (and the batches untouched) when it failed. */
  const commit = async (batches: Batch[]): Promise<boolean> => {
    await opts.hooks?.beforeCommit(batches.reduce((n, b) => n + batchBytes(b), 0));
    const checkpointAt = await opts.db.transaction((tx) => writeBatchesTx(tx, batches, opts.outbox, (seq) => held.isDelivered(seq), opts.clock()));
    opts.outbox.settle(true);
    settleAcks(batches);
    if (checkpointAt !== undefined) checkpointed = checkpointAt;
    held.forgetBelow(batches[batches.length - 1]!.nextSeq);
    return true;
  };

  const failed = (err: unknown, batches: Batch[]) => {
    opts.outbox.settle(false);
    const error = (err as Error).message;
    const problem = classifyStoreError(err);
    if (!failure) {
      failure = { problem, error, since: opts.clock() };
      opts.log.error({ err: error, problem, advice: STORE_PROBLEM_ADVICE[problem], waiting: waiting() }, 'store cannot commit: holding data in memory (bounded) and sending messages live while online');
    } else failure = { ...failure, problem, error };
    // A checkpoint is never retried stale: the next cut takes a fresh one.
    for (const b of batches) {
      if (b.checkpoint) checkpointWanted = true;
      b.checkpoint = undefined;
    }
    settleAcks(batches); // held in memory now: see durable()
    const before = { ...held.shed };
    held.hold(batches);
    const s = held.shed;
    if (s.journalReadings + s.summaries + s.anomalies + s.deadLetters > before.journalReadings + before.summaries + before.anomalies + before.deadLetters) {
      opts.log.warn({ shed: s }, 'store still failing: memory bound reached, oldest held data shed (counted in health)');
    }
    if (held.takeJournalGap()) checkpointWanted = true;
    checkPressure();
    schedule();
  };

  const flush = (): Promise<void> => {
    const run = async () => {
      // Always yield first, even with no commit in flight: a flush asked for from inside a
      // reading's handling (size-triggered, in writer.reading()) must not cut before that
      // reading's outputs are handed over, or the checkpoint would cover the state change and
      // not its outputs, which a crash then loses for good (recovery replays only after it).
      await running;
      // Held batches count as work even when they hold nothing countable (a checkpoint, acks,
      // or rows all delivered live: their counter must still be committed).
      if (waiting() === 0 && !checkpointWanted && held.batches.length === 0) {
        // Nothing to make durable (a reading held for the clock, or no journal): answer now.
        const now = acks;
        acks = [];
        for (const ack of now) ack();
        return;
      }
      // Everything held, then the new cut, in order; committed a bounded piece at a time (the
      // rest goes right after), so held work can never outgrow what one transaction may write.
      held.append(cut());
      const batches = held.takePiece(PIECE_BYTES);
      let rows = 0;
      let anomalies = 0;
      for (const b of batches) {
        rows += b.rows.length;
        for (const r of b.rows) if (isPriority(r.kind)) anomalies++;
      }
      commitStarted = opts.clock();
      try {
        await commit(batches);
      } catch (err) {
        if (await opts.hooks?.afterFull(err).catch(() => false)) {
          // The budget's page cap, now with room made: go again at once.
          try {
            await commit(batches);
          } catch (again) {
            failed(again, batches);
            if (rows > 0) opts.onQueued(anomalies);
            return;
          }
        } else {
          failed(err, batches);
          if (rows > 0) opts.onQueued(anomalies);
          return;
        }
      }
      if (failure) {
        opts.log.info({ downS: Math.round((opts.clock() - failure.since) / 1000), shed: held.shed }, 'store writable again; held data committed');
        failure = undefined;
      }
      if (rows > 0) opts.onQueued(anomalies);
      checkPressure();
      // Falling behind, or acknowledgements waiting: go again at once rather than wait for the timer.
      if (entries.count >= opts.commitReadings || pending.drafts.length >= MAX_DRAFTS || acks.length > 0 || held.batches.length > 0) void flush();
    };
    const p = run().finally(() => {
      commitStarted = undefined;
      if (running === p) running = undefined;
    });
    running = p;
    return p;
  };

  /**
   * At a stop while the store cannot commit: say what is lost, and try to keep at least the seq
   * counter (a one-row update may still fit where a batch does not), so the ids of messages
   * sent live from memory are not handed out again after the restart.
   */
  const reportUnkept = async () => {
    const all = held.take();
    const lost = describeUnkept(all, entries.count, opts.device);
    settleAcks(all);
    const next = opts.outbox.nextSeq();
    let counterKept = true;
    try {
      await opts.db.run("UPDATE meta SET value = ? WHERE key = 'next_seq' AND value < ?", [next, next]);
    } catch {
      counterKept = false;
    }
    opts.log.error(
      { ...lost, problem: failure?.problem, counterKept },
      counterKept
        ? 'stopping while the store cannot commit: this held data is lost (the seq counter was kept, so no id is reused)'
        : 'stopping while the store cannot commit: this held data is lost, and the seq counter could not be saved: ids sent live since the fault may be reused after the restart',
    );
  };

  const grew = (urgent: boolean) => {
    // One flush in flight or queued is enough: it takes everything pending when its turn comes.
    if (!failure && (entries.count >= opts.commitReadings || pending.drafts.length >= MAX_DRAFTS) && !running) void flush();
    else schedule(urgent);
  };

  /** A journal entry that is not a reading (a tick, a clock jump, an availability). */
  const journaled = (add: () => void) => {
    if (!opts.journal) return;
    add();
    schedule(false);
  };

  return {
    reading(sensor, ts, value, receivedAt, late) {
      if (!opts.journal) return;
      entries.reading(sensor, ts, value, receivedAt, late);
      grew(false); // a reading someone waits for asks through durable()
    },
    tick: (now) => journaled(() => entries.tick(now)),
    shift: (deltaMs, now) => journaled(() => entries.shift(deltaMs, now)),
    availability: (device, online, at) => journaled(() => entries.availability(device, online, at)),
    write(output, createdAt) {
      pending.drafts.push({ output, createdAt });
      // Anomalies and events go upstream first: committed soon. Summaries can wait for the quiet
      // commit, except the first after a start (a restarted agent shows it is back at once).
      grew(output.kind !== 'summary' || firstSummary);
      if (output.kind === 'summary') firstSummary = false;
    },
    writeOutside(outside, createdAt) {
      pending.drafts.push({ outside, createdAt });
      grew(true); // a command's reply
    },
    reject(rejection) {
      const bytes = rejectionBytes(rejection);
      if (pendingRejectionBytes + bytes > MAX_REJECTION_BYTES_PER_COMMIT) {
        shedRejections++;
        if (Number.isInteger(Math.log10(shedRejections))) opts.log.warn({ shed: shedRejections }, 'dead letters arrive faster than one commit may keep: the excess is counted (store.shed.deadLetters) and not kept');
        return;
      }
      pendingRejectionBytes += bytes;
      pending.rejections.push(rejection);
      schedule(false);
    },
    requestCheckpoint() {
      checkpointWanted = true;
      schedule(false);
    },
    flush,
    // Once: a second close (the agent's, after its stream's) commits nothing more.
    close: () =>
      (closing ??= (async () => {
        closed = true;
        clearTimeout(timer);
        timer = undefined;
        checkpointWanted = true;
        await flush();
        // Drain held pieces while commits succeed; stop when one makes no progress.
        for (let before = Infinity; held.batches.length > 0 && !failure && held.batches.length < before; ) {
          before = held.batches.length;
          await flush();
        }
        if (held.batches.length > 0 || waiting() > 0) await reportUnkept();
      })()),
    waiting,
    writable: () => !failure,
    busyFor: (now) => (commitStarted === undefined ? 0 : Math.max(0, now - commitStarted)),
    health: () => ({
      writable: !failure,
      problem: failure?.problem ?? null,
      error: failure?.error ?? null,
      since: failure?.since ?? null,
      waiting: waiting(),
      heldMessages: held.batches.reduce((n, b) => n + b.rows.length, 0),
      heldBatches: held.batches.length,
      shed: { ...held.shed, deadLetters: held.shed.deadLetters + shedRejections },
    }),
    checkpointedJournalId: () => checkpointed,
    ready: () => pressure.ready(waiting(), failure !== undefined, () => void (running ?? flush())),
    durable() {
      // The store cannot commit: what was handed over is held in memory now (health says so);
      // the sensor is not stalled by a full disk, and no commit attempt per message.
      if (failure) return Promise.resolve();
      return new Promise<void>((resolve) => {
        acks.push(resolve);
        // The commit interval bounds the wait, it is not a fixed delay: commit now, or right
        // after the commit in flight (its tail goes again while acknowledgements wait). Each
        // acknowledged message can so cost a commit of its own when sensors are sparse (more
        // SD-card writes than the timed commits: docs/store-and-forward.md#power-loss).
        if (!running) void flush();
        else schedule();
      });
    },
    // Lent to the uplink only while the store fails; otherwise held pieces are about to commit.
    // Nothing while a piece is out for a commit attempt: the drain would read past its seqs, and
    // if the attempt succeeds they land in the outbox behind the drain's cursor.
    unwritten: (kind, afterSeq, limit) => (failure && !held.committing() ? held.unwritten(kind, afterSeq, limit) : []),
    delivered: (seq) => held.delivered(seq),
  };
}
