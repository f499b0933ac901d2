// The byte budget: the database file and its WAL together never pass `storage.maxBytes`.
// - SQLite enforces a hard ceiling on the main file (PRAGMA max_page_count): a commit that would
//   pass it fails with SQLITE_FULL, the budget makes room and the commit is retried;
// - the WAL is kept small (wal_autocheckpoint, journal_size_limit) within its reserve;
// - long before the ceiling (above HIGH of it) room is made, down to LOW: the journal's and the
//   dead letters' own shares first, then the journal yields to the outbox (oldest raw readings
//   the checkpoint covers), then old summaries are merged into coarser windows (exact), then
//   dead letters yield, then the oldest summaries are dropped, and anomalies last.
// Size is measured, not estimated: pages in use (page_count - freelist_count).
// On a real full disk the journal gives its pages back to the outbox, so buffering goes on in
// the file as it is; past that the group commit holds data in memory (bounded).
import { statSync, statfsSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Database } from './sqlite.js';
import type { MessageKind, Outbox } from './outbox.js';
import { journalBytes } from './journal.js';
import { deadLetterBytes, trimDeadLetters } from './dead-letters.js';
import { trimOldest } from './trim-oldest.js';
import { dropOldest, mergePass, rowBytes, type RowMerger } from './outbox-compaction.js';
import { classifyStoreError } from './store-errors.js';
import type { Logger } from '../ops/logger.js';

const HIGH = 0.9;
const LOW = 0.75;
const SHM_BYTES = 32 * 1024;

export interface BudgetCounters {
  merges: number;
  evictedSummaries: number;
  evictedAnomalies: number;
  evictedEvents: number;
  journalTrimmed: number;
  deadLettersTrimmed: number;
}

export interface BudgetOptions {
  db: Database;
  outbox: Outbox;
  /** Merges two stored summaries (wire/merge-stored.ts summaryMerger). */
  merge: RowMerger;
  maxBytes: number;
  journalMaxBytes: number;
  deadLettersMaxBytes: number;
  /** Rows of a class at or below this seq may be in flight upstream: never merged or dropped. */
  claimed: (kind: MessageKind) => number;
  /** The newest journal batch the checkpoint covers (later ones are needed for recovery). */
  coveredJournalId: () => number;
  /** Asks for a checkpoint soon, so that more of the journal may go next time. */
  requestCheckpoint: () => void;
  counters: BudgetCounters;
  log: Logger;
}

export interface BudgetStatus {
  maxBytes: number;
  /** Main file plus WAL, bytes on disk now. */
  fileBytes: number;
  /** Pages in use, in bytes (what the budget steers). */
  usedBytes: number;
  /** The ceiling of the main file (maxBytes less the WAL's reserve). */
  limitBytes: number;
  diskFull: boolean;
}

export interface Budget {
  /** Sets the ceiling and the WAL limits on the open database. */
  configure(): Promise<void>;
  beforeCommit(bytes: number): Promise<void>;
  afterFull(err: unknown): Promise<boolean>;
  /** Makes room when above the high-water mark. */
  enforce(): Promise<void>;
  status(): BudgetStatus;
}

