// Writing cut batches: one transaction holds their journal batches, outbox rows (with the seq
// counter), dead letters and, at the end of the batch it was cut with, the checkpoint covering
// exactly the journal written before it. And what is said when a stop must give up held work.
import type { Executor } from './sqlite.js';
import { isPriority, type Outbox } from './outbox.js';
import type { Batch } from './held-batches.js';
import { insertDeadLettersTx } from './dead-letters.js';
import { appendJournalTx } from './journal.js';
import { saveCheckpointTx } from './checkpoint.js';

/** Writes `batches` in `tx`; returns the journal id the checkpoint written covers, if one was. */
export async function writeBatchesTx(tx: Executor, batches: readonly Batch[], outbox: Outbox, deliveredLive: (seq: number) => boolean, now: number): Promise<number | undefined> {
  let journalId: number | undefined;
  let checkpointAt: number | undefined;
  for (const b of batches) {
    for (const j of b.journal) journalId = await appendJournalTx(tx, j.data, j.count, j.firstReceived, j.lastReceived);
    await outbox.appendTx(tx, b.rows.filter((r) => !deliveredLive(r.seq)), b.nextSeq);
    await recordOutsideTx(tx, b.settled ? [...b.rows, ...b.settled] : b.rows);
    if (b.rejections.length > 0) await insertDeadLettersTx(tx, b.rejections);
    if (b.checkpoint) {
      const covered = journalId ?? (await tx.get<{ id: number | null }>('SELECT MAX(id) AS id FROM journal'))?.id ?? 0;
      await saveCheckpointTx(tx, { journalId: covered, nextSeq: b.nextSeq, ...b.checkpoint, createdAt: now });
      // Recovery starts at the checkpoint's counter: the outside seqs below it are of no use.
      await tx.run('DELETE FROM outside_seqs WHERE seq < ?', [b.nextSeq]);
      checkpointAt = covered;
    }
  }
  return checkpointAt;
}

/**
 * Seqs the stream did not produce, for recovery to step over, and the command records their
 * replies settle (delivered live or not: the record is what answers a redelivery).
 */
async function recordOutsideTx(tx: Executor, rows: Batch['rows']): Promise<void> {
  for (const r of rows) {
    if (!r.outside) continue;
    await tx.run('INSERT OR IGNORE INTO outside_seqs (seq) VALUES (?)', [r.seq]);
    const c = r.command;
    if (c) {
      await tx.run(
        'INSERT INTO commands (id, name, received_at, keep_until, state, reply) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET state = excluded.state, reply = excluded.reply',
        [c.id, c.name, r.createdAt, c.keepUntil, c.state, c.reply],
      );
    }
  }
}

/** What held batches (plus readings not yet cut) amount to, for the log line of a stop that loses them. */
export function describeUnkept(all: readonly Batch[], uncutReadings: number, device: string) {
  const rows = all.flatMap((b) => b.rows);
  return {
    readings: all.reduce((n, b) => n + b.journal.reduce((m, j) => m + j.count, 0), 0) + uncutReadings,
    summaries: rows.filter((r) => r.kind === 'summary').length,
    anomalies: rows.filter((r) => isPriority(r.kind)).length,
    deadLetters: all.reduce((n, b) => n + b.rejections.length, 0),
    ids: rows.length > 0 ? `${device}:${rows[0]!.seq}..${rows[rows.length - 1]!.seq}` : null,
  };
}
