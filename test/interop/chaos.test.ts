// Chaos, with real processes: for over a minute of sustained readings, the upstream Mosquitto
// is stopped and started at random, and the agent is killed with SIGKILL at random and
// restarted on the same database. Afterwards, deduped by id, every summary and anomaly the agent
// produced is upstream exactly once: ids 1..N, contiguous, none missing. Duplicates (the at-least-
// once part) are counted and reported.
import { afterAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { start } from '../helpers/cli.js';
import { tempDir } from '../helpers/agent-config.js';
import { waitFor } from '../helpers/wait.js';
import { seqOf } from '../helpers/fleet.js';
import { freePort, startMosquitto, subscribe } from '../helpers/mosquitto.js';
import { openDatabase } from '../../src/store/sqlite.js';
import { seededRandom } from '../../src/sources/simulated/signal.js';

const CHAOS_MS = 65_000;
const cleanups: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
});

describe('chaos: upstream outages and SIGKILLs together', () => {
  it('delivers every summary and anomaly exactly once after dedupe, ids contiguous', async () => {
    const random = seededRandom(4242);
    const fleet = await startMosquitto();
    cleanups.push(() => fleet.stop());
    const upstream = subscribe(fleet.port, 'outpost/chaos-01/#', 'chaos-sub');
    cleanups.push(() => upstream.stop());
    const dir = tempDir();
    const [brokerPort, httpPort] = [await freePort(), await freePort()];
    const cfg = join(dir, 'agent.yaml');
    writeFileSync(cfg, `
device: { id: chaos-01 }
broker: { host: 127.0.0.1, port: ${brokerPort} }
sources: [ { type: mqtt, topic: "sensors/#" } ]
pipelines:
  - match: ["**"]
    window: { type: tumbling, size: 500ms }
    detectors: [ { type: threshold, max: 95 } ]
uplink: { url: "${fleet.url}", reconnect: { min: 100ms, max: 500ms } }
storage: { path: ./outpost.db, checkpointInterval: 3s }
http: { host: 127.0.0.1, port: ${httpPort} }
log: { level: warn }
`);
    let agent = start(['run', '--config', cfg]);
    cleanups.push(async () => agent.child.kill('SIGKILL'));
    let kills = 0;
    let outages = 0;
    let sent = 0;
    const until = Date.now() + CHAOS_MS;

    // The sensor: 4 sensors, a reading every 10 ms each, reconnecting whenever the agent is back.
    const sensor = (async () => {
      let c: MqttClient | undefined;
      while (Date.now() < until) {
        if (!c?.connected) {
          c?.end(true);
          c = await mqtt.connectAsync(`mqtt://127.0.0.1:${brokerPort}`, { reconnectPeriod: 0, connectTimeout: 500 }).catch(() => undefined);
          c?.on('error', () => undefined);
          if (!c) {
            await new Promise((r) => setTimeout(r, 50));
            continue;
          }
        }
        const ts = Date.now();
        for (const s of ['a', 'b', 'c', 'd']) c.publish(`sensors/line/${s}`, JSON.stringify({ value: Math.floor(random() * 100), ts }), { qos: 1 });
        sent += 4;
        await new Promise((r) => setTimeout(r, 10));
      }
      c?.end(true);
    })();

    // The agent: SIGKILL after 2-6 s of life, restarted at once.
    const killer = (async () => {
      while (Date.now() < until - 3_000) {
        await new Promise((r) => setTimeout(r, 2_000 + random() * 4_000));
        agent.child.kill('SIGKILL');
        await agent.done;
        kills++;
        agent = start(['run', '--config', cfg]);
      }
    })();

    // The fleet broker: down for 1-4 s every 3-8 s.
    const breaker = (async () => {
      while (Date.now() < until - 5_000) {
        await new Promise((r) => setTimeout(r, 3_000 + random() * 5_000));
        await fleet.stop();
        outages++;
        await new Promise((r) => setTimeout(r, 1_000 + random() * 3_000));
        await fleet.start();
      }
    })();

    await Promise.all([sensor, killer, breaker]);

    // Let the last instance close its windows and drain, then stop it cleanly.
    await waitFor('backlog drained', async () => {
      try {
        const s = (await (await fetch(`http://127.0.0.1:${httpPort}/status`)).json()) as { backlog: { rows: number }; ingest: { openWindows: number }; store: { waiting: number }; uplink: { state: string } };
        return s.uplink.state === 'online' && s.backlog.rows === 0 && s.ingest.openWindows === 0 && s.store.waiting === 0;
      } catch {
        return false;
      }
    }, 60_000);
    agent.child.kill('SIGTERM');
    expect((await agent.done).code).toBe(0);

    const db = await openDatabase(join(dir, 'outpost.db'), { readonly: true });
    // Ids start at the database's seed (store/seq-seed.ts) and rise by one.
    const ids = (await db.get<{ next: number; first: number }>("SELECT (SELECT value FROM meta WHERE key = 'next_seq') AS next, (SELECT value FROM meta WHERE key = 'seq_seed') AS first"))!;
    const produced = ids.next - ids.first;
    await db.close();
    await waitFor('everything upstream', () => new Set(upstream.messages().map((m) => m.json.id)).size >= produced, 20_000).catch(() => undefined);

    const arrivals = upstream.messages();
    const byId = new Map<string, string>();
    for (const m of arrivals) {
      const id = String(m.json.id);
      const body = JSON.stringify(m.json);
      if (byId.has(id)) expect(body, `id ${id} arrived twice with different content`).toBe(byId.get(id));
      byId.set(id, body);
    }
    const seqs = [...byId.keys()].map(seqOf).sort((a, b) => a - b);
    const missing = Array.from({ length: produced }, (_, i) => ids.first + i).filter((s) => !byId.has(`chaos-01:${s}`));
    expect(missing, `of ${produced} produced`).toEqual([]);
    expect(seqs).toEqual(Array.from({ length: produced }, (_, i) => ids.first + i));
    // and no window went out twice under two ids (a restart neither loses nor re-emits one)
    const windows = [...byId.values()].map((b) => JSON.parse(b) as { sensor: string; window?: { start: string } }).filter((m) => m.window).map((m) => `${m.sensor}@${m.window!.start}`);
    expect(new Set(windows).size).toBe(windows.length);
    const anomalies = arrivals.filter((m) => m.topic.includes('/anomaly/')).length;
    expect(anomalies).toBeGreaterThan(0);
    expect(kills).toBeGreaterThanOrEqual(10);
    expect(outages).toBeGreaterThanOrEqual(5);
    console.log(`chaos test: ${CHAOS_MS / 1000} s, ${sent} readings sent, ${kills} SIGKILLs, ${outages} fleet outages; ${produced} messages produced, all upstream once after dedupe; ${arrivals.length - byId.size} duplicate deliveries`);
  }, 200_000);
});
