import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { openDatabase, type Database } from './sqlite.js';
import { migrate } from './migrations.js';

/**
 * Opens (creating if needed) the agent's database: WAL so readers and the writer do not block
 * each other, synchronous=NORMAL so a commit survives a process crash (a power cut may lose
 * the last commits, never corrupt the file), then the schema migrations.
 */
export async function openStore(path: string): Promise<Database> {
  mkdirSync(dirname(path), { recursive: true });
  const db = await openDatabase(path);
  await db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;');
  await migrate(db);
  return db;
}
