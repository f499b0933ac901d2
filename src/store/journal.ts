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
  const total = (await db.get<{ bytes: number | null }>('SELECT SUM(length(data)) AS bytes FROM journal'))?.bytes ?? 0;
  let excess = total - r.maxBytes;
  if (excess <= 0) return readings;
  // Oldest first, a page at a time, until enough is freed (or nothing covered is left).
  let cutoff = 0;
  for (let after = 0; excess > 0; ) {
    const rows = await db.all<{ id: number; count: number; bytes: number }>(
      'SELECT id, count, length(data) AS bytes FROM journal WHERE id > ? AND id <= ? ORDER BY id LIMIT 1000',
      [after, r.coveredUpTo],
    );
    if (rows.length === 0) break;
    for (const row of rows) {
      if (excess <= 0) break;
      excess -= row.bytes;
      readings += row.count;
      cutoff = row.id;
    }
    after = rows[rows.length - 1]!.id;
  }
  if (cutoff > 0) await db.run('DELETE FROM journal WHERE id <= ?', [cutoff]);
  return readings;
}
