// Salvaging a damaged database file (a truncated or garbled SD-card file after a power cut):
// 1. a scratch copy of the file (and its WAL) is read table by table in key order; a bad page
//    costs only the rows on it (readTable);
// 2. what was read goes into a new database built BESIDE the damaged one
//    (`<name>.salvage-new`), with the seq counter past every id the old file may have used (its
//    counter, its rows, every "<device>:<seq>" id still in its bytes) and never below the
//    clock's seed (seq-seed.ts), so no id is ever reused;
// 3. the checkpoint is kept only with every journal batch after it (else windows restart empty);
// 4. only then is the damaged file (and its WAL) renamed `<name>.corrupt-<timestamp>` and the
//    new one renamed into place. Dying anywhere before that (ENOSPC, memory, a start timeout)
//    leaves the damaged file where it was, and the next start salvages it again.
import { copyFileSync, existsSync, openSync, readSync, closeSync, renameSync, rmSync, statSync, fsyncSync } from 'node:fs';
import { dirname } from 'node:path';
import { openDatabase, insertRows, type Database } from './sqlite.js';
import { plausibleSeq, seedCounterTx, seqSeed } from './seq-seed.js';
import { BUILD_FLOOR } from '../ops/build-info.js';
import type { Logger } from '../ops/logger.js';

export interface SalvageReport {
  asideAs: string;
  at: string;
  salvaged: { outbox: number; deadLetters: number; journalBatches: number; checkpoint: boolean };
  /** Key ranges (seq, id) that could not be read, by table ([from, null]: to the end); "all": nothing could. */
  unreadable: Record<string, Array<[number, number | null]> | 'all'>;
  nextSeq: number;
}

const TABLES = {
  outbox: ['seq', 'kind', 'sensor', 'payload', 'created_at', 'sketch'],
  dead_letters: ['id', 'received_at', 'source', 'topic', 'reason', 'detail', 'payload'],
  journal: ['id', 'count', 'first_received', 'last_received', 'data'],
} as const;
type TableName = keyof typeof TABLES;
/** Columns a row cannot go without (NOT NULL in the schema). */
const NULLABLE = new Set(['sketch', 'topic', 'payload']);
/**
 * A row read from a damaged page can be garbage that the new schema refuses (a NULL count, a
 * key that is no integer); such rows are left out, so one of them cannot fail the whole salvage.
 */
const wellFormed = (table: TableName) => (row: unknown[]) =>
  Number.isSafeInteger(row[0]) && TABLES[table].every((c, i) => NULLABLE.has(c) || (row[i] !== null && row[i] !== undefined));
/** Rows read by one scan step, and keys probed one by one past a bad page. */
const SCAN_ROWS = 256;

/**
 * Salvages the damaged file at `path` into a new database there (see the top of this file).
 * `openNew(at)` creates and opens a new, seeded database file at `at`; the caller opens `path`
 * afterwards.
 */
