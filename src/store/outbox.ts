// The transactional outbox: every message for upstream is a row, deleted only after the
// broker's PUBACK. Seqs are reserved in memory, in emission order, when the group commit cuts a
// batch, and written with the batch (the counter `next_seq` in the same transaction), so a
// batch that fails to commit is retried with the same ids. Drain order is seq order per class
// (anomalies, events, then summaries).
import type { Database, Executor } from './sqlite.js';
import { insertRows } from './sqlite.js';

/**
 * A row's class, its drain lane and the first level of its topic (`<prefix>/<kind>/<sensor>`;
 * a command reply's topic comes from its row: see rowTopic()).
 */
export type MessageKind = 'summary' | 'anomaly' | 'event' | 'reply';
export const MESSAGE_KINDS: readonly MessageKind[] = ['anomaly', 'reply', 'event', 'summary'];
/** The kinds that drain first and are never merged (anomalies, command replies and events). */
export const isPriority = (kind: MessageKind): boolean => kind !== 'summary';

export interface OutboxMessage {
  seq: number;
  kind: MessageKind;
  sensor: string;
  /** Full JSON payload, id included. */
  payload: string;
  createdAt: number;
  /** A summary's quantile sketch (JSON), kept so it can be merged exactly; null otherwise. */
  sketch: string | null;
  /** MQTT 5 publish properties to send with it (JSON, opaque here): a reply's correlation data. */
  props?: string | null;
  /** Not produced by the stream (a command reply, a backfill): recovery steps over its seq. */
  outside?: boolean;
  /** A command reply: the command's record is updated in the same transaction (commands table). */
  command?: { id: string; name: string; keepUntil: number; state: 'accepted' | 'final'; reply: string };
}

export interface OutboxRow {
  seq: number;
  kind: MessageKind;
  sensor: string;
  payload: string;
  bytes: number;
  props?: string | null;
}

/**
 * The topic a row is published on under the uplink's prefix: `<kind>/<sensor>`; a reply's
 * `sensor` is its topic under the prefix (`cmd-result`, or a requester's `cmd-result/...`).
 */
export const rowTopic = (prefix: string, r: { kind: MessageKind; sensor: string }): string => (r.kind === 'reply' ? `${prefix}/${r.sensor}` : `${prefix}/${r.kind}/${r.sensor}`);

export interface OutboxStats {
  rows: number;
  bytes: number;
  /** created_at of the oldest undelivered row, epoch ms, or null when empty. */
  oldestCreatedAt: number | null;
}

export interface Outbox {
  /** The seq the next reserved message gets. Seqs rise by one per message, across restarts. */
  nextSeq(): number;
  /** Reserves `count` consecutive seqs and returns the first. */
  reserve(count: number): number;
  /** Inserts rows inside the caller's transaction and sets the stored counter to `nextSeq`. */
  appendTx(tx: Executor, rows: readonly OutboxMessage[], nextSeq: number): Promise<void>;
  /** Call after the transaction that used appendTx committed (true) or rolled back (false). */
  settle(committed: boolean): void;
  /** Rows of one class after `seq`, in seq order. */
  readAfter(kind: MessageKind, seq: number, limit: number): Promise<OutboxRow[]>;
  /** Deletes delivered rows (those still there); returns how many were deleted. */
  remove(seqs: readonly number[]): Promise<number>;
  /**
   * Rows of a class up to this seq may have reached the fleet broker without their PUBACK
   * reaching us (it never falls, across restarts): compaction must never rewrite them, or a
   * consumer would get one window under two ids, or drop a merged row as a duplicate.
   */
  handedUpTo(kind: MessageKind): number;
  /**
   * Raises the mark before rows up to `seq` are handed to the uplink; written ahead in strides
   * (HANDED_STRIDE seqs), so it costs one small commit per few thousand messages.
   */
  markHanded(kind: MessageKind, seq: number): Promise<void>;
  /** Adjusts the in-memory totals after rows were rewritten or deleted by someone else (the budget). */
  adjust(rows: number, bytes: number): void;
  stats(): Promise<OutboxStats>;
}

/** How far ahead of the rows being handed over the mark is written (seqs). */
export const HANDED_STRIDE = 4096;

