import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../src/store/sqlite.js';
import { insertRows } from '../src/store/sqlite.js';
const PAYLOAD = (seq: number, sensor: string) =>
  `{"v":1,"id":"bench:${seq}","device":"bench","sensor":"${sensor}","window":{"start":"2026-11-24T10:00:00.000Z","end":"2026-11-24T10:01:00.000Z"},"count":60,"min":20.1,"max":22.3,"mean":21.2,"stddev":0.4,"first":20.5,"last":21.9,"late":0}`;
for (const [label, pragmas] of [['wal full', 'PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;'], ['wal off', 'PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF;'], ['mem', 'PRAGMA journal_mode=MEMORY; PRAGMA synchronous=OFF;'], ['wal full ckpt 10000', 'PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA wal_autocheckpoint=10000;'], ['wal full noautovac', 'PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;']] as const) {
  const db = await openDatabase(join(mkdtempSync(join(tmpdir(), 'o-')), 'o.db'));
  if (!label.includes('noautovac')) await db.exec('PRAGMA auto_vacuum=INCREMENTAL');
  await db.exec(pragmas);
  await db.exec('CREATE TABLE outbox (seq INTEGER PRIMARY KEY, kind TEXT NOT NULL, sensor TEXT NOT NULL, payload TEXT NOT NULL, created_at INTEGER NOT NULL, sketch TEXT)');
  const count = 500_000, batch = 2000;
  const t0 = process.hrtime.bigint();
  let seq = 1;
  for (let done = 0; done < count; done += batch) {
    const rows: unknown[][] = [];
    for (let i = 0; i < batch; i++, seq++) rows.push([seq, 'summary', `s/${i % 1000}`, PAYLOAD(seq, `s/${i%1000}`), Date.now(), null]);
    await db.transaction((tx) => insertRows(tx, 'INSERT INTO outbox (seq, kind, sensor, payload, created_at, sketch)', 6, rows));
  }
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(label, Math.round(count / s));
  await db.close();
}
