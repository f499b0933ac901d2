// Deleting the oldest rows of a table until a number of bytes is freed: the journal's and the
// dead letters' size retention, and the byte budget, all trim this way.
import type { Database } from './sqlite.js';

export interface TrimSpec {
  table: 'journal' | 'dead_letters';
  /** SQL expression: a row's size in bytes. */
  bytes: string;
  /** SQL expression summed over deleted rows and returned (e.g. readings in a journal batch). */
  counts: string;
  /** Only rows with id at or below this may go (the journal's checkpoint). */
  maxId?: number;
}

/** Deletes oldest-first until `excess` bytes are gone (or nothing eligible is left); returns the sum of `counts`. */
export async function trimOldest(db: Database, spec: TrimSpec, excess: number): Promise<number> {
  const maxId = spec.maxId ?? Number.MAX_SAFE_INTEGER;
  let cutoff = 0;
  let counted = 0;
  for (let after = 0; excess > 0; ) {
    const rows = await db.all<{ id: number; n: number; bytes: number }>(
      `SELECT id, ${spec.counts} AS n, ${spec.bytes} AS bytes FROM ${spec.table} WHERE id > ? AND id <= ? ORDER BY id LIMIT 1000`,
      [after, maxId],
    );
    if (rows.length === 0) break;
    for (const row of rows) {
      if (excess <= 0) break;
      excess -= row.bytes;
      counted += row.n;
      cutoff = row.id;
    }
    after = rows[rows.length - 1]!.id;
  }
  if (cutoff > 0) await db.run(`DELETE FROM ${spec.table} WHERE id <= ?`, [cutoff]);
  return counted;
}
