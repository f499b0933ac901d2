// `npm run bench -- fleet-scale [devices]`: the fleet at scale. A load generator publishes the
// traffic of N simulated devices (each 10 sensors with 1-minute summaries, health every 15 s, and
// now and then an anomaly, a status, a seq gap, a duplicate and a replayed backfill) to a real
// Mosquitto; one, then two `outpost fleet` processes on a shared subscription project it into a
// real PostgreSQL. Measured: messages/s projected flat out (one instance, two instances), the
// latency from publish to committed (visible in the API) at the design rate, and that the read
// model matches what was sent exactly (every id once, each device's gaps the ones made).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import pg from 'pg';
import { startMosquitto } from '../test/helpers/mosquitto.js';
import { startPostgres } from '../test/helpers/postgres.js';
import { healthMessage } from '../test/helpers/fleet-fixtures.js';
import { freePort } from '../test/helpers/ports.js';

const SENSORS = 10;
const iso = (ms: number) => new Date(ms).toISOString();

interface Msg {
  topic: string;
  payload: string;
  /** The message id, when it has one. */
  id?: string;
}

/**
 * The traffic of `devices` devices over `minutes` minutes, in time order: per device per minute,
 * 10 summaries and 4 health reports; every 50th device-minute an anomaly; 1 in 400 summaries
 * skipped (a gap: the seq is used, the message never sent), 1 in 200 sent twice, and 1 in 300
 * followed by a replayed copy of an earlier window (a backfill: it must not replace the live one).
 */
export function traffic(devices: number, minutes: number, t0: number): { msgs: Msg[]; ids: Set<string>; missing: number; backfilled: number } {
  const msgs: Msg[] = [];
  const ids = new Set<string>();
  const live = new Set<string>();
  let backfilled = 0;
  const seqs = new Array<number>(devices).fill(1000);
  let n = 0;
  for (let m = 0; m < minutes; m++) {
    for (let d = 0; d < devices; d++) {
      const device = `dev-${String(d).padStart(5, '0')}`;
      const p = `outpost/${device}`;
      for (let q = 0; q < 4; q++) msgs.push({ topic: `${p}/health`, payload: JSON.stringify(healthMessage(device, t0 + m * 60_000 + q * 15_000, d % 17)) });
      for (let s = 0; s < SENSORS; s++) {
        const seq = seqs[d]!++;
        const id = `${device}:${seq}`;
        n++;
        if (n % 400 === 0 && m > 0) continue; // a gap
        const start = t0 + m * 60_000;
        live.add(`${device}|${s}|${start}`);
        const payload = JSON.stringify({ v: 1, id, device, sensor: `s${s}/t`, window: { start: iso(start), end: iso(start + 60_000) }, count: 60, min: 20, max: 22, mean: 21 + ((m + s) % 7) / 10, late: 0 });
        msgs.push({ topic: `${p}/summary/s${s}/t`, payload, id });
        ids.add(id);
        if (n % 200 === 0) msgs.push({ topic: `${p}/summary/s${s}/t`, payload, id });
        if (n % 300 === 0 && m > 0) {
          const rseq = seqs[d]!++;
          const rid = `${device}:${rseq}`;
          const rstart = start - 60_000;
          if (!live.has(`${device}|${s}|${rstart}`)) backfilled++; // it fills a window that never came live
          msgs.push({ topic: `${p}/summary/s${s}/t`, payload: JSON.stringify({ v: 1, id: rid, device, sensor: `s${s}/t`, window: { start: iso(rstart), end: iso(rstart + 60_000) }, count: 60, mean: 99, late: 0, replayed: true }), id: rid });
          ids.add(rid);
        }
      }
      if ((m * devices + d) % 50 === 0) {
        const seq = seqs[d]!++;
        const id = `${device}:${seq}`;
        msgs.push({ topic: `${p}/anomaly/s0/t`, payload: JSON.stringify({ v: 1, id, device, sensor: 's0/t', ts: iso(t0 + m * 60_000 + 30_000), value: 48, detector: 'threshold', severity: 'critical', score: 1, message: 'above 45', evidence: { max: 45 } }), id });
        ids.add(id);
      }
      if (m === 0) msgs.push({ topic: `${p}/status`, payload: 'online' });
    }
  }
  // Seqs missing between each device's first and last sent (what the fleet must show as gaps).
  const range = new Map<string, { lo: number; hi: number; n: number }>();
  for (const id of ids) {
    const [device, seq] = [id.slice(0, id.lastIndexOf(':')), Number(id.slice(id.lastIndexOf(':') + 1))];
    const r = range.get(device) ?? { lo: seq, hi: seq, n: 0 };
    range.set(device, { lo: Math.min(r.lo, seq), hi: Math.max(r.hi, seq), n: r.n + 1 });
  }
  const missing = [...range.values()].reduce((a, r) => a + (r.hi - r.lo + 1 - r.n), 0);
  return { msgs, ids, missing, backfilled };
}

