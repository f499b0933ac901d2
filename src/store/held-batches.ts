// Batches the group commit has cut but could not commit yet (disk full, read-only file system,
// I/O errors). They wait here, in order, bounded in memory, while the agent keeps running:
// - their messages already have seqs, so the uplink can send them live (the memory lane); a
//   message delivered that way leaves its batch (the commit that finally succeeds does not
//   insert it, and nothing per delivered message is kept for hours);
// - adjacent batches are coalesced up to PIECE_BYTES, so a fault of hours holds a few batches,
//   not one per commit interval (an empty cut adds nothing);
// - when the store is back, held work is committed a piece at a time (takePiece), each piece a
//   bounded transaction that fits the byte budget's page ceiling; one transaction of
//   everything might never fit again;
// - past the bounds, the oldest journal data goes first (the stream keeps its state in memory;
//   only a crash before the disk returns would miss those readings), then the oldest
//   summaries, then dead letters; anomalies are kept longest. Everything shed is counted.
import { isPriority, type OutboxMessage, type OutboxRow, type MessageKind } from './outbox.js';
import type { Rejection } from '../stream/rejection.js';

export interface JournalPiece {
  data: Buffer;
  count: number;
  firstReceived: number;
  lastReceived: number;
}

export interface Batch {
  /** Packed journal batches, oldest first (each becomes one journal row); empty when none. */
  journal: JournalPiece[];
  rows: OutboxMessage[];
  /** The seq after this batch's last row (the stored counter after it commits). */
  nextSeq: number;
  rejections: Rejection[];
  checkpoint: { specs: string; state: string } | undefined;
  /**
   * Rows not produced by the stream (outside) that left the batch unwritten (delivered live
   * from memory, or shed): their outside seq and command record must still be committed.
   */
  settled?: OutboxMessage[];
  /** Acknowledgements waiting for this batch to be durable (ack-after-commit); run once. */
  acks?: Array<() => void>;
  /** batchBytes(), kept by the held list while the batch is held (an upper bound: rows only ever leave). */
  bytes?: number;
  /** What it holds, kept by the held list (exact), so limits are checked without walking every row. */
  counts?: Counts;
}

interface Counts {
  journal: number;
  rows: number;
  anomalies: number;
  rejections: number;
}

function countsOf(b: Batch): Counts {
  let anomalies = 0;
  for (const r of b.rows) if (isPriority(r.kind)) anomalies++; // anomalies and events
  return { journal: b.journal.reduce((n, j) => n + j.count, 0), rows: b.rows.length, anomalies, rejections: b.rejections.length };
}

export interface HeldLimits {
  /** Journal entries kept in memory while the store cannot commit. */
  journalEntries: number;
  /** Messages kept in memory while the store cannot commit (anomalies may use twice this). */
  messages: number;
  rejections: number;
}

export interface ShedCounts {
  journalReadings: number;
  summaries: number;
  anomalies: number;
  deadLetters: number;
}

export interface HeldBatches {
  readonly batches: Batch[];
  /** Puts failed batches back (in order, ahead of anything newer), coalesces, applies the limits. */
  hold(batches: Batch[]): void;
  /** Adds a newly cut batch after everything held. */
  append(batch: Batch): void;
  /** Takes every held batch, oldest first. */
  take(): Batch[];
  /** Takes the oldest batches up to about `maxBytes` (at least one), for one bounded commit. */
  takePiece(maxBytes: number): Batch[];
  /** Held, and in the piece out for a commit attempt. */
  waiting(): number;
  /** A piece with messages is out for a commit attempt. */
  committing(): boolean;
  /** Held messages of one class after `seq`, in seq order. */
  unwritten(kind: MessageKind, afterSeq: number, limit: number): OutboxRow[];
  /** A held message reached the fleet broker: it leaves its batch, the commit will not insert it. */
  delivered(seq: number): void;
  /** Delivered while its batch was out being committed (the commit skips it). */
  isDelivered(seq: number): boolean;
  /** Forget delivery marks below `seq` (their batches committed). */
  forgetBelow(seq: number): void;
  /** Whether journal data was shed since the last call (the next commit must checkpoint). */
  takeJournalGap(): boolean;
  readonly shed: ShedCounts;
}

