// Salvaging a damaged database file (a truncated or garbled SD-card file after a power cut):
// 1. the file (and its WAL) is renamed `<name>.corrupt-<timestamp>` and left alone;
// 2. a scratch copy of it is read table by table, by rowid ranges, halving a range that fails
//    until the readable rows are found (a bad page costs only the rows on it);
// 3. what was read goes into a fresh database, with the seq counter past every id the old file
//    may have used (its counter, its rows, and every "<device>:<seq>" id still in its bytes), so
//    no id is ever reused;
// 4. the checkpoint is kept only with every journal batch after it (else windows restart empty).
import { copyFileSync, existsSync, openSync, readSync, closeSync, renameSync, rmSync, statSync } from 'node:fs';
import { openDatabase, insertRows, type Database } from './sqlite.js';
import type { Logger } from '../ops/logger.js';

export interface SalvageReport {
  asideAs: string;
  at: string;
  salvaged: { outbox: number; deadLetters: number; journalBatches: number; checkpoint: boolean };
  /** Rows that could not be read (rowid ranges that failed), by table; -1: the table was unreadable. */
  lost: Record<string, number>;
  nextSeq: number;
}

const TABLES = {
  outbox: ['seq', 'kind', 'sensor', 'payload', 'created_at', 'sketch'],
  dead_letters: ['id', 'received_at', 'source', 'topic', 'reason', 'detail', 'payload'],
  journal: ['id', 'count', 'first_received', 'last_received', 'data'],
} as const;
type TableName = keyof typeof TABLES;
/** Below this many rowids, a failing range is given up as a whole instead of halved again. */
const SMALLEST_RANGE = 8;

export async function salvageDatabase(path: string, device: string, openFresh: () => Promise<Database>, log: Logger): Promise<{ db: Database; report: SalvageReport }> {
  const at = new Date().toISOString();
  const asideAs = `${path}.corrupt-${at.replace(/[:.]/g, '-')}`;
  renameSync(path, asideAs);
  for (const ext of ['-wal', '-shm']) if (existsSync(path + ext)) renameSync(path + ext, asideAs + ext);
  const scratch = `${path}.salvage-tmp`;
  copyFileSync(asideAs, scratch);
  if (existsSync(`${asideAs}-wal`)) copyFileSync(`${asideAs}-wal`, `${scratch}-wal`);

  const rows: Record<TableName, unknown[][]> = { outbox: [], dead_letters: [], journal: [] };
  const lost: Record<string, number> = {};
  let metaSeq = 0;
  let checkpoint: Record<string, unknown> | undefined;
  let old: Database | undefined;
  try {
    old = await openDatabase(scratch);
    for (const table of Object.keys(TABLES) as TableName[]) {
      const r = await readTable(old, table);
      rows[table] = r.rows;
      if (r.lost !== 0) lost[table] = r.lost;
    }
    metaSeq = (await old.get<{ value: number }>("SELECT value FROM meta WHERE key = 'next_seq'").catch(() => undefined))?.value ?? 0;
    checkpoint = await old.get<Record<string, unknown>>('SELECT * FROM checkpoint WHERE id = 1').catch(() => undefined);
  } catch (err) {
    log.error({ err: (err as Error).message }, 'salvage: the damaged file cannot be opened at all');
    for (const t of Object.keys(TABLES)) lost[t] = -1;
  } finally {
    await old?.close().catch(() => undefined);
    for (const ext of ['', '-wal', '-shm']) rmSync(scratch + ext, { force: true });
  }

  // The checkpoint needs every journal batch after it; otherwise the windows start empty.
  const journalIds = new Set(rows.journal.map((r) => r[0] as number));
  const maxJournal = maxOf(journalIds);
  const cpJournal = Number(checkpoint?.journal_id ?? -1);
  let keepCheckpoint = checkpoint !== undefined && lost.journal === undefined;
  for (let id = cpJournal + 1; keepCheckpoint && id <= maxJournal; id++) if (!journalIds.has(id)) keepCheckpoint = false;

  const maxRowSeq = maxOf(rows.outbox.map((r) => r[0] as number));
  const seenInBytes = maxIdInFile(asideAs, device);
  let nextSeq = Math.max(metaSeq, maxRowSeq + 1, Number(checkpoint?.next_seq ?? 0), seenInBytes + 1, 1);
  // Without the counter we cannot know what was sent: step past any doubt rather than reuse an id.
  if (metaSeq === 0) nextSeq += 1000;

  const db = await openFresh();
  await db.transaction(async (tx) => {
    for (const table of Object.keys(TABLES) as TableName[]) {
      if (rows[table].length > 0) await insertRows(tx, `INSERT INTO ${table} (${TABLES[table].join(', ')})`, TABLES[table].length, rows[table], 100);
    }
    await tx.run("UPDATE meta SET value = ? WHERE key = 'next_seq'", [nextSeq]);
    if (keepCheckpoint && checkpoint) {
      await tx.run('INSERT INTO checkpoint (id, journal_id, next_seq, specs, state, created_at) VALUES (1, ?, ?, ?, ?, ?)', [
        checkpoint.journal_id,
        checkpoint.next_seq,
        checkpoint.specs,
        checkpoint.state,
        checkpoint.created_at,
      ]);
    }
  });
  const report: SalvageReport = {
    asideAs,
    at,
    salvaged: { outbox: rows.outbox.length, deadLetters: rows.dead_letters.length, journalBatches: rows.journal.length, checkpoint: keepCheckpoint },
    lost,
    nextSeq,
  };
  log.error({ ...report }, `damaged database set aside as ${asideAs}; salvaged ${report.salvaged.outbox} outbox messages, ${report.salvaged.deadLetters} dead letters, ${report.salvaged.journalBatches} journal batches${keepCheckpoint ? ' and the checkpoint' : ' (open windows start empty)'}`);
  return { db, report };
}