export function createBudget(o: BudgetOptions): Budget {
  const { db, outbox } = o;
  const walReserve = Math.min(16 * 1024 * 1024, Math.max(256 * 1024, Math.floor(o.maxBytes / 8)));
  const planned = o.maxBytes - walReserve - SHM_BYTES;
  // Rows per merge transaction: each rewrites about its rows' pages into the WAL.
  const mergeChunk = Math.min(2000, Math.max(50, Math.floor(walReserve / 2 / 400)));
  let pageSize = 4096;
  const limit = planned;
  let used = 0;
  let sinceMeasure = 0;
  let diskFull = false;
  let running: Promise<void> | undefined;
  let mergeFrom = 0;
  const logged = new Set<string>();

  const measure = async () => {
    const pc = await db.get<{ page_count: number }>('PRAGMA page_count');
    const fl = await db.get<{ freelist_count: number }>('PRAGMA freelist_count');
    used = ((pc?.page_count ?? 0) - (fl?.freelist_count ?? 0)) * pageSize;
    sinceMeasure = 0;
    return used;
  };
  const fileBytes = () => {
    const size = (p: string) => {
      try {
        return statSync(p).size;
      } catch {
        return 0;
      }
    };
    return size(db.path) + size(`${db.path}-wal`);
  };
  const once = (what: string, msg: string, extra: Record<string, unknown>) => {
    if (logged.has(what)) return;
    logged.add(what);
    o.log.warn({ ...extra, maxBytes: o.maxBytes }, msg);
  };

  const steps: Array<(excess: number) => Promise<void>> = [
    // Their own shares (normal retention).
    async () => {
      const over = (await journalBytes(db)) - o.journalMaxBytes;
      if (over > 0) o.counters.journalTrimmed += await trimOldest(db, { table: 'journal', bytes: 'length(data)', counts: 'count', maxId: o.coveredJournalId() }, over);
      o.counters.deadLettersTrimmed += await trimDeadLetters(db, o.deadLettersMaxBytes);
    },
    // The journal yields to the outbox (what a checkpoint covers; a fresh one makes more of it so).
    async (excess) => {
      o.requestCheckpoint();
      const n = await trimOldest(db, { table: 'journal', bytes: 'length(data)', counts: 'count', maxId: o.coveredJournalId() }, excess);
      if (n > 0) once('journal', 'storage budget: raw readings deleted from the journal to make room for the outbox (replay covers less); raise storage.maxBytes to keep more', { readings: n });
      o.counters.journalTrimmed += n;
    },
    // Merge old summaries into coarser windows, oldest first, until the file is back under
    // the low-water mark (measured: freed bytes only count once whole pages are free).
    async () => {
      let merges = 0;
      let quietSweep = mergeFrom === 0;
      for (let passes = 0; passes < 10_000; passes++) {
        const p = await mergePass(db, outbox, o.merge, () => o.claimed('summary'), mergeFrom, mergeChunk);
        merges += p.merged;
        if (p.merged > 0) quietSweep = false;
        mergeFrom = p.next;
        if ((await measure()) <= limit * LOW) break;
        if (mergeFrom === 0) {
          if (quietSweep) break; // a whole sweep found nothing left to merge
          quietSweep = true;
        }
      }
      o.counters.merges += merges;
      if (merges > 0) once('merge', 'storage budget: old summaries merged into coarser windows (exact; "merged": n says how many) while the uplink is down; raise storage.maxBytes for finer windows', { merges });
    },
    // Dead letters yield.
    async (excess) => {
      const n = await trimDeadLetters(db, Math.max(0, (await deadLetterBytes(db)) - excess));
      o.counters.deadLettersTrimmed += n;
    },
    async (excess) => {
      const n = await dropOldest(db, outbox, 'summary', () => o.claimed('summary'), Math.ceil(excess / (await rowBytes(db, 'summary'))));
      o.counters.evictedSummaries += n;
      if (n > 0) once('drop', 'storage budget: oldest summaries dropped (nothing left to merge); raise storage.maxBytes or shorten outages', { dropped: n });
    },
    async (excess) => {
      const n = await dropOldest(db, outbox, 'event', () => o.claimed('event'), Math.ceil(excess / (await rowBytes(db, 'event'))));
      o.counters.evictedEvents += n;
      if (n > 0) once('drop-events', 'storage budget: oldest events (availability, staleness) dropped (no summary left to merge or drop); raise storage.maxBytes', { dropped: n });
    },
    async (excess) => {
      const n = await dropOldest(db, outbox, 'anomaly', () => o.claimed('anomaly'), Math.ceil(excess / (await rowBytes(db, 'anomaly'))));
      o.counters.evictedAnomalies += n;
      if (n > 0) once('drop-anomalies', 'storage budget: oldest anomalies dropped (the outbox holds nothing else); raise storage.maxBytes', { dropped: n });
    },
  ];

  const makeRoom = async () => {
    if ((await measure()) <= limit * HIGH) return;
    const target = limit * LOW;
    for (const step of steps) {
      if ((await measure()) <= target) break;
      await step(used - target);
    }
    // Give freed pages back to the file system when the file is over the ceiling (a smaller
    // maxBytes than the file was created with, or a full disk).
    const pc = (await db.get<{ page_count: number }>('PRAGMA page_count'))?.page_count ?? 0;
    if (pc * pageSize > limit) await db.run(`PRAGMA incremental_vacuum(${Math.ceil((pc * pageSize - limit) / pageSize)})`).catch(() => undefined);
    await measure();
  };

  const enforce = () => {
    running ??= makeRoom().finally(() => (running = undefined));
    return running;
  };

  return {
    async configure() {
      pageSize = (await db.get<{ page_size: number }>('PRAGMA page_size'))?.page_size ?? 4096;
      await db.get(`PRAGMA max_page_count = ${Math.floor(planned / pageSize)}`);
      await db.get(`PRAGMA journal_size_limit = ${Math.floor(walReserve / 2)}`);
      await db.get(`PRAGMA wal_autocheckpoint = ${Math.max(8, Math.floor(walReserve / 4 / pageSize))}`);
      await measure();
      if (o.journalMaxBytes + o.deadLettersMaxBytes > planned) o.log.warn({ planned }, 'storage.journal.maxBytes and storage.deadLetters.maxBytes leave the outbox little room');
    },
    async beforeCommit(bytes) {
      sinceMeasure += bytes;
      if (used + sinceMeasure > limit * HIGH) {
        if ((await measure()) > limit * HIGH) await enforce();
      }
    },
    async afterFull(err) {
      if (classifyStoreError(err) !== 'disk-full') return false;
      const pc = (await db.get<{ page_count: number }>('PRAGMA page_count'))?.page_count ?? 0;
      if ((pc + 1) * pageSize > limit) {
        await enforce(); // our own ceiling: make room as usual
        return true;
      }
      // The file system is full before the budget is. Raw readings the checkpoint covers give
      // their pages back for the outbox to reuse (the file need not grow); nothing the uplink
      // still has to send is touched. If that is not enough, the group commit holds data in
      // memory and the uplink sends it from there.
      if (diskFull) return false;
      diskFull = true;
      const n = await trimOldest(db, { table: 'journal', bytes: 'length(data)', counts: 'count', maxId: o.coveredJournalId() }, Number.MAX_SAFE_INTEGER);
      o.counters.journalTrimmed += n;
      o.log.warn({ journalReadingsFreed: n }, 'file system full: journal space handed to the outbox; buffering in memory if that is not enough, until space returns');
      return n > 0;
    },
    async enforce() {
      if (diskFull) {
        try {
          const fs = statfsSync(dirname(db.path));
          if (fs.bavail * fs.bsize > walReserve + 1024 * 1024) {
            diskFull = false;
            o.log.info('file system has space again');
          }
        } catch {
          // statfs unavailable: stay conservative
        }
      }
      await enforce();
    },
    status: () => ({ maxBytes: o.maxBytes, fileBytes: fileBytes(), usedBytes: used, limitBytes: limit, diskFull }),
  };
}
