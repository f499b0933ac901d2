// Batches the group commit has cut but could not commit yet (disk full, read-only file system,
// I/O errors). They wait here, in order, bounded in memory, while the agent keeps running:
// - their messages already have seqs, so the uplink can send them live (the memory lane) and
//   the commit that finally succeeds skips those that were delivered;
// - past the bounds, the oldest journal data goes first (the stream keeps its state in memory;
//   only a crash before the disk returns would miss those readings), then the oldest
//   summaries, then dead letters; anomalies are kept longest. Everything shed is counted.
import type { OutboxMessage, OutboxRow, MessageKind } from './outbox.js';
import type { Rejection } from '../stream/rejection.js';

export interface Batch {
  /** Packed journal entries, or undefined when there were none (or they were shed). */
  journal: { data: Buffer; count: number; firstReceived: number; lastReceived: number } | undefined;
  rows: OutboxMessage[];
  /** The seq after this batch's last row (the stored counter after it commits). */
  nextSeq: number;
  rejections: Rejection[];
  checkpoint: { specs: string; state: string } | undefined;
  /** Acknowledgements waiting for this batch to be durable (ack-after-commit); run once. */
  acks?: Array<() => void>;
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
  /** Puts failed batches back (in order, ahead of anything newer) and applies the limits. */
  hold(batches: Batch[]): void;
  /** Takes every held batch, oldest first. */
  take(): Batch[];
  waiting(): number;
  /** Held messages of one class after `seq`, in seq order, not yet delivered. */
  unwritten(kind: MessageKind, afterSeq: number, limit: number): OutboxRow[];
  /** A held message reached the fleet broker: the commit will not insert it. */
  delivered(seq: number): void;
  isDelivered(seq: number): boolean;
  /** Forget delivery marks below `seq` (their batches committed). */
  forgetBelow(seq: number): void;
  /** Whether journal data was shed since the last call (the next commit must checkpoint). */
  takeJournalGap(): boolean;
  readonly shed: ShedCounts;
}

export function createHeldBatches(limits: HeldLimits): HeldBatches {
  let batches: Batch[] = [];
  const deliveredSeqs = new Set<number>();
  const shed: ShedCounts = { journalReadings: 0, summaries: 0, anomalies: 0, deadLetters: 0 };
  let journalGap = false;

  const count = (f: (b: Batch) => number) => batches.reduce((n, b) => n + f(b), 0);

  const enforce = () => {
    let journal = count((b) => b.journal?.count ?? 0);
    for (const b of batches) {
      if (journal <= limits.journalEntries) break;
      if (!b.journal) continue;
      journal -= b.journal.count;
      shed.journalReadings += b.journal.count;
      b.journal = undefined;
      journalGap = true;
    }
    const dropOldest = (kind: MessageKind, over: number) => {
      for (const b of batches) {
        if (over <= 0) return;
        b.rows = b.rows.filter((r) => {
          if (over <= 0 || r.kind !== kind) return true;
          over--;
          shed[kind === 'summary' ? 'summaries' : 'anomalies']++;
          return false;
        });
      }
    };
    const messages = count((b) => b.rows.length);
    if (messages > limits.messages) dropOldest('summary', messages - limits.messages);
    const anomalies = count((b) => b.rows.filter((r) => r.kind === 'anomaly').length);
    if (anomalies > 2 * limits.messages) dropOldest('anomaly', anomalies - 2 * limits.messages);
    let rejections = count((b) => b.rejections.length);
    for (const b of batches) {
      if (rejections <= limits.rejections) break;
      const cut = Math.min(b.rejections.length, rejections - limits.rejections);
      b.rejections = b.rejections.slice(cut);
      rejections -= cut;
      shed.deadLetters += cut;
    }
  };

  return {
    get batches() {
      return batches;
    },
    hold(failed) {
      batches = [...failed, ...batches];
      enforce();
    },
    take() {
      const all = batches;
      batches = [];
      return all;
    },
    waiting: () => count((b) => (b.journal?.count ?? 0) + b.rows.length + b.rejections.length),
    unwritten(kind, afterSeq, limit) {
      const out: OutboxRow[] = [];
      for (const b of batches) {
        for (const r of b.rows) {
          if (r.kind !== kind || r.seq <= afterSeq || deliveredSeqs.has(r.seq)) continue;
          out.push({ seq: r.seq, kind: r.kind, sensor: r.sensor, payload: r.payload, bytes: Buffer.byteLength(r.payload) });
          if (out.length >= limit) return out;
        }
      }
      return out;
    },
    delivered: (seq) => void deliveredSeqs.add(seq),
    isDelivered: (seq) => deliveredSeqs.has(seq),
    forgetBelow(seq) {
      for (const s of deliveredSeqs) if (s < seq) deliveredSeqs.delete(s);
    },
    takeJournalGap() {
      const gap = journalGap;
      journalGap = false;
      return gap;
    },
    shed,
  };
}
