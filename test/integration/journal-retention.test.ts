// Journal retention on a real SQLite file: by age, then by size, never past the checkpoint.
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { openStore } from '../../src/store/open-store.js';
import { appendJournalTx, trimJournal, replayJournal } from '../../src/store/journal.js';
import { createJournalBatch } from '../../src/store/journal-codec.js';
import { tempDir } from '../helpers/agent-config.js';

const HOUR = 3_600_000;
const T0 = Date.parse('2026-11-22T00:00:00Z');

async function journalWith(batches: number, readingsPerBatch: number) {
  const db = await openStore(join(tempDir(), 'j.db'));
  const w = createJournalBatch();
  await db.transaction(async (tx) => {
    for (let b = 0; b < batches; b++) {
      for (let i = 0; i < readingsPerBatch; i++) w.reading('s/1', T0 + b * HOUR + i, i, T0 + b * HOUR + i, false);
      const { count, firstReceived, lastReceived } = w;
      await appendJournalTx(tx, w.take(), count, firstReceived, lastReceived); // batch b: received in hour b
    }
  });
  const first = async () => {
    let firstTs: number | undefined;
    let n = 0;
    await replayJournal(db, 0, (e) => {
      firstTs ??= e.ts;
      n++;
    });
    return { firstHour: firstTs === undefined ? undefined : Math.floor((firstTs - T0) / HOUR), readings: n };
  };
  return { db, first };
}

describe('journal retention', () => {
  it('deletes by age, but never a batch the checkpoint does not cover', async () => {
    const { db, first } = await journalWith(10, 100);
    // older than hour 6, checkpoint covering batches 1..4 only: 1..4 go, 5 stays though old
    expect(await trimJournal(db, { before: T0 + 6 * HOUR, maxBytes: 1e12, coveredUpTo: 4 })).toBe(400);
    expect(await first()).toEqual({ firstHour: 4, readings: 600 });
    expect(await trimJournal(db, { before: T0 + 6 * HOUR, maxBytes: 1e12, coveredUpTo: 10 })).toBe(200);
    expect(await first()).toEqual({ firstHour: 6, readings: 400 });
    await db.close();
  });

  it('then deletes the oldest batches until the journal fits its byte budget', async () => {
    const { db, first } = await journalWith(10, 1000);
    const batchBytes = (await db.get<{ n: number }>('SELECT length(data) AS n FROM journal WHERE id = 1'))!.n;
    expect(batchBytes).toBeGreaterThan(29_000);
    expect(await trimJournal(db, { before: 0, maxBytes: 3.5 * batchBytes, coveredUpTo: 10 })).toBe(7000);
    expect(await first()).toEqual({ firstHour: 7, readings: 3000 });
    const total = (await db.get<{ n: number }>('SELECT SUM(length(data)) AS n FROM journal'))!.n;
    expect(total).toBeLessThanOrEqual(3.5 * batchBytes);
    await db.close();
  });
});
