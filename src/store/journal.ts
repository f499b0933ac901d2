// The journal of raw readings: every admitted reading, in processing order, plus a marker for
// each wall-clock tick that changed window state. Replaying it from a checkpoint re-creates
// the stream's state and outputs exactly; `outpost replay` re-runs it through a pipeline.
import type { Database, Executor } from './sqlite.js';
import { insertRows } from './sqlite.js';

export interface JournalRow {
  id: number;
  /** null: a tick at `ts` (wall clock). */
  sensor: string | null;
  ts: number;
  value: number | null;
  received_at: number;
  late: number;
}

/** A reading (sensor set) or a tick (sensor null), before it has an id. */
export interface JournalEntry {
  sensor: string | null;
  ts: number;
  value: number | null;
  receivedAt: number;
  late: boolean;
}

/** Appends entries; returns the id of the last one (ids are SQLite rowids, rising). */
export async function appendJournalTx(tx: Executor, entries: readonly JournalEntry[]): Promise<number | undefined> {
  if (entries.length === 0) return undefined;
  const rows = entries.map((e) => [e.sensor, e.ts, e.value, e.receivedAt, e.late ? 1 : 0]);
  let last = 0;
  await insertRows(tx, 'INSERT INTO journal (sensor, ts, value, received_at, late)', 5, rows, 200, (id) => (last = id));
  return last;
}

export function readJournalAfter(db: Database, id: number, limit: number): Promise<JournalRow[]> {
  return db.all<JournalRow>('SELECT id, sensor, ts, value, received_at, late FROM journal WHERE id > ? ORDER BY id LIMIT ?', [id, limit]);
}

export async function lastJournalId(db: Database): Promise<number> {
  return (await db.get<{ id: number | null }>('SELECT MAX(id) AS id FROM journal'))?.id ?? 0;
}

/**
 * Time retention: deletes rows received before `before`, but never a row the latest
 * checkpoint does not cover (recovery needs those). Returns the number deleted.
 */
export async function trimJournal(db: Database, before: number, coveredUpTo: number): Promise<number> {
  const r = await db.run('DELETE FROM journal WHERE id <= ? AND received_at < ?', [coveredUpTo, before]);
  return r.changes;
}
