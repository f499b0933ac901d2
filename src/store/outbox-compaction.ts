// Making room in a full outbox without losing what the readings said: merge adjacent summaries
// of a sensor into coarser windows (exactly), oldest first; only then drop. Rows the uplink may
// have in flight (seq at or below `claimed`) are never touched.
import { insertRows, type Database } from './sqlite.js';
import type { MessageKind, Outbox } from './outbox.js';
/** Two stored rows to one, or undefined when they may not merge (wire/merge-stored.ts: the store never reads a payload). */
export type RowMerger = (a: { seq: number; payload: string; sketch: string | null }, b: { seq: number; payload: string; sketch: string | null }) => { payload: string; sketch: string | null } | undefined;

export interface MergePass {
  /** Pairs merged (each removes one row). */
  merged: number;
  /** Bytes of payload and sketch removed. */
  freed: number;
  /** Where the next pass continues (0: from the oldest again). */
  next: number;
}

/**
 * Merges pairs among up to `chunk` summaries after `from` (and after `claimed`), in one
 * transaction: each sensor's summaries in seq order are taken two by two; a merged row keeps
 * the earlier seq. The chunk is rewritten whole (deleted, then inserted again in seq order) so
 * that its pages come out full: deleting every other row would leave them half empty, and the
 * file no smaller. `chunk` bounds the transaction, and so the WAL.
 */
export async function mergePass(db: Database, outbox: Outbox, merge: RowMerger, claimed: () => number, from: number, chunk: number): Promise<MergePass> {
  let merged = 0;
  let freed = 0;
  let last = 0;
  let payloadDelta = 0;
  await db.transaction(async (tx) => {
    const rows = await tx.all<Row>(
      // claimed() is read inside the transaction: no uplink read can slip in between.
      "SELECT seq, kind, sensor, payload, created_at, sketch FROM outbox WHERE kind = 'summary' AND seq > ? ORDER BY seq LIMIT ?",
      [Math.max(claimed(), from), chunk],
    );
    if (rows.length === 0) return;
    last = rows.length < chunk ? 0 : rows[rows.length - 1]!.seq;
    const bySensor = new Map<string, Row[]>();
    for (const r of rows) {
      const list = bySensor.get(r.sensor) ?? [];
      list.push(r);
      bySensor.set(r.sensor, list);
    }
    const gone = new Set<number>();
    for (const list of bySensor.values()) {
      for (let i = 0; i + 1 < list.length; ) {
        const a = list[i]!;
        const b = list[i + 1]!;
        const m = merge(a, b);
        if (!m) {
          i++;
          continue;
        }
        const before = Buffer.byteLength(a.payload) + Buffer.byteLength(b.payload);
        payloadDelta += Buffer.byteLength(m.payload) - before;
        freed += before + (a.sketch?.length ?? 0) + (b.sketch?.length ?? 0) - Buffer.byteLength(m.payload) - (m.sketch?.length ?? 0);
        a.payload = m.payload;
        a.sketch = m.sketch;
        gone.add(b.seq);
        merged++;
        i += 2;
      }
    }
    if (merged === 0) return;
    await tx.run("DELETE FROM outbox WHERE kind = 'summary' AND seq BETWEEN ? AND ?", [rows[0]!.seq, rows[rows.length - 1]!.seq]);
    const kept = rows.filter((r) => !gone.has(r.seq)).map((r) => [r.seq, r.kind, r.sensor, r.payload, r.created_at, r.sketch]);
    await insertRows(tx, 'INSERT INTO outbox (seq, kind, sensor, payload, created_at, sketch)', 6, kept);
  });
  if (merged > 0) outbox.adjust(-merged, payloadDelta);
  return { merged, freed, next: last };
}

interface Row {
  seq: number;
  kind: MessageKind;
  sensor: string;
  payload: string;
  created_at: number;
  sketch: string | null;
}

/** Deletes the oldest `count` rows of a class after `claimed`; returns how many went. */
export async function dropOldest(db: Database, outbox: Outbox, kind: MessageKind, claimed: () => number, count: number): Promise<number> {
  const gone = await db.transaction((tx) =>
    tx.all<{ bytes: number }>(
      'DELETE FROM outbox WHERE seq IN (SELECT seq FROM outbox WHERE kind = ? AND seq > ? ORDER BY seq LIMIT ?) RETURNING length(CAST(payload AS BLOB)) AS bytes',
      [kind, claimed(), count],
    ),
  );
  outbox.adjust(-gone.length, -gone.reduce((n, g) => n + g.bytes, 0));
  return gone.length;
}

/** Average stored bytes of a row of this class (payload and sketch), from the oldest rows. */
export async function rowBytes(db: Database, kind: MessageKind): Promise<number> {
  const r = await db.get<{ bytes: number | null }>(
    'SELECT AVG(length(CAST(payload AS BLOB)) + ifnull(length(sketch), 0)) AS bytes FROM (SELECT payload, sketch FROM outbox WHERE kind = ? ORDER BY seq LIMIT 500)',
    [kind],
  );
  return (r?.bytes ?? 200) + 40; // plus b-tree cell and index overhead
}
