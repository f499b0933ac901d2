// Inputs that could not become readings, kept with their reason so nothing is dropped silently.
import type { Database, Executor } from './sqlite.js';
import { insertRows } from './sqlite.js';
import { trimOldest } from './trim-oldest.js';
import type { Rejection } from '../stream/rejection.js';

/** Bytes of an offending payload kept for inspection; the rest is cut (and the detail says so). */
export const DEAD_LETTER_PAYLOAD_BYTES = 4096;

export interface DeadLetterRow {
  id: number;
  received_at: number;
  source: string;
  topic: string | null;
  reason: string;
  detail: string;
  payload: Buffer | null;
}

export async function insertDeadLettersTx(tx: Executor, rejections: readonly Rejection[]): Promise<void> {
  const rows = rejections.map((r) => {
    const payload = r.payload === undefined ? null : Buffer.from(r.payload);
    const cut = payload !== null && payload.length > DEAD_LETTER_PAYLOAD_BYTES;
    return [
      r.receivedAt,
      r.source,
      r.topic ?? null,
      r.reason,
      cut ? `${r.detail} (payload cut to ${DEAD_LETTER_PAYLOAD_BYTES} bytes)` : r.detail,
      cut ? payload.subarray(0, DEAD_LETTER_PAYLOAD_BYTES) : payload,
    ];
  });
  await insertRows(tx, 'INSERT INTO dead_letters (received_at, source, topic, reason, detail, payload)', 6, rows);
}

export async function countDeadLetters(db: Database): Promise<Record<string, number>> {
  const rows = await db.all<{ reason: string; n: number }>('SELECT reason, COUNT(*) AS n FROM dead_letters GROUP BY reason');
  return Object.fromEntries(rows.map((r) => [r.reason, r.n]));
}

export async function listDeadLetters(db: Database, limit: number): Promise<DeadLetterRow[]> {
  return db.all<DeadLetterRow>('SELECT * FROM dead_letters ORDER BY id DESC LIMIT ?', [limit]);
}

const ROW_BYTES = 'ifnull(length(payload), 0) + length(detail) + length(reason) + ifnull(length(topic), 0) + 48';

/** Bytes the dead letters take (their payloads and texts, plus a per-row allowance). */
export async function deadLetterBytes(db: Database): Promise<number> {
  return (await db.get<{ bytes: number | null }>(`SELECT SUM(${ROW_BYTES}) AS bytes FROM dead_letters`))?.bytes ?? 0;
}

/** Deletes the oldest dead letters until at most `maxBytes` remain; returns how many were deleted. */
export async function trimDeadLetters(db: Database, maxBytes: number): Promise<number> {
  const excess = (await deadLetterBytes(db)) - maxBytes;
  return excess > 0 ? trimOldest(db, { table: 'dead_letters', bytes: ROW_BYTES, counts: '1' }, excess) : 0;
}

export interface DeadLetterFilter {
  reason?: string;
  ids?: number[];
  /** Received before this (epoch ms). */
  before?: number;
}

/** A WHERE clause (or '') and its parameters for the rows a filter selects. */
export function deadLetterWhere(f: DeadLetterFilter): { sql: string; params: unknown[] } {
  const where: string[] = [];
  const params: unknown[] = [];
  if (f.reason) {
    where.push('reason = ?');
    params.push(f.reason);
  }
  if (f.ids && f.ids.length > 0) {
    where.push(`id IN (${f.ids.map(() => '?').join(',')})`);
    params.push(...f.ids);
  }
  if (f.before !== undefined) {
    where.push('received_at < ?');
    params.push(f.before);
  }
  return { sql: where.length ? `WHERE ${where.join(' AND ')}` : '', params };
}
