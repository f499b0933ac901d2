// The stream checkpoint: one row, replaced in the same transaction as the journal rows and
// outbox rows it is consistent with.
import type { Database, Executor } from './sqlite.js';

export interface Checkpoint {
  journalId: number;
  nextSeq: number;
  specs: string;
  state: string;
  createdAt: number;
}

export async function saveCheckpointTx(tx: Executor, c: Checkpoint): Promise<void> {
  await tx.run('INSERT OR REPLACE INTO checkpoint (id, journal_id, next_seq, specs, state, created_at) VALUES (1, ?, ?, ?, ?, ?)', [
    c.journalId,
    c.nextSeq,
    c.specs,
    c.state,
    c.createdAt,
  ]);
}

export async function loadCheckpoint(db: Database): Promise<Checkpoint | undefined> {
  const row = await db.get<{ journal_id: number; next_seq: number; specs: string; state: string; created_at: number }>(
    'SELECT journal_id, next_seq, specs, state, created_at FROM checkpoint WHERE id = 1',
  );
  return row && { journalId: row.journal_id, nextSeq: row.next_seq, specs: row.specs, state: row.state, createdAt: row.created_at };
}