/** What is held while the store cannot commit, unless the agent says otherwise. */
export const DEFAULT_HELD_LIMITS: HeldLimits = { journalEntries: 200_000, messages: 10_000, rejections: 1_000 };

/** Bytes of journal, messages and dead letters a coalesced batch, and a commit piece, holds at most. */
export const PIECE_BYTES = 1 << 20;

export function batchBytes(b: Batch): number {
  if (b.bytes !== undefined) return b.bytes;
  let n = 0;
  for (const j of b.journal) n += j.data.length;
  for (const r of b.rows) n += r.payload.length + (r.sketch?.length ?? 0) + 64;
  n += b.rejections.length * 256;
  return b.checkpoint ? n + b.checkpoint.state.length + b.checkpoint.specs.length : n;
}

const isEmpty = (b: Batch) => b.journal.length === 0 && b.rows.length === 0 && b.rejections.length === 0 && !b.checkpoint;

export function createHeldBatches(limits: HeldLimits): HeldBatches {
  let batches: Batch[] = [];
  // Only messages delivered while their batch was taken out for a commit attempt: bounded by
  // what was in flight then, cleared once committed.
  const deliveredAway = new Set<number>();
  // Seqs of the piece out for a commit attempt (only those can be delivered "away").
  let away = { from: Infinity, to: -Infinity };
  // What that piece holds, still counted as waiting until it is committed or held again: in
  // between it is in no batch here and not yet in the outbox, and "nothing waiting, nothing
  // backlogged" must never be said while it is out.
  let awayWaiting = 0;
  const shed: ShedCounts = { journalReadings: 0, summaries: 0, anomalies: 0, deadLetters: 0 };
  let journalGap = false;

  const count = (f: (c: Counts) => number, of: readonly Batch[] = batches) => of.reduce((n, b) => n + f((b.counts ??= countsOf(b))), 0);
  /** What a batch holds that waits for a commit: journal rows, outbox rows and refusals. */
  const waitingIn = (c: Counts) => c.journal + c.rows + c.rejections;

  /**
   * Merges each batch into the one before it while both are small; drops empty ones (acks run
   * first). Only the newest checkpoint is kept (it supersedes the older ones), and a batch with
   * a checkpoint takes nothing after it: its checkpoint covers the journal up to its end.
   */
  const coalesce = () => {
    let newest = -1;
    batches.forEach((b, i) => {
      if (b.checkpoint) newest = i;
    });
    batches.forEach((b, i) => {
      if (i < newest) b.checkpoint = undefined;
    });
    const out: Batch[] = [];
    for (const b of batches) {
      b.bytes = batchBytes(b);
      b.counts ??= countsOf(b);
      const prev = out[out.length - 1];
      if (isEmpty(b) && !b.acks?.length && prev) {
        prev.nextSeq = Math.max(prev.nextSeq, b.nextSeq);
        if (b.settled?.length) (prev.settled ??= []).push(...b.settled);
        continue;
      }
      if (prev && !prev.checkpoint && prev.bytes! + b.bytes <= PIECE_BYTES) {
        prev.bytes! += b.bytes;
        const [p, c] = [prev.counts!, b.counts];
        prev.counts = { journal: p.journal + c.journal, rows: p.rows + c.rows, anomalies: p.anomalies + c.anomalies, rejections: p.rejections + c.rejections };
        for (const j of b.journal) prev.journal.push(j);
        for (const r of b.rows) prev.rows.push(r);
        for (const r of b.rejections) prev.rejections.push(r);
        if (b.settled?.length) (prev.settled ??= []).push(...b.settled);
        prev.nextSeq = Math.max(prev.nextSeq, b.nextSeq);
        if (b.acks?.length) (prev.acks ??= []).push(...b.acks);
        prev.checkpoint = b.checkpoint;
        continue;
      }
      out.push(b);
    }
    batches = out;
  };

  const enforce = () => {
    let journal = count((c) => c.journal);
    for (const b of batches) {
      while (journal > limits.journalEntries && b.journal.length > 0) {
        const gone = b.journal.shift()!;
        journal -= gone.count;
        b.counts!.journal -= gone.count;
        shed.journalReadings += gone.count;
        journalGap = true;
      }
      if (journal <= limits.journalEntries) break;
    }
    const dropOldest = (priority: boolean, over: number) => {
      for (const b of batches) {
        if (over <= 0) return;
        b.rows = b.rows.filter((r) => {
          if (over <= 0 || isPriority(r.kind) !== priority) return true;
          over--;
          shed[priority ? 'anomalies' : 'summaries']++;
          if (r.outside) (b.settled ??= []).push(r);
          return false;
        });
        b.counts = countsOf(b);
      }
    };
    const messages = count((c) => c.rows);
    if (messages > limits.messages) dropOldest(false, messages - limits.messages);
    const anomalies = count((c) => c.anomalies);
    if (anomalies > 2 * limits.messages) dropOldest(true, anomalies - 2 * limits.messages);
    let rejections = count((c) => c.rejections);
    for (const b of batches) {
      if (rejections <= limits.rejections) break;
      const cut = Math.min(b.rejections.length, rejections - limits.rejections);
      b.rejections = b.rejections.slice(cut);
      b.counts!.rejections -= cut;
      rejections -= cut;
      shed.deadLetters += cut;
    }
  };

  return {
    get batches() {
      return batches;
    },
    hold(failed) {
      // Delivered live while they were out for the commit attempt: they need no commit now.
      if (deliveredAway.size > 0) {
        for (const f of failed) {
          f.rows = f.rows.filter((r) => {
            if (!deliveredAway.delete(r.seq)) return true;
            if (r.outside) (f.settled ??= []).push(r);
            return false;
          });
          f.counts = undefined;
        }
      }
      away = { from: Infinity, to: -Infinity };
      awayWaiting = 0;
      batches = [...failed, ...batches];
      coalesce();
      enforce();
    },
    append(batch) {
      // Only the new batch and the last held one can merge: no need to walk the rest.
      const last = batches.pop();
      const tail = batches;
      batches = last ? [last, batch] : [batch];
      coalesce();
      batches = [...tail, ...batches];
    },
    take() {
      const all = batches;
      batches = [];
      return all;
    },
    takePiece(maxBytes) {
      let bytes = 0;
      let n = 0;
      while (n < batches.length && (n === 0 || bytes + batchBytes(batches[n]!) <= maxBytes)) bytes += batchBytes(batches[n++]!);
      const piece = batches.splice(0, n);
      away = { from: Infinity, to: -Infinity };
      awayWaiting = count(waitingIn, piece);
      for (const b of piece) {
        if (b.rows.length === 0) continue;
        away.from = Math.min(away.from, b.rows[0]!.seq);
        away.to = Math.max(away.to, b.rows[b.rows.length - 1]!.seq);
      }
      return piece;
    },
    waiting: () => count(waitingIn) + awayWaiting,
    committing: () => away.from !== Infinity,
    unwritten(kind, afterSeq, limit) {
      const out: OutboxRow[] = [];
      for (const b of batches) {
        for (const r of b.rows) {
          if (r.kind !== kind || r.seq <= afterSeq) continue;
          out.push({ seq: r.seq, kind: r.kind, sensor: r.sensor, payload: r.payload, bytes: Buffer.byteLength(r.payload), props: r.props ?? null });
          if (out.length >= limit) return out;
        }
      }
      return out;
    },
    delivered(seq) {
      for (const b of batches) {
        if (b.rows.length === 0 || b.rows[b.rows.length - 1]!.seq < seq) continue;
        const i = b.rows.findIndex((r) => r.seq === seq);
        if (i >= 0) {
          const [gone] = b.rows.splice(i, 1);
          if (gone!.outside) (b.settled ??= []).push(gone!);
          if (b.counts) {
            b.counts.rows--;
            if (isPriority(gone!.kind)) b.counts.anomalies--;
          }
          return;
        }
      }
      // Not held: in the piece out for a commit attempt (the commit skips it), or a committed
      // row from the outbox (nothing to do).
      if (seq >= away.from && seq <= away.to) deliveredAway.add(seq);
    },
    isDelivered: (seq) => deliveredAway.has(seq),
    forgetBelow(seq) {
      away = { from: Infinity, to: -Infinity };
      awayWaiting = 0;
      for (const s of deliveredAway) if (s < seq) deliveredAway.delete(s);
    },
    takeJournalGap() {
      const gap = journalGap;
      journalGap = false;
      return gap;
    },
    shed,
  };
}