export async function salvageDatabase(path: string, device: string, openNew: (at: string) => Promise<Database>, log: Logger): Promise<SalvageReport> {
  const at = new Date().toISOString();
  const asideAs = `${path}.corrupt-${at.replace(/[:.]/g, '-')}`;
  const scratch = `${path}.salvage-tmp`;
  const beside = `${path}.salvage-new`;
  copyFileSync(path, scratch);
  if (existsSync(`${path}-wal`)) copyFileSync(`${path}-wal`, `${scratch}-wal`);

  const rows: Record<TableName, unknown[][]> = { outbox: [], dead_letters: [], journal: [] };
  const unreadable: SalvageReport['unreadable'] = {};
  let metaSeq = 0;
  let checkpoint: Record<string, unknown> | undefined;
  let old: Database | undefined;
  try {
    old = await openDatabase(scratch);
    // A truncated file is shorter than its header says; SQLite refuses it unless told to make
    // do with the pages that are there (the standard first step of recovery).
    await old.exec('PRAGMA writable_schema = ON').catch(() => undefined);
    for (const table of Object.keys(TABLES) as TableName[]) {
      const r = await readTable(old, table);
      rows[table] = keepWhole(r.rows, wellFormed(table), r.unreadable);
      if (r.unreadable.length > 0) unreadable[table] = r.unreadable;
    }
    metaSeq = (await old.get<{ value: number }>("SELECT value FROM meta WHERE key = 'next_seq'").catch(() => undefined))?.value ?? 0;
    checkpoint = await old.get<Record<string, unknown>>('SELECT * FROM checkpoint WHERE id = 1').catch(() => undefined);
  } catch (err) {
    log.error({ err: (err as Error).message }, 'salvage: the damaged file cannot be opened at all');
    for (const t of Object.keys(TABLES)) unreadable[t] = 'all';
  } finally {
    await old?.close().catch(() => undefined);
    for (const ext of ['', '-wal', '-shm']) rmSync(scratch + ext, { force: true });
  }

  // The checkpoint needs every journal batch after it; otherwise the windows start empty.
  const journalIds = new Set(rows.journal.map((r) => r[0] as number));
  const maxJournal = maxOf(journalIds);
  const cpJournal = Number(checkpoint?.journal_id ?? -1);
  let keepCheckpoint = checkpoint !== undefined && unreadable.journal === undefined;
  for (let id = cpJournal + 1; keepCheckpoint && id <= maxJournal; id++) if (!journalIds.has(id)) keepCheckpoint = false;

  // Every candidate must be an id this device could have used: garbage (a garbled counter, a
  // forged id in a dead letter's payload) is ignored rather than trusted.
  const seedNow = seqSeed(Date.now(), BUILD_FLOOR);
  const ok = (n: number) => (plausibleSeq(n, seedNow) ? n : 0);
  // A row from a damaged page may be garbage that would never drain: an impossible id, a kind
  // no lane reads, a time that is no time, a payload that does not carry its own id.
  const sendable = (r: unknown[]) =>
    ok(r[0] as number) > 0 && (r[1] === 'summary' || r[1] === 'anomaly' || r[1] === 'event' || r[1] === 'reply') && typeof r[2] === 'string' && Number.isFinite(r[4]) && (r[4] as number) > 0 && wholeJson(r[3], `:${String(r[0])}"`);
  const outboxUnreadable = Array.isArray(unreadable.outbox) ? unreadable.outbox : [];
  rows.outbox = keepWhole(rows.outbox, sendable, outboxUnreadable);
  if (outboxUnreadable.length > 0) unreadable.outbox = outboxUnreadable;
  const maxRowSeq = maxOf(rows.outbox.map((r) => r[0] as number));
  const seenInBytes = maxIdInFile(path, device, seedNow);
  let nextSeq = Math.max(ok(metaSeq), maxRowSeq + 1, ok(Number(checkpoint?.next_seq ?? 0)), seenInBytes + 1, 1);
  // Without the counter we cannot know what was sent: step past any doubt rather than reuse an id.
  if (metaSeq === 0) nextSeq += 1000;

  for (const ext of ['', '-wal', '-shm', '-journal']) rmSync(beside + ext, { force: true });
  const db = await openNew(beside);
  // Never below the clock's seed, which the new database starts at.
  nextSeq = Math.max(nextSeq, (await db.get<{ value: number }>("SELECT value FROM meta WHERE key = 'next_seq'"))?.value ?? 1);
  await db.transaction(async (tx) => {
    for (const table of Object.keys(TABLES) as TableName[]) {
      if (rows[table].length > 0) await insertRows(tx, `INSERT INTO ${table} (${TABLES[table].join(', ')})`, TABLES[table].length, rows[table], 100);
    }
    await seedCounterTx(tx, nextSeq);
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
  await db.close(); // its WAL is checkpointed into the file: one file to rename
  // Into place: the damaged file (and its WAL) aside, the new one in, then the directory synced.
  renameSync(path, asideAs);
  for (const ext of ['-wal', '-shm']) if (existsSync(path + ext)) renameSync(path + ext, asideAs + ext);
  renameSync(beside, path);
  syncDir(dirname(path));
  const report: SalvageReport = {
    asideAs,
    at,
    salvaged: { outbox: rows.outbox.length, deadLetters: rows.dead_letters.length, journalBatches: rows.journal.length, checkpoint: keepCheckpoint },
    unreadable,
    nextSeq,
  };
  log.error({ ...report }, `damaged database set aside as ${asideAs}; salvaged ${report.salvaged.outbox} outbox messages, ${report.salvaged.deadLetters} dead letters, ${report.salvaged.journalBatches} journal batches${keepCheckpoint ? ' and the checkpoint' : ' (open windows start empty)'}`);
  return report;
}

function syncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // not every file system lets a directory be synced; the renames are still done
  }
}

/**
 * Reads every row of a table it can, in key order. A page that fails costs only its rows: the
 * scan goes on by point reads past it, and looks further and further ahead (doubling) for the
 * next readable key, so a lost tail (a truncated file) ends the scan after a few tries.
 * Returns the key ranges that could not be read ([from, null]: from there to the end).
 */
