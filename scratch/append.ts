import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../src/store/open-store.js';
import { openOutbox, type OutboxMessage } from '../src/store/outbox.js';
const PAYLOAD = (seq: number, sensor: string) =>
  `{"v":1,"id":"bench:${seq}","device":"bench","sensor":"${sensor}","window":{"start":"2026-11-24T10:00:00.000Z","end":"2026-11-24T10:01:00.000Z"},"count":60,"min":20.1,"max":22.3,"mean":21.2,"stddev":0.4,"first":20.5,"last":21.9,"late":0}`;
for (const [batch, sync] of [[500, 'full'], [2000, 'full'], [2000, 'normal'], [5000,'full']] as const) {
  const db = await openStore(join(mkdtempSync(join(tmpdir(), 'o-')), 'o.db'), sync);
  const outbox = await openOutbox(db);
  const count = 500_000;
  const t0 = process.hrtime.bigint();
  for (let done = 0; done < count; done += batch) {
    const first = outbox.reserve(batch);
    const rows: OutboxMessage[] = [];
    for (let i = 0; i < batch; i++) rows.push({ seq: first + i, kind: 'summary', sensor: `s/${i % 1000}`, payload: PAYLOAD(first + i, `s/${i%1000}`), createdAt: Date.now(), sketch: null });
    await db.transaction((tx) => outbox.appendTx(tx, rows, first + batch));
    outbox.settle(true);
  }
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(batch, sync, Math.round(count / s));
  await db.close();
}
