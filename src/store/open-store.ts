import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { openDatabase, useWal, type Database } from './sqlite.js';
import { migrate } from './migrations.js';
import { salvageDatabase, type SalvageReport } from './salvage.js';
import { seedCounterTx, seqSeed } from './seq-seed.js';
import { BUILD_FLOOR } from '../ops/build-info.js';
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
export async function openStore(path: string, synchronous: 'full' | 'normal' = 'full', nowMs = Date.now()): Promise<Database> {
  mkdirSync(dirname(path), { recursive: true });
  const db = await openDatabase(path);
  try {
    const fresh = (await db.get<{ page_count: number }>('PRAGMA page_count'))?.page_count === 0;
    // auto_vacuum must be chosen before the first table exists; an older file gets it by VACUUM.
    if (fresh) await db.exec('PRAGMA auto_vacuum = INCREMENTAL');
    await useWal(db, synchronous === 'full' ? 'FULL' : 'NORMAL');
    if (!fresh && (await db.get<{ auto_vacuum: number }>('PRAGMA auto_vacuum'))?.auto_vacuum !== 2) {
      await db.exec('PRAGMA auto_vacuum = INCREMENTAL; VACUUM;');
    }
    await migrate(db);
    await seedIfNew(db, nowMs);
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
export async function openStoreChecked(path: string, synchronous: 'full' | 'normal', log: Logger, device: string, nowMs = Date.now()): Promise<OpenedStore> {
  // A salvage that died between its two renames left the finished file beside, and none in
  // place: put it in place. One that died before left the damaged file in place: start over.
  const beside = `${path}.salvage-new`;
  if (!existsSync(path) && existsSync(beside) && !existsSync(`${beside}-wal`)) renameSync(beside, path);
  for (const ext of ['', '-wal', '-shm', '-journal']) rmSync(`${beside}${ext}`, { force: true });
  if (existsSync(path)) {
    const problem = await checkFile(path);
    if (problem) {
      log.error({ path, problem }, 'database file is damaged: setting it aside and salvaging what can be read');
      const report = await salvageDatabase(path, device, (at) => openStore(at, synchronous, nowMs), log);
      return { db: await openStore(path, synchronous, nowMs), salvage: report };
    }
  }
  return { db: await openStore(path, synchronous, nowMs) };
}

/**
 * A database that has never assigned an id (new, or left by a crash between its creation and
 * its first commit) starts its counter at the clock's seed (seq-seed.ts), never at 1.
 */
async function seedIfNew(db: Database, nowMs: number): Promise<void> {
  await db.transaction(async (tx) => {
    const unused = await tx.get<{ n: number }>(
      "SELECT (SELECT value FROM meta WHERE key = 'next_seq') = 1 AND NOT EXISTS (SELECT 1 FROM meta WHERE key = 'seq_seed') AND NOT EXISTS (SELECT 1 FROM outbox) AND NOT EXISTS (SELECT 1 FROM checkpoint) AS n",
    );
    if (unused?.n === 1) await seedCounterTx(tx, seqSeed(nowMs, BUILD_FLOOR));
  });
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
