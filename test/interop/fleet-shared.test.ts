// Two `outpost fleet` processes on one PostgreSQL, splitting the feed from a real Mosquitto with
// a shared subscription ($share/fleet/...): every message is projected exactly once in effect
// (the log dedupes by id), each device's read model is whole (no gap, every summary), an
// instance SIGKILLed mid-run and restarted loses nothing, and the live view (SSE) of either
// instance shows changes the other made.
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import mqtt from 'mqtt';
import pg from 'pg';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { startPostgres, type Postgres } from '../helpers/postgres.js';
import { tempDir } from '../helpers/agent-config.js';
import { freePort } from '../helpers/ports.js';
import { waitFor } from '../helpers/wait.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
});
let postgres: Postgres;
let broker: Mosquitto;
beforeAll(async () => {
  postgres = await startPostgres();
  broker = await startMosquitto();
}, 120_000);
afterAll(async () => {
  await broker?.stop();
  await postgres?.stop();
});

const DEVICES = 20;
const PER_DEVICE = 150;
const T0 = Math.floor((Date.now() - 86_400_000) / 60_000) * 60_000;

describe('fleet instances on a shared subscription', () => {
  it('split the feed, project each message once, lose nothing when one is SIGKILLed, and show each other\'s changes live', async () => {
    const url = await postgres.database('shared');
    const dir = tempDir();
    const ports = [await freePort(), await freePort()];
    const configs = ports.map((port, i) => {
      const file = join(dir, `fleet-${i}.yaml`);
      writeFileSync(file, `broker: { url: "${broker.url}", clientId: fleet-${i}, shareGroup: fleet }\nstore: { type: postgres, url: "${url}" }\nhttp: { port: ${port} }\n`);
      return file;
    });
    const procs: ChildProcess[] = [];
    const launch = (i: number) => {
      const p = spawn(process.execPath, ['dist/cli/main.js', 'fleet', '--config', configs[i]!], { stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      p.stderr!.on('data', (d) => (err += d));
      p.on('exit', (code, signal) => {
        if (code !== null && code !== 0) console.error(`fleet-${i} exited ${code}: ${err.slice(-2000)}`);
        void signal;
      });
      procs[i] = p;
      cleanups.push(async () => p.kill('SIGKILL'));
    };
    const api = async <T>(i: number, path: string): Promise<T> => (await (await fetch(`http://127.0.0.1:${ports[i]}${path}`)).json()) as T;
    launch(0);
    launch(1);
    for (const i of [0, 1]) await waitFor(`fleet-${i} answering`, async () => (await fetch(`http://127.0.0.1:${ports[i]}/api/devices`).catch(() => undefined))?.ok === true, 30_000);

    // The live view of instance 1.
    const live: string[] = [];
    const sse = request({ host: '127.0.0.1', port: ports[1], path: '/api/events' }, (res) => res.on('data', (d) => live.push(String(d))));
    sse.end();
    cleanups.push(async () => sse.destroy());

    // 20 devices' summaries (QoS 1), each message twice (redelivery), in interleaved order.
    const pub = await mqtt.connectAsync(broker.url, { protocolVersion: 4 });
    cleanups.push(() => pub.endAsync());
    const ids = new Set<string>();
    let sent = 0;
    const publish = async (from: number, to: number) => {
      for (let k = from; k < to; k++) {
        for (let d = 0; d < DEVICES; d++) {
          const device = `dev-${d}`;
          const id = `${device}:${k + 1}`;
          ids.add(id);
          const body = JSON.stringify({ v: 1, id, device, sensor: 'line/t', window: { start: new Date(T0 + k * 60_000).toISOString(), end: new Date(T0 + (k + 1) * 60_000).toISOString() }, count: 60, mean: k, late: 0 });
          await pub.publishAsync(`outpost/${device}/summary/line/t`, body, { qos: 1 });
          if ((k + d) % 7 === 0) await pub.publishAsync(`outpost/${device}/summary/line/t`, body, { qos: 1 });
          sent++;
        }
      }
    };
    await publish(0, 50);
    // Instance 0 dies mid-run, while messages stream in (no goodbye); the feed goes on; systemd
    // restarts it (its persistent session keeps what Mosquitto had queued or in flight for it).
    const during = publish(50, 100);
    await new Promise((r) => setTimeout(r, 50));
    procs[0]!.kill('SIGKILL');
    await during;
    launch(0);
    await publish(100, PER_DEVICE);

    const db = new pg.Client({ connectionString: url });
    await db.connect();
    cleanups.push(() => db.end());
    await waitFor('every message in the log', async () => Number((await db.query("SELECT count(*) AS n FROM log WHERE kind = 'summary'")).rows[0].n) === ids.size, 60_000);
    expect(sent).toBe(DEVICES * PER_DEVICE);
    // Once each: the log holds every id exactly once, the projection one row per window.
    expect(Number((await db.query("SELECT count(DISTINCT key) AS n FROM log WHERE kind = 'summary'")).rows[0].n)).toBe(ids.size);
    expect(Number((await db.query('SELECT count(*) AS n FROM summaries')).rows[0].n)).toBe(ids.size);
    // Both instances answer the same, whole: every device, no gap, every window.
    await waitFor('fleet-0 back', async () => (await fetch(`http://127.0.0.1:${ports[0]}/api/devices`).catch(() => undefined))?.ok === true, 30_000);
    type Device = { device: string; gaps: { missing: number } };
    const [d0, d1] = [await api<Device[]>(0, '/api/devices'), await api<Device[]>(1, '/api/devices')];
    expect(d0).toEqual(d1);
    expect(d0).toHaveLength(DEVICES);
    expect(d0.every((d) => d.gaps.missing === 0)).toBe(true);
    const sums = await api<Array<{ count: number }>>(1, `/api/devices/dev-3/sensors/${encodeURIComponent('line/t')}/summaries?from=${new Date(T0).toISOString()}&to=${new Date(T0 + PER_DEVICE * 60_000).toISOString()}&points=5000`);
    expect(sums).toHaveLength(PER_DEVICE);
    // Both instances took a share of the feed, and instance 1's live view heard all of it.
    const feeds = await Promise.all([0, 1].map(async (i) => (await api<{ feed: { connected: boolean; accepted: number } }>(i, '/healthz')).feed));
    expect(feeds.every((f) => f.connected)).toBe(true);
    expect(feeds[0]!.accepted).toBeGreaterThan(0); // since its restart
    expect(feeds[1]!.accepted).toBeGreaterThan(0);
    expect(feeds[1]!.accepted).toBeLessThan(ids.size); // the other took its share
    console.log(`shared subscription: ${ids.size} messages (${sent} sent, some twice); fleet-1 accepted ${feeds[1]!.accepted}, fleet-0 ${feeds[0]!.accepted} since its restart`);
    const heard = live.join('').split('\n').filter((l) => l.startsWith('data:') && l.includes('"summary"')).length;
    expect(heard).toBeGreaterThanOrEqual(ids.size);
  }, 180_000);
});
