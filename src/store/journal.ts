// The journal of raw readings: every admitted reading, in processing order, plus a marker for
// each wall-clock tick that changed window state. One row per group commit holds that
// commit's entries (journal-codec.ts), so the checkpoint's journal position is a whole batch.
// Replaying it from a checkpoint re-creates the stream's state and outputs exactly.
import type { Database, Executor } from './sqlite.js';
import { decodeJournalBatch, type JournalEntryView } from './journal-codec.js';
import { trimOldest } from './trim-oldest.js';

export interface JournalBatchRow {
  id: number;
  count: number;
  first_received: number;
  last_received: number;
  data: Buffer;
}

export async function appendJournalTx(tx: Executor, data: Buffer, count: number, firstReceived: number, lastReceived: number): Promise<number> {
  const r = await tx.run('INSERT INTO journal (count, first_received, last_received, data) VALUES (?, ?, ?, ?)', [count, firstReceived, lastReceived, data]);
  return r.lastID;
}

/** Visits every entry in batches after `afterId`, in order; `maxBatches` rows are read at a time. */
/** `onBadBatch`: a batch that cannot be decoded is skipped (never a crash loop at every start). */
export async function replayJournal(db: Database, afterId: number, visit: (e: JournalEntryView, batchId: number) => void, maxBatches = 200, onBadBatch?: (id: number, err: unknown) => void): Promise<number> {
  let entries = 0;
  for (let after = afterId; ; ) {
    const rows = await db.all<JournalBatchRow>('SELECT id, count, first_received, last_received, data FROM journal WHERE id > ? ORDER BY id LIMIT ?', [after, maxBatches]);
    for (const row of rows) {
      try {
        decodeJournalBatch(row.data, (e) => visit(e, row.id));
      } catch (err) {
        if (!onBadBatch) throw err;
        onBadBatch(row.id, err);
      }
      entries += row.count;
    }
    if (rows.length < maxBatches) return entries;
    after = rows[rows.length - 1]!.id;
  }
}

export interface JournalRetention {
  /** Delete batches whose newest entry was received before this (epoch ms). */
  before: number;
  /** Then delete the oldest batches until the journal's data is at most this many bytes. */
  maxBytes: number;
  /** Never delete past this batch: the latest checkpoint does not cover later ones. */
  coveredUpTo: number;
}

/** Time, then size retention. Returns the readings deleted. */
export async function trimJournal(db: Database, r: JournalRetention): Promise<number> {
  let readings = 0;
  const old = await db.get<{ n: number | null }>('SELECT SUM(count) AS n FROM journal WHERE id <= ? AND last_received < ?', [r.coveredUpTo, r.before]);
  if ((old?.n ?? 0) > 0) {
    await db.run('DELETE FROM journal WHERE id <= ? AND last_received < ?', [r.coveredUpTo, r.before]);
    readings += old!.n!;
  }
  const excess = (await journalBytes(db)) - r.maxBytes;
  if (excess > 0) readings += await trimOldest(db, { table: 'journal', bytes: 'length(data)', counts: 'count', maxId: r.coveredUpTo }, excess);
  return readings;
}

export async function journalBytes(db: Database): Promise<number> {
  return (await db.get<{ bytes: number | null }>('SELECT SUM(length(data)) AS bytes FROM journal'))?.bytes ?? 0;
}
