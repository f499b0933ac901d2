// Every query the CLI runs against the agent's database, in one place. With an agent running
// the CLI only reads, on a read-only connection (writes go through the agent's HTTP
// endpoint); without one, a write takes the same single-instance lock as `outpost run` and
// opens the file through the same code (openStore: WAL, migrations, seeds), so no agent can
// start in between and the file is never written behind one.
import { openDatabase, type Database } from './sqlite.js';
import { openStore } from './open-store.js';
import { lockStore } from './store-lock.js';
import { openOutbox, type OutboxMessage } from './outbox.js';
import { loadCheckpoint } from './checkpoint.js';
import { countDeadLetters, deadLetterWhere, type DeadLetterFilter, type DeadLetterRow } from './dead-letters.js';

/** `fn` with a read-only connection (the agent may be running). */
export async function readingStore<T>(path: string, fn: (db: Database) => Promise<T>): Promise<T> {
  const db = await openDatabase(path, { readonly: true });
  try {
    await db.exec('PRAGMA busy_timeout = 5000');
    return await fn(db);
  } finally {
    await db.close();
  }
}

/** `fn` with the database to write, while no agent runs (it takes the agent's lock: throws, saying so, when one does). */
export async function stoppedStore<T>(path: string, fn: (db: Database) => Promise<T>): Promise<T> {
  const lock = lockStore(path);
  try {
    const db = await openStore(path);
    try {
      return await fn(db);
    } finally {
      await db.close();
    }
  } finally {
    lock.release();
  }
}

export async function backlogSummary(db: Database): Promise<{ rows: number; bytes: number; oldest: number | null }> {
  const b = await db.get<{ rows: number; bytes: number | null; oldest: number | null }>(
    'SELECT COUNT(*) AS rows, SUM(length(CAST(payload AS BLOB))) AS bytes, MIN(created_at) AS oldest FROM outbox',
  );
  return { rows: b?.rows ?? 0, bytes: b?.bytes ?? 0, oldest: b?.oldest ?? null };
}

/** Dead letters by reason. */
export const deadLettersByReason = (db: Database): Promise<Record<string, number>> => countDeadLetters(db);

/** Newest first. */
export function listDeadLetters(db: Database, f: DeadLetterFilter, limit: number): Promise<DeadLetterRow[]> {
  const w = deadLetterWhere(f);
  return db.all<DeadLetterRow>(`SELECT * FROM dead_letters ${w.sql} ORDER BY id DESC LIMIT ?`, [...w.params, limit]);
}

export async function countDeadLettersWhere(db: Database, f: DeadLetterFilter): Promise<number> {
  const w = deadLetterWhere(f);
  return (await db.get<{ n: number }>(`SELECT COUNT(*) AS n FROM dead_letters ${w.sql}`, w.params))?.n ?? 0;
}

/** Deletes the dead letters a filter selects (all of them with an empty filter); how many went. Used by the agent and by the CLI while it is stopped. */
export async function purgeDeadLetters(db: Database, f: DeadLetterFilter): Promise<number> {
  const w = deadLetterWhere(f);
  return (await db.run(`DELETE FROM dead_letters ${w.sql}`, w.params)).changes;
}

/**
 * Queues replayed outputs (already encoded, seqs from `encode`) in the outbox, after a clean
 * stop only: recovery after a crash regenerates seqs from the checkpoint's counter, so the
 * checkpoint's counter moves with the new rows, in one transaction. false: not stopped cleanly.
 */
export async function appendReplayed(db: Database, count: number, encode: (firstSeq: number) => OutboxMessage[]): Promise<boolean> {
  const outbox = await openOutbox(db);
  const cp = await loadCheckpoint(db);
  const head = (await db.get<{ id: number | null }>('SELECT MAX(id) AS id FROM journal'))?.id ?? 0;
  if (cp && (cp.nextSeq !== outbox.nextSeq() || cp.journalId !== head)) return false;
  const rows = encode(outbox.reserve(count));
  await db.transaction(async (tx) => {
    await outbox.appendTx(tx, rows, outbox.nextSeq());
    if (cp) await tx.run('UPDATE checkpoint SET next_seq = ? WHERE id = 1', [outbox.nextSeq()]);
  });
  outbox.settle(true);
  return true;
}
