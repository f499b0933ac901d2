import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../src/store/open-store.js';
const PAYLOAD = (seq: number, sensor: string) =>
  `{"v":1,"id":"bench:${seq}","device":"bench","sensor":"${sensor}","window":{"start":"2026-11-24T10:00:00.000Z","end":"2026-11-24T10:01:00.000Z"},"count":60,"min":20.1,"max":22.3,"mean":21.2,"stddev":0.4,"first":20.5,"last":21.9,"late":0}`;
for (const batch of [500, 2000]) {
  const db = await openStore(join(mkdtempSync(join(tmpdir(), 'o-')), 'o.db'));
  const count = 500_000;
  const t0 = process.hrtime.bigint();
  let seq = 1;
  for (let done = 0; done < count; done += batch) {
    const rows: unknown[][] = [];
    for (let i = 0; i < batch; i++, seq++) rows.push([seq, 'summary', `s/${i % 1000}`, PAYLOAD(seq, `s/${i%1000}`), Date.now(), null]);
    await db.transaction(async (tx) => {
      await tx.run("INSERT INTO outbox (seq, kind, sensor, payload, created_at, sketch) SELECT value->>0, value->>1, value->>2, value->>3, value->>4, value->>5 FROM json_each(?)", [JSON.stringify(rows)]);
      await tx.run("UPDATE meta SET value = ? WHERE key = 'next_seq'", [seq]);
    });
  }
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log('json_each', batch, Math.round(count / s));
  await db.close();
}
