// A small promise layer over node-sqlite3 (callback-only). Every statement goes through one
// queue, so a transaction is never interleaved with another caller's statements on the shared
// connection, and readers never see a batch that is later rolled back.
import type Sqlite3 from 'sqlite3';
import { requireCjs } from '../ops/require-cjs.js';

const sqlite3 = requireCjs('sqlite3') as typeof Sqlite3;

export type Params = readonly unknown[];

export interface Executor {
  run(sql: string, params?: Params): Promise<{ changes: number; lastID: number }>;
  /** run() through a prepared statement kept for the connection's life (hot, repeated SQL). */
  runPrepared(sql: string, params: Params): Promise<{ changes: number; lastID: number }>;
  all<T>(sql: string, params?: Params): Promise<T[]>;
  get<T>(sql: string, params?: Params): Promise<T | undefined>;
  exec(sql: string): Promise<void>;
}

export interface Database extends Executor {
  readonly path: string;
  /** Runs `fn` inside BEGIN IMMEDIATE ... COMMIT; rolls back if it throws. */
  transaction<T>(fn: (tx: Executor) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export async function openDatabase(path: string, opts: { readonly?: boolean } = {}): Promise<Database> {
  const mode = opts.readonly ? sqlite3.OPEN_READONLY : sqlite3.OPEN_READWRITE | sqlite3.OPEN_CREATE;
  const db = await new Promise<Sqlite3.Database>((resolve, reject) => {
    const handle = new sqlite3.Database(path, mode, (err) => (err ? reject(err) : resolve(handle)));
  });
  // Prepared statements for hot SQL (the outbox's multi-row INSERT): preparing a 200-row
  // statement each time costs about a quarter of the insert.
  const statements = new Map<string, Sqlite3.Statement>();
  const direct: Executor = {
    run: (sql, params = []) =>
      new Promise((resolve, reject) =>
        db.run(sql, params as unknown[], function (this: Sqlite3.RunResult, err) {
          if (err) reject(err);
          else resolve({ changes: this.changes, lastID: this.lastID });
        }),
      ),
    runPrepared: (sql, params) =>
      new Promise((resolve, reject) => {
        let stmt = statements.get(sql);
        if (!stmt) {
          stmt = db.prepare(sql);
          statements.set(sql, stmt);
        }
        stmt.run(params as unknown[], function (this: Sqlite3.RunResult, err) {
          if (err) reject(err);
          else resolve({ changes: this.changes, lastID: this.lastID });
        });
      }),
    all: <T>(sql: string, params: Params = []) =>
      new Promise<T[]>((resolve, reject) => db.all(sql, params as unknown[], (err, rows) => (err ? reject(err) : resolve(rows as T[])))),
    get: <T>(sql: string, params: Params = []) =>
      new Promise<T | undefined>((resolve, reject) => db.get(sql, params as unknown[], (err, row) => (err ? reject(err) : resolve(row as T | undefined)))),
    exec: (sql) => new Promise<void>((resolve, reject) => db.exec(sql, (err) => (err ? reject(err) : resolve()))),
  };

  let tail: Promise<unknown> = Promise.resolve();
  const enqueue = <T>(task: () => Promise<T>): Promise<T> => {
    const result = tail.then(task, task);
    tail = result.catch(() => undefined);
    return result;
  };

  return {
    path,
    run: (sql, params) => enqueue(() => direct.run(sql, params)),
    runPrepared: (sql, params) => enqueue(() => direct.runPrepared(sql, params)),
    all: <T>(sql: string, params?: Params) => enqueue(() => direct.all<T>(sql, params)),
    get: <T>(sql: string, params?: Params) => enqueue(() => direct.get<T>(sql, params)),
    exec: (sql) => enqueue(() => direct.exec(sql)),
    transaction: <T>(fn: (tx: Executor) => Promise<T>) =>
      enqueue(async () => {
        await direct.exec('BEGIN IMMEDIATE');
        try {
          const result = await fn(direct);
          await direct.exec('COMMIT');
          return result;
        } catch (err) {
          await direct.exec('ROLLBACK').catch(() => undefined);
          throw err;
        }
      }),
    close: () =>
      enqueue(async () => {
        await Promise.all([...statements.values()].map((st) => new Promise<void>((resolve) => st.finalize(() => resolve()))));
        statements.clear();
        await new Promise<void>((resolve, reject) => db.close((err) => (err ? reject(err) : resolve())));
      }),
  };
}

/**
 * Inserts rows of `width` parameters with multi-row INSERTs of at most `perStatement` rows
 * (one statement per row is ~25x slower with node-sqlite3), full chunks through a prepared
 * statement. The statements are issued together and awaited together, so the main thread
 * binds the next chunk's parameters while SQLite's thread executes the previous one.
 * `onLastId` gets the highest rowid inserted.
 */
/**
 * Write-ahead logging with a 5 s busy timeout, as every store here opens its file. A new file's
 * switch to WAL needs it alone: a second connection switching at the same moment gets
 * SQLITE_BUSY at once (SQLite's deadlock avoidance calls no busy handler), so it tries again; the
 * mode is kept in the file, so the next try finds it set.
 */
export async function useWal(db: Database, synchronous: 'FULL' | 'NORMAL'): Promise<void> {
  await db.exec('PRAGMA busy_timeout = 5000');
  for (let attempt = 1; ; attempt++) {
    try {
      await db.exec('PRAGMA journal_mode = WAL');
      break;
    } catch (err) {
      if ((err as { code?: string }).code !== 'SQLITE_BUSY' || attempt >= 50) throw err;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  await db.exec(`PRAGMA synchronous = ${synchronous}`);
}

export async function insertRows(
  tx: Executor,
  head: string,
  width: number,
  rows: readonly unknown[][],
  perStatement = 200,
  onLastId?: (id: number) => void,
): Promise<void> {
  const tuple = `(${new Array(width).fill('?').join(',')})`;
  let fullSql: string | undefined;
  const pending: Array<Promise<{ lastID: number }>> = [];
  for (let i = 0; i < rows.length; i += perStatement) {
    const n = Math.min(perStatement, rows.length - i);
    const params: unknown[] = new Array(n * width);
    for (let r = 0; r < n; r++) {
      const row = rows[i + r]!;
      for (let c = 0; c < width; c++) params[r * width + c] = row[c];
    }
    pending.push(n === perStatement ? tx.runPrepared((fullSql ??= `${head} VALUES ${new Array(n).fill(tuple).join(',')}`), params) : tx.run(`${head} VALUES ${new Array(n).fill(tuple).join(',')}`, params));
  }
  // Every statement settles before an error is passed on: none may run after a ROLLBACK.
  const settled = await Promise.allSettled(pending);
  const failed = settled.find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
  const ids = settled.map((r) => (r as PromiseFulfilledResult<{ lastID: number }>).value.lastID);
  if (onLastId && ids.length > 0) onLastId(Math.max(...ids));
}
