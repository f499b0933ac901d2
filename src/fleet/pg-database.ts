// The fleet store's Database on PostgreSQL (the `pg` package), so the same log, projections and
// queries run there (pg-sql.ts translates the SQL). Transactions are SERIALIZABLE and retried
// on a serialization failure: several fleet instances project concurrently, and a projection
// that reads before it writes (an alert and the clears that may close it) must see one order.
// Retrying is safe because accepting a batch is idempotent (the log dedupes by key).
import pg from 'pg';
import type { Database, Executor, Params } from '../store/sqlite.js';
import { toPostgres } from './pg-sql.js';

// BIGINT (epoch ms, counts) as numbers, as SQLite gives them: exact below 2^53.
pg.types.setTypeParser(20, (v) => Number(v));

const RETRIES = 20;
const RETRYABLE = new Set(['40001', '40P01']); // serialization failure, deadlock

/** Translated SQL, cached: the same statements run again and again. */
const translated = new Map<string, string>();
const sqlFor = (sql: string) => {
  let t = translated.get(sql);
  if (t === undefined) {
    t = toPostgres(sql);
    if (translated.size < 10_000) translated.set(sql, t);
  }
  return t;
};

function executor(q: (sql: string, params: unknown[]) => Promise<pg.QueryResult>): Executor {
  const run = async (sql: string, params: Params = []) => ({ changes: (await q(sqlFor(sql), [...params])).rowCount ?? 0, lastID: 0 });
  return {
    run,
    runPrepared: run,
    all: async <T>(sql: string, params: Params = []) => (await q(sqlFor(sql), [...params])).rows as T[],
    get: async <T>(sql: string, params: Params = []) => (await q(sqlFor(sql), [...params])).rows[0] as T | undefined,
    exec: async (sql: string) => {
      await q(sql, []);
    },
  };
}

export interface PgDatabase extends Database {
  /** Subscribes to a NOTIFY channel (a connection of its own); returns the unsubscribe. */
  listen(channel: string, onMessage: (payload: string) => void): Promise<() => Promise<void>>;
  notify(channel: string, payload: string): Promise<void>;
}

export async function openPgDatabase(url: string): Promise<PgDatabase> {
  const pool = new pg.Pool({ connectionString: url, max: 8 });
  // A connection that fails while idle must not take the process down (the pool replaces it).
  pool.on('error', () => undefined);
  await pool.query('SELECT 1'); // fail at start, with the server's message, not at the first message
  const direct = executor((sql, params) => pool.query(sql, params));
  const redacted = url.replace(/\/\/[^@/]*@/, '//***@');
  return {
    ...direct,
    path: redacted,
    async transaction<T>(fn: (tx: Executor) => Promise<T>): Promise<T> {
      for (let attempt = 0; ; attempt++) {
        const client = await pool.connect();
        try {
          await client.query('BEGIN ISOLATION LEVEL SERIALIZABLE');
          const result = await fn(executor((sql, params) => client.query(sql, params)));
          await client.query('COMMIT');
          return result;
        } catch (err) {
          await client.query('ROLLBACK').catch(() => undefined);
          const code = (err as { code?: string }).code;
          if (!code || !RETRYABLE.has(code) || attempt >= RETRIES) throw err;
          await new Promise((r) => setTimeout(r, Math.random() * 10 * (attempt + 1)));
        } finally {
          client.release();
        }
      }
    },
    async listen(channel, onMessage) {
      // Its own connection, re-made when it drops (a PostgreSQL restart): notifications sent
      // while it is down are missed (the live view only; the read model has everything).
      let client: pg.Client | undefined;
      let stopped = false;
      let timer: NodeJS.Timeout | undefined;
      const retry = () => {
        if (!stopped) timer = setTimeout(() => void connect().catch(retry), 2000);
      };
      const connect = async (): Promise<void> => {
        const c = new pg.Client({ connectionString: url });
        c.on('error', () => undefined); // followed by 'end'
        c.on('end', () => {
          if (client !== c) return;
          client = undefined;
          retry();
        });
        c.on('notification', (n) => {
          if (n.channel === channel && n.payload !== undefined) onMessage(n.payload);
        });
        await c.connect();
        await c.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
        client = c;
      };
      await connect();
      return async () => {
        stopped = true;
        clearTimeout(timer);
        await client?.end().catch(() => undefined);
      };
    },
    async notify(channel, payload) {
      await pool.query('SELECT pg_notify($1, $2)', [channel, payload]);
    },
    close: () => pool.end(),
  };
}
