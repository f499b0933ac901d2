import sqlite3 from 'sqlite3';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
const PAYLOAD = (seq, sensor) => `{"v":1,"id":"bench:${seq}","device":"bench","sensor":"${sensor}","window":{"start":"2026-11-24T10:00:00.000Z","end":"2026-11-24T10:01:00.000Z"},"count":60,"min":20.1,"max":22.3,"mean":21.2,"stddev":0.4,"first":20.5,"last":21.9,"late":0}`;
const db = new sqlite3.Database(join(mkdtempSync(join(tmpdir(), 'o-')), 'o.db'));
const exec = (s) => new Promise((r, j) => db.exec(s, (e) => (e ? j(e) : r())));
await exec('PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; CREATE TABLE outbox (seq INTEGER PRIMARY KEY, kind TEXT NOT NULL, sensor TEXT NOT NULL, payload TEXT NOT NULL, created_at INTEGER NOT NULL, sketch TEXT)');
for (const per of [1, 50, 200]) {
const tuple = '(?,?,?,?,?,?)';
const stmt = db.prepare(`INSERT INTO outbox VALUES ${new Array(per).fill(tuple).join(',')}`);
const count = 300_000, batch = 2000;
let seq = per * 10_000_000;
const t0 = process.hrtime.bigint();
for (let done = 0; done < count; done += batch) {
  await exec('BEGIN');
  const ps = [];
  for (let c = 0; c < batch / per; c++) {
    const params = [];
    for (let i = 0; i < per; i++, seq++) params.push(seq, 'summary', `s/${i % 1000}`, PAYLOAD(seq, 's/1'), Date.now(), null);
    ps.push(new Promise((r, j) => stmt.run(params, (e) => (e ? j(e) : r()))));
  }
  await Promise.all(ps);
  await exec('COMMIT');
}
const s = Number(process.hrtime.bigint() - t0) / 1e9;
console.log('prepared per', per, Math.round(count / s));
}
