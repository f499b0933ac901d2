// The fleet's store: the append-only log and the projections built from it, in SQLite (one
// instance) or PostgreSQL (several instances, pg-database.ts), with the same SQL (pg-sql.ts)
// and the same contract (test/integration/fleet-store-contract.test.ts). Accepting a batch is one
// transaction: each entry is appended unless its key is there already (a redelivery), and only
// a new entry is projected. Rebuild replays the log in append order.
import { openDatabase, useWal, type Database, type Executor } from '../store/sqlite.js';
import { LOG_SCHEMA, PROJECTION_SCHEMA, PROJECTION_TABLES, PROJECTION_VERSION } from './fleet-schema.js';
import { flushSeen, projectBatch, type LogEntry, type Seen } from './projection.js';
import { openPgDatabase } from './pg-database.js';
import { PG_COMPAT, postgresSchema } from './pg-sql.js';
import type { FleetConfig } from './fleet-config.js';

export interface FleetStore {
  readonly db: Database;
  /** Appends and projects; returns the entries that were new (not redeliveries). */
  accept(entries: readonly LogEntry[]): Promise<LogEntry[]>;
  deadLetter(d: { receivedAt: number; topic: string; reason: string; detail: string; payload: string | null }): Promise<void>;
  audit(who: string, action: string, target: string, at: number): Promise<void>;
  /** Drops the projections and replays the whole log into them. Returns the entries replayed. */
  rebuild(): Promise<number>;
  /** Deletes log entries, summaries and alerts older than `before` (epoch ms). */
  retain(before: number): Promise<number>;
  /**
   * Changes made by any instance on this store, for the dashboard's live view: `publish` sends
   * them to every subscriber (PostgreSQL: NOTIFY to every instance; SQLite: this process).
   */
  changes: { publish(changes: ReadonlyArray<Record<string, unknown>>): Promise<void>; subscribe(fn: (change: Record<string, unknown>) => void): Promise<() => Promise<void>> };
  close(): Promise<void>;
}

/** NOTIFY payloads stay under PostgreSQL's 8,000 bytes. */
const NOTIFY_BYTES = 7000;
const CHANNEL = 'outpost_fleet_changes';

const BATCH = 2000;
/** Stores made before projection version 5 lack summaries.versions (the rebuild that follows fills it). */
const SUMMARY_VERSIONS = 'ALTER TABLE summaries ADD COLUMN versions INTEGER NOT NULL DEFAULT 1;';

type LogRow = { key: string; kind: string; device: string | null; seq: number | null; prefix: string; payload: string; received_at: number };
const LOG_COLUMNS = 'key, kind, device, seq, prefix, payload, received_at';
const entryOf = (r: LogRow): LogEntry => ({ key: r.key, kind: r.kind, device: r.device, seq: r.seq, prefix: r.prefix, payload: r.payload, receivedAt: r.received_at });
const LOG_ROWS = 100; // 8 parameters each

/** Whether the projections are missing or of another version than this release's. */
const projectionsStale = async (tx: Executor) => (await tx.get<{ value: string }>("SELECT value FROM meta WHERE key = 'projection_version'"))?.value !== PROJECTION_VERSION;

