// The journal of raw readings: every admitted reading, in processing order, plus a marker for
// each wall-clock tick that changed window state. One row per group commit holds that
// commit's entries (journal-codec.ts), so the checkpoint's journal position is a whole batch.
// Replaying it from a checkpoint re-creates the stream's state and outputs exactly.
import type { Database, Executor } from './sqlite.js';
import { decodeJournalBatch, type JournalEntryView } from './journal-codec.js';

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
export async function replayJournal(db: Database, afterId: number, visit: (e: JournalEntryView, batchId: number) => void, maxBatches = 200): Promise<number> {
  let entries = 0;
  for (let after = afterId; ; ) {
    const rows = await db.all<JournalBatchRow>('SELECT id, count, first_received, last_received, data FROM journal WHERE id > ? ORDER BY id LIMIT ?', [after, maxBatches]);
    for (const row of rows) {
      decodeJournalBatch(row.data, (e) => visit(e, row.id));
      entries += row.count;
    }
    if (rows.length < maxBatches) return entries;
    after = rows[rows.length - 1]!.id;
  }
}

/**
 * Time retention: deletes batches whose newest entry was received before `before`, but never a
 * batch the latest checkpoint does not cover (recovery needs those). Returns batches deleted.
 */
export async function trimJournal(db: Database, before: number, coveredUpTo: number): Promise<number> {
  const r = await db.run('DELETE FROM journal WHERE id <= ? AND last_received < ?', [coveredUpTo, before]);
  return r.changes;
}
