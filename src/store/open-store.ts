import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { openDatabase, type Database } from './sqlite.js';
import { migrate } from './migrations.js';

/**
 * Opens (creating if needed) the agent's database: WAL so readers and the writer do not block
 * each other, then the schema migrations. `synchronous`:
 * - full (default): each group commit is on the storage when it returns, so a power cut loses
 *   at most the last commit interval; one fsync per commit (10 a second at 100 ms);
 * - normal: fsync only at WAL checkpoints; a process crash loses nothing committed, a power
 *   cut may lose the commits since the last WAL checkpoint (never corrupts the file).
 */
export async function openStore(path: string, synchronous: 'full' | 'normal' = 'full'): Promise<Database> {
  mkdirSync(dirname(path), { recursive: true });
  const db = await openDatabase(path);
  await db.exec(`PRAGMA journal_mode = WAL; PRAGMA synchronous = ${synchronous === 'full' ? 'FULL' : 'NORMAL'}; PRAGMA busy_timeout = 5000;`);
  await migrate(db);
  return db;
}
