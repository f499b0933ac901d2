// The transactional outbox: every message for upstream is a row, numbered by the per-device
// seq counter in the same transaction that inserts it, and deleted only after the broker's
// PUBACK. Drain order is seq order.
import type { Database, Executor } from './sqlite.js';
import { insertRows } from './sqlite.js';

export type MessageKind = 'summary' | 'anomaly';

export interface OutboxMessage {
  kind: MessageKind;
  sensor: string;
  /** Full JSON payload, id included. */
  payload: string;
  createdAt: number;
}

export interface OutboxRow {
  seq: number;
  kind: MessageKind;
  sensor: string;
  payload: string;
  bytes: number;
}

export interface OutboxStats {
  rows: number;
  bytes: number;
  /** created_at of the oldest undelivered row, epoch ms, or null when empty. */
  oldestCreatedAt: number | null;
}

export interface Outbox {
  /** The seq the next message will get. Seqs rise by one per message, across restarts. */
  nextSeq(): number;
  /** Inserts messages built for consecutive seqs from nextSeq(), inside the caller's transaction. */
  appendTx(tx: Executor, build: (seq: number) => OutboxMessage, count: number): Promise<void>;
  /** Call after the transaction that used appendTx committed (true) or rolled back (false). */
  settle(committed: boolean): void;
  readAfter(seq: number, limit: number): Promise<OutboxRow[]>;
  remove(rows: ReadonlyArray<Pick<OutboxRow, 'seq' | 'bytes'>>): Promise<void>;
  stats(): Promise<OutboxStats>;
}

export async function openOutbox(db: Database): Promise<Outbox> {
  const meta = await db.get<{ value: number }>("SELECT value FROM meta WHERE key = 'next_seq'");
  const totals = await db.get<{ rows: number; bytes: number | null; maxSeq: number | null }>(
    'SELECT COUNT(*) AS rows, SUM(length(CAST(payload AS BLOB))) AS bytes, MAX(seq) AS maxSeq FROM outbox',
  );
  // The counter and the rows commit together, so they agree; max() guards a hand-edited file.
  let next = Math.max(meta?.value ?? 1, (totals?.maxSeq ?? 0) + 1);
  // In-memory totals: `committed` is on disk, `pending` includes an open transaction's rows.
  let committed = { next, rows: totals?.rows ?? 0, bytes: totals?.bytes ?? 0 };
  let pending = { ...committed };

  return {
    nextSeq: () => next,
    async appendTx(tx, build, count) {
      if (count === 0) return;
      const rows: unknown[][] = [];
      let bytes = 0;
      for (let i = 0; i < count; i++) {
        const m = build(next + i);
        bytes += Buffer.byteLength(m.payload);
        rows.push([next + i, m.kind, m.sensor, m.payload, m.createdAt]);
      }
      await insertRows(tx, 'INSERT INTO outbox (seq, kind, sensor, payload, created_at)', 5, rows);
      next += count;
      await tx.run("UPDATE meta SET value = ? WHERE key = 'next_seq'", [next]);
      pending = { next, rows: pending.rows + count, bytes: pending.bytes + bytes };
    },
    settle(ok) {
      if (ok) committed = { ...pending };
      else {
        pending = { ...committed };
        next = committed.next;
      }
    },
    readAfter: (seq, limit) =>
      db.all<OutboxRow>(
        'SELECT seq, kind, sensor, payload, length(CAST(payload AS BLOB)) AS bytes FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?',
        [seq, limit],
      ),
    async remove(rows) {
      if (rows.length === 0) return;
      const seqs = rows.map((r) => r.seq);
      await db.transaction(async (tx) => {
        for (let i = 0; i < seqs.length; i += 500) {
          const chunk = seqs.slice(i, i + 500);
          await tx.run(`DELETE FROM outbox WHERE seq IN (${chunk.map(() => '?').join(',')})`, chunk);
        }
      });
      const bytes = rows.reduce((n, r) => n + r.bytes, 0);
      committed = { ...committed, rows: committed.rows - rows.length, bytes: committed.bytes - bytes };
      pending = { ...pending, rows: pending.rows - rows.length, bytes: pending.bytes - bytes };
    },
    async stats() {
      const oldest = await db.get<{ created_at: number }>('SELECT created_at FROM outbox ORDER BY seq LIMIT 1');
      return { rows: committed.rows, bytes: committed.bytes, oldestCreatedAt: oldest?.created_at ?? null };
    },
  };
}
