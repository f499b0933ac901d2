import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { openDatabase, type Database } from './sqlite.js';
import { migrate } from './migrations.js';
import { salvageDatabase, type SalvageReport } from './salvage.js';
import type { Logger } from '../ops/logger.js';

/**
 * Opens (creating if needed) the agent's database: WAL so readers and the writer do not block
 * each other, incremental auto-vacuum so the byte budget can hand pages back, then the schema
 * migrations. `synchronous`:
 * - full (default): each group commit is on the storage when it returns, so a power cut loses
 *   at most the last commit interval; one fsync per commit (10 a second at 100 ms);
 * - normal: fsync only at WAL checkpoints; a process crash loses nothing committed, a power
 *   cut may lose the commits since the last WAL checkpoint (never corrupts the file).
 */
export async function openStore(path: string, synchronous: 'full' | 'normal' = 'full'): Promise<Database> {
  mkdirSync(dirname(path), { recursive: true });
  const db = await openDatabase(path);
  try {
    const fresh = (await db.get<{ page_count: number }>('PRAGMA page_count'))?.page_count === 0;
    // auto_vacuum must be chosen before the first table exists; an older file gets it by VACUUM.
    if (fresh) await db.exec('PRAGMA auto_vacuum = INCREMENTAL');
    await db.exec(`PRAGMA journal_mode = WAL; PRAGMA synchronous = ${synchronous === 'full' ? 'FULL' : 'NORMAL'}; PRAGMA busy_timeout = 5000;`);
    if (!fresh && (await db.get<{ auto_vacuum: number }>('PRAGMA auto_vacuum'))?.auto_vacuum !== 2) {
      await db.exec('PRAGMA auto_vacuum = INCREMENTAL; VACUUM;');
    }
    await migrate(db);
    return db;
  } catch (err) {
    await db.close().catch(() => undefined);
    throw err;
  }
}

export interface OpenedStore {
  db: Database;
  /** Present when the file was damaged and set aside. */
  salvage?: SalvageReport;
}

/**
 * openStore, after checking the file (PRAGMA quick_check). A damaged or unreadable file is never
 * deleted: it is renamed with a timestamp, what can be read is copied into a fresh database,
 * and the report says what was salvaged and what was lost.
 */
export async function openStoreChecked(path: string, synchronous: 'full' | 'normal', log: Logger, device: string): Promise<OpenedStore> {
  if (existsSync(path)) {
    const problem = await checkFile(path);
    if (problem) {
      log.error({ path, problem }, 'database file is damaged: setting it aside and salvaging what can be read');
      const salvage = await salvageDatabase(path, device, () => openStore(path, synchronous), log);
      return { db: salvage.db, salvage: salvage.report };
    }
  }
  return { db: await openStore(path, synchronous) };
}

/** undefined when the file opens and passes quick_check; else what is wrong. */
async function checkFile(path: string): Promise<string | undefined> {
  let db: Database | undefined;
  try {
    db = await openDatabase(path);
    const rows = await db.all<{ quick_check: string }>('PRAGMA quick_check(20)');
    const problems = rows.map((r) => r.quick_check).filter((r) => r !== 'ok');
    return problems.length > 0 ? problems.join('; ') : undefined;
  } catch (err) {
    return (err as Error).message;
  } finally {
    await db?.close().catch(() => undefined);
  }
}