async function readTable(db: Database, table: TableName): Promise<{ rows: unknown[][]; lost: number }> {
  const cols = TABLES[table];
  const key = cols[0];
  let bounds: { lo: number | null; hi: number | null } | undefined;
  try {
    bounds = await db.get<{ lo: number | null; hi: number | null }>(`SELECT MIN(${key}) AS lo, MAX(${key}) AS hi FROM ${table}`);
  } catch {
    return { rows: [], lost: -1 };
  }
  if (!bounds || bounds.lo === null || bounds.hi === null) return { rows: [], lost: 0 };
  const out: unknown[][] = [];
  let lost = 0;
  const read = async (lo: number, hi: number): Promise<void> => {
    try {
      const got = await db.all<Record<string, unknown>>(`SELECT ${cols.join(', ')} FROM ${table} WHERE ${key} BETWEEN ? AND ? ORDER BY ${key}`, [lo, hi]);
      for (const r of got) out.push(cols.map((c) => r[c]));
    } catch {
      if (hi - lo + 1 <= SMALLEST_RANGE) {
        lost += hi - lo + 1;
        return;
      }
      const mid = Math.floor((lo + hi) / 2);
      await read(lo, mid);
      await read(mid + 1, hi);
    }
  };
  for (let lo = bounds.lo; lo <= bounds.hi; lo += 10_000) await read(lo, Math.min(bounds.hi, lo + 9_999));
  return { rows: out, lost };
}

/** The highest seq of an id "<device>:<seq>" anywhere in the file's and its WAL's bytes. */
function maxIdInFile(path: string, device: string): number {
  const needle = new RegExp(`"id":"${device.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:(\\d+)"`, 'g');
  let max = 0;
  for (const file of [path, `${path}-wal`]) {
    if (!existsSync(file)) continue;
    const fd = openSync(file, 'r');
    try {
      const size = statSync(file).size;
      const chunk = Buffer.alloc(1 << 20);
      let carry = '';
      for (let pos = 0; pos < size; pos += chunk.length) {
        const n = readSync(fd, chunk, 0, chunk.length, pos);
        const text = carry + chunk.toString('latin1', 0, n);
        for (const m of text.matchAll(needle)) max = Math.max(max, Number(m[1]));
        carry = text.slice(-128); // an id split across chunks
      }
    } finally {
      closeSync(fd);
    }
  }
  return max;
}

function maxOf(values: Iterable<number>): number {
  let max = 0;
  for (const v of values) if (v > max) max = v;
  return max;
}
