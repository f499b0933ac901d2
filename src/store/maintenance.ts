// The store's housekeeping, run by the agent's schedules: retention of the journal and of dead
// letters, and SQLite's own upkeep. The SQL lives here, not in the agent.
import type { Database } from './sqlite.js';
import { trimJournal } from './journal.js';

export interface RetentionResult {
  journalReadings: number;
  deadLetters: number;
}

/**
 * Journal older than `journalBefore` (epoch ms) or beyond `journalMaxBytes`, never past what a
 * checkpoint covers (`coveredUpTo`), and dead letters received before `deadLettersBefore`.
 */
export async function applyRetention(
  db: Database,
  o: { journalBefore: number; journalMaxBytes: number; coveredUpTo: number; deadLettersBefore: number },
): Promise<RetentionResult> {
  const journalReadings = await trimJournal(db, { before: o.journalBefore, maxBytes: o.journalMaxBytes, coveredUpTo: o.coveredUpTo });
  const gone = await db.run('DELETE FROM dead_letters WHERE received_at < ?', [o.deadLettersBefore]);
  return { journalReadings, deadLetters: gone.changes };
}

/** SQLite's statistics refresh, and the WAL folded back into the file (and truncated). */
export async function optimizeStore(db: Database): Promise<void> {
  await db.exec('PRAGMA optimize');
  await db.get('PRAGMA wal_checkpoint(TRUNCATE)');
}