export async function openOutbox(db: Database): Promise<Outbox> {
  const meta = await db.get<{ value: number }>("SELECT value FROM meta WHERE key = 'next_seq'");
  const handed: Record<MessageKind, number> = { anomaly: 0, reply: 0, event: 0, summary: 0 };
  for (const kind of MESSAGE_KINDS) handed[kind] = (await db.get<{ value: number }>('SELECT value FROM meta WHERE key = ?', [`handed_${kind}`]))?.value ?? 0;
  const persisted = { ...handed };
  const totals = await db.get<{ rows: number; bytes: number | null; maxSeq: number | null }>(
    'SELECT COUNT(*) AS rows, SUM(length(CAST(payload AS BLOB))) AS bytes, MAX(seq) AS maxSeq FROM outbox',
  );
  // The counter and the rows commit together, so they agree; max() guards a hand-edited file.
  let next = Math.max(meta?.value ?? 1, (totals?.maxSeq ?? 0) + 1);
  // In-memory totals: `committed` is on disk, `pending` includes an open transaction's rows.
  let committed = { rows: totals?.rows ?? 0, bytes: totals?.bytes ?? 0 };
  let pending = { ...committed };

  return {
    nextSeq: () => next,
    reserve(count) {
      const first = next;
      next += count;
      return first;
    },
    async appendTx(tx, rows, nextSeq) {
      if (rows.length > 0) {
        let bytes = 0;
        // Without quantiles no row has a sketch: one parameter less to bind per row.
        const sketches = rows.some((m) => m.sketch !== null || (m.props ?? null) !== null);
        const values = rows.map((m) => {
          bytes += Buffer.byteLength(m.payload);
          return sketches ? [m.seq, m.kind, m.sensor, m.payload, m.createdAt, m.sketch, m.props ?? null] : [m.seq, m.kind, m.sensor, m.payload, m.createdAt];
        });
        if (sketches) await insertRows(tx, 'INSERT INTO outbox (seq, kind, sensor, payload, created_at, sketch, props)', 7, values);
        else await insertRows(tx, 'INSERT INTO outbox (seq, kind, sensor, payload, created_at)', 5, values);
        pending = { rows: pending.rows + rows.length, bytes: pending.bytes + bytes };
      }
      await tx.run("UPDATE meta SET value = ? WHERE key = 'next_seq' AND value < ?", [nextSeq, nextSeq]);
    },
    settle(ok) {
      if (ok) committed = { ...pending };
      else pending = { ...committed };
    },
    readAfter: (kind, seq, limit) =>
      db.all<OutboxRow>(
        // Anomalies, replies and events use their partial indexes (outbox_anomalies, ...); summaries walk the rowid.
        `SELECT seq, kind, sensor, payload, length(CAST(payload AS BLOB)) AS bytes${kind === 'reply' ? ', props' : ''} FROM outbox WHERE kind = ? AND seq > ? ORDER BY seq LIMIT ?`,
        [kind, seq, limit],
      ),
    async remove(seqs) {
      if (seqs.length === 0) return 0;
      let rows = 0;
      let bytes = 0;
      await db.transaction(async (tx) => {
        for (let i = 0; i < seqs.length; i += 500) {
          const chunk = seqs.slice(i, i + 500);
          const gone = await tx.all<{ bytes: number }>(
            `DELETE FROM outbox WHERE seq IN (${chunk.map(() => '?').join(',')}) RETURNING length(CAST(payload AS BLOB)) AS bytes`,
            chunk,
          );
          rows += gone.length;
          for (const g of gone) bytes += g.bytes;
        }
      });
      committed = { rows: committed.rows - rows, bytes: committed.bytes - bytes };
      pending = { rows: pending.rows - rows, bytes: pending.bytes - bytes };
      return rows;
    },
    handedUpTo: (kind) => handed[kind],
    async markHanded(kind, seq) {
      if (seq <= handed[kind] && persisted[kind] >= handed[kind]) return;
      // In memory first: this process never compacts past it even when the write fails (the
      // store cannot write then, so it cannot compact either); the next call writes it again.
      if (seq > handed[kind]) handed[kind] = seq + HANDED_STRIDE;
      const mark = handed[kind];
      await db.run('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = max(value, excluded.value)', [`handed_${kind}`, mark]);
      persisted[kind] = Math.max(persisted[kind], mark);
    },
    adjust(rows, bytes) {
      committed = { rows: committed.rows + rows, bytes: committed.bytes + bytes };
      pending = { rows: pending.rows + rows, bytes: pending.bytes + bytes };
    },
    async stats() {
      const oldest = await db.get<{ created_at: number }>('SELECT created_at FROM outbox ORDER BY seq LIMIT 1');
      return { rows: committed.rows, bytes: committed.bytes, oldestCreatedAt: oldest?.created_at ?? null };
    },
  };
}