async function readTable(db: Database, table: TableName): Promise<{ rows: unknown[][]; unreadable: Array<[number, number | null]> }> {
  const cols = TABLES[table];
  const key = cols[0];
  const select = `SELECT ${cols.join(', ')} FROM ${table}`;
  const out: unknown[][] = [];
  const unreadable: Array<[number, number | null]> = [];
  const push = (rows: Array<Record<string, unknown>>) => {
    for (const r of rows) out.push(cols.map((c) => r[c]));
  };
  let after: number;
  try {
    after = ((await db.get<{ lo: number | null }>(`SELECT MIN(${key}) AS lo FROM ${table}`))?.lo ?? 1) - 1;
  } catch {
    after = 0;
  }
  for (;;) {
    try {
      const got = await db.all<Record<string, unknown>>(`${select} WHERE ${key} > ? ORDER BY ${key} LIMIT ${SCAN_ROWS}`, [after]);
      if (got.length === 0) break;
      // A damaged b-tree can hand back keys that do not rise (a page pointing back into the
      // table): then the scan would never end. Read such a stretch one key at a time instead.
      const last = Number(got[got.length - 1]![key]);
      if (!Number.isFinite(last) || last <= after || got.some((r, i) => i > 0 && !(Number(r[key]) > Number(got[i - 1]![key])))) throw new Error('keys out of order');
      push(got);
      after = last;
      continue;
    } catch {
      // a bad page among the next rows: read them one by one
    }
    let any = false;
    let badFrom: number | undefined;
    for (let k = after + 1; k <= after + SCAN_ROWS; k++) {
      try {
        const row = await db.get<Record<string, unknown>>(`${select} WHERE ${key} = ?`, [k]);
        if (row) {
          push([row]);
          any = true;
        }
        if (badFrom !== undefined) {
          unreadable.push([badFrom, k - 1]);
          badFrom = undefined;
        }
      } catch {
        badFrom ??= k;
      }
    }
    after += SCAN_ROWS;
    if (badFrom !== undefined) unreadable.push([badFrom, after]);
    if (any) continue;
    // Nothing near was readable: look further ahead for the next key that is.
    let next: number | null | undefined;
    for (let step = SCAN_ROWS; step < 2 ** 40 && next === undefined; step *= 2) {
      try {
        next = (await db.get<{ k: number }>(`SELECT ${key} AS k FROM ${table} WHERE ${key} > ? ORDER BY ${key} LIMIT 1`, [after + step]))?.k ?? null;
      } catch {
        // still unreadable further on
      }
    }
    if (next === undefined || next === null) {
      unreadable.push([after + 1, null]);
      break;
    }
    unreadable.push([after + 1, next - 1]);
    after = next - 1;
  }
  return { rows: out, unreadable: mergeRanges(unreadable) };
}

function mergeRanges(ranges: Array<[number, number | null]>): Array<[number, number | null]> {
  const out: Array<[number, number | null]> = [];
  for (const r of ranges) {
    const last = out[out.length - 1];
    if (last && last[1] !== null && r[0] <= last[1] + 1) last[1] = r[1] === null ? null : Math.max(last[1], r[1]);
    else out.push([r[0], r[1]]);
  }
  return out;
}

/** The highest seq of an id "<device>:<seq>" anywhere in the file's and its WAL's bytes. */
function maxIdInFile(path: string, device: string, seedNow: number): number {
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
        for (const m of text.matchAll(needle)) {
          const seq = Number(m[1]);
          if (plausibleSeq(seq, seedNow)) max = Math.max(max, seq);
        }
        carry = text.slice(-128); // an id split across chunks
      }
    } finally {
      closeSync(fd);
    }
  }
  return max;
}

/** The rows `whole` accepts; each other row's key goes to `unreadable` as a one-key range. */
function keepWhole(rows: unknown[][], whole: (row: unknown[]) => boolean, unreadable: Array<[number, number | null]>): unknown[][] {
  const kept: unknown[][] = [];
  for (const r of rows) {
    if (whole(r)) kept.push(r);
    else unreadable.push([Number(r[0]), Number(r[0])]);
  }
  return kept;
}

/** A payload that survived whole: a JSON text carrying its own id (a row cut by a lost page ends in zeros). */
function wholeJson(payload: unknown, idTail: string): boolean {
  if (typeof payload !== 'string' || !payload.includes(idTail)) return false;
  try {
    JSON.parse(payload);
    return true;
  } catch {
    return false;
  }
}

function maxOf(values: Iterable<number>): number {
  let max = 0;
  for (const v of values) if (v > max) max = v;
  return max;
}