export async function openFleetStore(where: FleetConfig['store'] | string): Promise<FleetStore> {
  const cfg = typeof where === 'string' ? { type: 'sqlite' as const, path: where } : where;
  let db: Database;
  let changes: FleetStore['changes'];
  if (cfg.type === 'postgres') {
    const pg = await openPgDatabase(cfg.url);
    db = pg;
    // One instance at a time creates the schema (a transaction-scoped advisory lock).
    await pg.transaction(async (tx) => {
      await tx.exec(`SELECT pg_advisory_xact_lock(7217001)`);
      await tx.exec(PG_COMPAT + postgresSchema(LOG_SCHEMA) + postgresSchema(PROJECTION_SCHEMA));
      // Only on a store of an earlier projection version: ALTER TABLE locks summaries against
      // every reader even when it adds nothing. (Not by looking for the column: this transaction's
      // snapshot predates the lock wait, so an instance that waited for another's schema would
      // not see the column that one just made, and ADD COLUMN would fail; IF NOT EXISTS reads
      // the catalog as it is.)
      if (await projectionsStale(tx)) await tx.exec(postgresSchema(SUMMARY_VERSIONS).replace('ADD COLUMN', 'ADD COLUMN IF NOT EXISTS'));
    });
    changes = {
      async publish(list) {
        let chunk: string[] = [];
        let bytes = 0;
        const send = async () => {
          if (chunk.length > 0) await pg.notify(CHANNEL, `[${chunk.join(',')}]`);
          chunk = [];
          bytes = 0;
        };
        for (const c of list) {
          const text = JSON.stringify(c);
          const size = Buffer.byteLength(text);
          if (size > NOTIFY_BYTES) continue; // a change that large is not a live-view change (none is)
          if (bytes + size > NOTIFY_BYTES) await send();
          chunk.push(text);
          bytes += size + 1;
        }
        await send();
      },
      subscribe: (fn) =>
        pg.listen(CHANNEL, (payload) => {
          let list: unknown;
          try {
            list = JSON.parse(payload);
          } catch {
            return; // not ours (anyone may NOTIFY on the channel)
          }
          if (Array.isArray(list)) for (const c of list) if (c && typeof c === 'object') fn(c as Record<string, unknown>);
        }),
    };
  } else {
    db = await openDatabase(cfg.path);
    await useWal(db, 'NORMAL');
    await db.exec(LOG_SCHEMA);
    await db.exec(PROJECTION_SCHEMA);
    if (!(await db.get("SELECT 1 AS ok FROM pragma_table_info('summaries') WHERE name = 'versions'"))) await db.exec(SUMMARY_VERSIONS);
    const listeners = new Set<(change: Record<string, unknown>) => void>();
    changes = {
      async publish(list) {
        for (const c of list) for (const fn of listeners) fn(c);
      },
      async subscribe(fn) {
        listeners.add(fn);
        return async () => void listeners.delete(fn);
      },
    };
  }
  /** Appends what is new (by key); returns those entries, in order. */
  const append = async (tx: Executor, entries: readonly LogEntry[]): Promise<LogEntry[]> => {
    const fresh: LogEntry[] = [];
    for (let i = 0; i < entries.length; i += LOG_ROWS) {
      const chunk = entries.slice(i, i + LOG_ROWS);
      const inserted = await tx.all<{ key: string }>(
        `INSERT OR IGNORE INTO log (key, kind, device, seq, prefix, topic, payload, received_at) VALUES ${chunk.map(() => '(?, ?, ?, ?, ?, ?, ?, ?)').join(', ')} RETURNING key`,
        chunk.flatMap((e) => [e.key, e.kind, e.device, e.seq, e.prefix, `${e.prefix}/${e.kind}`, e.payload, e.receivedAt]),
      );
      const keys = new Set(inserted.map((r) => r.key));
      // A key twice in one chunk is inserted once: the first occurrence is the new one.
      for (const e of chunk) if (keys.delete(e.key)) fresh.push(e);
    }
    return fresh;
  };
  // Several instances on one PostgreSQL: accepting and retention share the projections, a
  // rebuild has them alone (a transaction-scoped advisory lock), so a rebuild replays the log
  // in its order with nothing projected beside it: two rebuilds at once, or one while another
  // instance accepts, give the read model of one rebuild. Accepts wait while a rebuild runs.
  const shareProjections = async (tx: Executor) => {
    if (cfg.type === 'postgres') await tx.exec('SELECT pg_advisory_xact_lock_shared(7217003)');
  };
  /** Drops the projections and replays the whole log, in one transaction, if `needed` still says so. */
  const rebuild = (needed: (tx: Executor) => Promise<boolean>): Promise<number> =>
    db.transaction(async (tx) => {
      if (cfg.type === 'postgres') await tx.exec('SELECT pg_advisory_xact_lock(7217003)');
      if (!(await needed(tx))) return 0;
      for (const t of PROJECTION_TABLES) await tx.run(`DELETE FROM ${t}`);
      let after = 0;
      let n = 0;
      for (;;) {
        const rows = await tx.all<LogRow & { rowid: number }>(`SELECT rowid, ${LOG_COLUMNS} FROM log WHERE rowid > ? ORDER BY rowid LIMIT ?`, [after, BATCH]);
        if (rows.length === 0) break;
        const seen: Seen = new Map();
        await projectBatch(tx, rows.map(entryOf), seen);
        await flushSeen(tx, seen);
        n += rows.length;
        after = rows[rows.length - 1]!.rowid;
      }
      await tx.run("INSERT INTO meta (key, value) VALUES ('projection_version', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value", [PROJECTION_VERSION]);
      return n;
    });
  const store: FleetStore = {
    db,
    changes,
    accept: (entries) =>
      db.transaction(async (tx) => {
        await shareProjections(tx);
        // By device (stable: a device's order kept): concurrent instances lock device rows in
        // one order, so their batches never deadlock (PostgreSQL notices one only after a second).
        // Entries of no device (statuses, acknowledgements) stay after the rest: an acknowledgement
        // comes after the alert it acknowledges.
        const key = (e: LogEntry) => e.device ?? '\uffff';
        const fresh = await append(tx, [...entries].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0)));
        const seen: Seen = new Map();
        await projectBatch(tx, fresh, seen);
        await flushSeen(tx, seen);
        return fresh;
      }),
    async deadLetter(d) {
      await db.run('INSERT INTO dead_letters (received_at, topic, reason, detail, payload) VALUES (?, ?, ?, ?, ?)', [d.receivedAt, d.topic.slice(0, 1024), d.reason, d.detail.slice(0, 1000), d.payload?.slice(0, 4096) ?? null]);
    },
    async audit(who, action, target, at) {
      await db.run('INSERT INTO audit (at, who, action, target) VALUES (?, ?, ?, ?)', [at, who, action, target]);
    },
    rebuild: () => rebuild(async () => true),
    async retain(before) {
      // What is older goes from the log, except the entries that say how things stand now (the
      // latest status of each prefix and health of each device), the events (availability,
      // staleness, rules: changes of state, few, and an alert's clear must stay with the alert) and the
      // acknowledgements of alerts still kept; then the projection rows whose entries went. A
      // rebuild after it gives what the projections are.
      return db.transaction(async (tx) => {
        await shareProjections(tx);
        // Several instances on one PostgreSQL: one retains at a time, the others skip this round.
        if (cfg.type === 'postgres' && !(await tx.get<{ ok: boolean }>('SELECT pg_try_advisory_xact_lock(7217002) AS ok'))?.ok) return 0;
        const gone = (
          await tx.run(
            `DELETE FROM log WHERE received_at < ? AND kind NOT IN ('ack', 'event') AND rowid NOT IN (
               SELECT max(rowid) FROM log WHERE kind = 'status' GROUP BY prefix
               UNION SELECT rowid FROM (SELECT rowid, row_number() OVER (PARTITION BY device ORDER BY json_extract(payload, '$.ts') DESC) AS n FROM log WHERE kind = 'health') AS latest WHERE n = 1)`,
            [before],
          )
        ).changes;
        await tx.run("DELETE FROM log WHERE kind = 'ack' AND NOT EXISTS (SELECT 1 FROM log a WHERE a.key = json_extract(log.payload, '$.id'))");
        // A window whose winning version went may have another version left (a partial received
        // later): projected again from what the log keeps, as a rebuild would.
        // Only a window projected from more than one version can have another left.
        const orphans = await tx.all<{ device: string; sensor: string; start: number; end: number }>(
          'SELECT device, sensor, start, end FROM summaries WHERE versions > 1 AND NOT EXISTS (SELECT 1 FROM log WHERE log.device = summaries.device AND log.seq = summaries.seq)',
        );
        await tx.run('DELETE FROM summaries WHERE NOT EXISTS (SELECT 1 FROM log WHERE log.device = summaries.device AND log.seq = summaries.seq)');
        for (const o of orphans) {
          const rows = await tx.all<LogRow>(
            `SELECT ${LOG_COLUMNS} FROM log WHERE device = ? AND kind = 'summary' AND json_extract(payload, '$.sensor') = ? AND json_extract(payload, '$.window.start') = ? AND json_extract(payload, '$.window.end') = ? ORDER BY rowid`,
            [o.device, o.sensor, new Date(o.start).toISOString(), new Date(o.end).toISOString()],
          );
          await projectBatch(tx, rows.map(entryOf), new Map());
        }
        await tx.run('DELETE FROM alerts WHERE NOT EXISTS (SELECT 1 FROM log WHERE log.key = alerts.id)');
        await tx.run('DELETE FROM clears WHERE NOT EXISTS (SELECT 1 FROM log WHERE log.key = clears.key)');
        await tx.run('DELETE FROM devices WHERE NOT EXISTS (SELECT 1 FROM log WHERE log.device = devices.device)');
        await tx.run('DELETE FROM prefixes WHERE NOT EXISTS (SELECT 1 FROM log WHERE log.prefix = prefixes.prefix AND log.device IS NOT NULL)');
        // Commands whose issue went with the log (and replies-only rows as old), and their backfills.
        await tx.run("DELETE FROM commands WHERE coalesce(issued_at, updated_at) < ? AND NOT EXISTS (SELECT 1 FROM log WHERE log.key = 'cmd:' || commands.id)", [before]);
        await tx.run('DELETE FROM backfills WHERE NOT EXISTS (SELECT 1 FROM commands c WHERE c.device = backfills.device AND c.id = backfills.command)');
        await tx.run('DELETE FROM command_replies_seen WHERE NOT EXISTS (SELECT 1 FROM log WHERE log.key = command_replies_seen.key)');
        await tx.run('DELETE FROM dead_letters WHERE received_at < ?', [before]);
        return gone;
      });
    },
    close: () => db.close(),
  };
  // A new store, or projections of another version: built from the log (by one instance: the
  // others, waiting for its lock, find them built).
  if (await projectionsStale(db)) await rebuild(projectionsStale);
  return store;
}