async function publishAll(clients: MqttClient[], msgs: Msg[], ratePerS: number | undefined, sent?: Map<string, number>): Promise<void> {
  const start = Date.now();
  const inflight: Array<Promise<unknown>> = [];
  for (let i = 0; i < msgs.length; i++) {
    const m = msgs[i]!;
    if (ratePerS !== undefined && i % 100 === 0) {
      const due = start + (i / ratePerS) * 1000;
      const wait = due - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
    if (m.id && sent && !sent.has(m.id)) sent.set(m.id, Date.now());
    inflight.push(clients[i % clients.length]!.publishAsync(m.topic, m.payload, { qos: 1 }));
    if (inflight.length >= 2000) await Promise.all(inflight.splice(0));
  }
  await Promise.all(inflight);
}

interface Run {
  instances: number;
  messages: number;
  seconds: number;
  perS: number;
}

export async function benchFleetScale(devices = 10_000): Promise<{ flat: Run[]; latency: { rate: number; p50: number; p99: number; max: number; samples: number }; exact: string }> {
  const postgres = await startPostgres();
  const broker = await startMosquitto({ extra: ['max_inflight_messages 1000', 'max_queued_messages 1000000'] });
  const dir = mkdtempSync(join(tmpdir(), 'outpost-fleet-scale-'));
  const procs: ChildProcess[] = [];
  const clients: MqttClient[] = [];
  try {
    const t0 = Date.parse('2026-11-28T00:00:00.000Z');
    const run = async (instances: number, minutes: number, name: string): Promise<{ db: pg.Client } & ReturnType<typeof traffic>> => {
      const url = await postgres.database(name);
      const ports: number[] = [];
      for (let i = 0; i < instances; i++) {
        const port = await freePort();
        ports.push(port);
        const file = join(dir, `${name}-${i}.yaml`);
        writeFileSync(file, `broker: { url: "${broker.url}", clientId: ${name}-${i}${instances > 1 ? ', shareGroup: g' : ''} }\nstore: { type: postgres, url: "${url}" }\nhttp: { port: ${port} }\nlog: { level: warn }\n`);
        const p = spawn(process.execPath, ['dist/cli/main.js', 'fleet', '--config', file], { stdio: 'ignore' });
        procs.push(p);
      }
      for (const port of ports) {
        for (let k = 0; ; k++) {
          if ((await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined))?.ok) break;
          if (k > 300) throw new Error('fleet instance did not start');
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      const db = new pg.Client({ connectionString: url });
      await db.connect();
      return { db, ...traffic(devices, minutes, t0) };
    };
    while (clients.length < 4) clients.push(await mqtt.connectAsync(broker.url, { protocolVersion: 4 }));
    const countLog = async (db: pg.Client) => Number((await db.query("SELECT count(*) AS n FROM log WHERE seq IS NOT NULL")).rows[0].n);
    const flat: Run[] = [];
    let exact = '';
    for (const instances of [1, 2]) {
      const r = await run(instances, 3, `flat${instances}`);
      const started = Date.now();
      await publishAll(clients, r.msgs, undefined);
      while ((await countLog(r.db)) < r.ids.size) {
        if (Date.now() - started > 600_000) throw new Error('not all projected in 10 minutes');
        await new Promise((res) => setTimeout(res, 200));
      }
      const seconds = (Date.now() - started) / 1000;
      flat.push({ instances, messages: r.msgs.length, seconds, perS: Math.round(r.msgs.length / seconds) });
      if (instances === 2) {
        // The read model matches what was sent: every id once, the gaps made, live over replayed.
        const logIds = Number((await r.db.query('SELECT count(DISTINCT key) AS n FROM log WHERE seq IS NOT NULL')).rows[0].n);
        const replacedByBackfill = Number((await r.db.query("SELECT count(*) AS n FROM summaries WHERE payload LIKE '%\"replayed\":true%'")).rows[0].n);
        const devicesSeen = Number((await r.db.query('SELECT count(*) AS n FROM devices')).rows[0].n);
        const seqs = await r.db.query('SELECT device, max(seq) - min(seq) + 1 - count(*) AS missing FROM log WHERE seq IS NOT NULL GROUP BY device');
        const missing = seqs.rows.reduce((n: number, row: { missing: number }) => n + Number(row.missing), 0);
        exact = `${logIds} of ${r.ids.size} ids in the log once each, ${devicesSeen} devices, ${missing} seqs missing (${r.missing} made), ${replacedByBackfill} windows from a backfill (${r.backfilled} filled windows that never came live; no live one replaced)`;
        if (logIds !== r.ids.size || devicesSeen !== devices || missing !== r.missing || replacedByBackfill !== r.backfilled) throw new Error(`read model does not match: ${exact}`);
      }
      await r.db.end();
      for (const p of procs.splice(0)) p.kill('SIGTERM');
      await new Promise((res) => setTimeout(res, 1000));
    }
    // Latency at the design rate, two instances: 10 sensors a minute and health every 15 s per device.
    const rate = Math.round((devices * (SENSORS + 4)) / 60);
    const r = await run(2, 2, 'latency');
    const sent = new Map<string, number>();
    const sampled = [...r.ids].filter((_, i) => i % 97 === 0);
    const seen = new Map<string, number>();
    let polling = true;
    const poller = (async () => {
      while (polling) {
        const waiting = sampled.filter((id) => sent.has(id) && !seen.has(id));
        if (waiting.length > 0) {
          const got = await r.db.query('SELECT key FROM log WHERE key = ANY($1)', [waiting]);
          const now = Date.now();
          for (const row of got.rows as Array<{ key: string }>) seen.set(row.key, now - sent.get(row.key)!);
        }
        await new Promise((res) => setTimeout(res, 20));
      }
    })();
    await publishAll(clients, r.msgs, rate, sent);
    const until = Date.now() + 30_000;
    while (seen.size < sampled.length && Date.now() < until) await new Promise((res) => setTimeout(res, 100));
    polling = false;
    await poller;
    await r.db.end();
    const lat = [...seen.values()].sort((a, b) => a - b);
    const pct = (q: number) => lat[Math.min(lat.length - 1, Math.floor(q * lat.length))] ?? NaN;
    return { flat, latency: { rate, p50: pct(0.5), p99: pct(0.99), max: lat.at(-1) ?? NaN, samples: lat.length }, exact };
  } finally {
    for (const c of clients) await c.endAsync().catch(() => undefined);
    for (const p of procs) p.kill('SIGKILL');
    await broker.stop();
    await postgres.stop();
  }
}
