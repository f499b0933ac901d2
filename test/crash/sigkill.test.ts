// Crash safety with real processes: the agent is killed with SIGKILL at random moments while a
// sensor publishes QoS 1 readings, and restarted on the same database each time. The agent
// acknowledges a reading only once it is committed (storage.ackAfterCommit, the default), so
// afterwards the summaries upstream, deduped by id, must hold every reading the sensor got a
// PUBACK for, with zero allowance; readings sent but not acknowledged when the agent died may
// or may not be in (committed, the PUBACK lost with the process), and then only as an
// arrival-order prefix (the journal commits in order). No window or anomaly emitted twice; no
// id with two different contents.
import { afterAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { start } from '../helpers/cli.js';
import { tempDir } from '../helpers/agent-config.js';
import { startFleet, seqOf } from '../helpers/fleet.js';
import { freePort } from '../helpers/ports.js';
import { waitFor } from '../helpers/wait.js';
import { seededRandom } from '../../src/sources/simulated/signal.js';
import { emptyMoments, addValue, stddev } from '../../src/stream/moments.js';

const KILLS = 22;
const WINDOW_MS = 500;
const COMMIT_MS = 100;
const SENSORS = ['line/a', 'line/b', 'line/c', 'line/d'];

interface Sent {
  sensor: string;
  ts: number;
  value: number;
  order: number;
  instance: number;
  ackedAt?: number;
}

const cleanups: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
});

describe('SIGKILL at random moments', () => {
  it(`loses no acknowledged reading and emits nothing twice (${KILLS} kills)`, async () => {
    const fleet = await startFleet();
    cleanups.push(() => fleet.stop());
    const dir = tempDir();
    const port = await freePort();
    writeFileSync(join(dir, 'agent.yaml'), `
device: { id: crash-01 }
broker: { host: 127.0.0.1, port: ${port} }
sources: [ { type: mqtt, topic: "sensors/#" } ]
pipelines:
  - match: ["**"]
    window: { type: tumbling, size: ${WINDOW_MS}ms }
    aggregates: [count, min, max, mean, stddev, first, last]
    detectors: [ { type: threshold, max: 90 } ]
uplink: { url: "${fleet.url}", reconnect: { min: 100ms, max: 300ms } }
storage: { path: ./outpost.db, commitInterval: ${COMMIT_MS}ms, checkpointInterval: 2s }
http: { enabled: false }
log: { level: warn }
`);
    const random = seededRandom(2026);
    const sent: Sent[] = [];
    const kills: Array<{ instance: number; at: number }> = [];
    let order = 0;

    const runInstance = async (instance: number, lifeMs: number, kill: boolean) => {
      const agent = start(['run', '--config', join(dir, 'agent.yaml')]);
      cleanups.push(async () => agent.child.kill('SIGKILL'));
      let client: MqttClient | undefined;
      await waitFor('agent accepting connections', async () => {
        client = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0, connectTimeout: 500 }).catch(() => undefined);
        return client !== undefined;
      }, 20_000);
      const c = client!;
      c.on('error', () => undefined);
      const until = Date.now() + lifeMs;
      // The kill comes from a timer while the sensor keeps publishing: readings are in flight
      // (received, not yet committed or acknowledged) at the moment the process dies.
      let dead = false;
      if (kill) {
        setTimeout(() => {
          dead = true;
          kills.push({ instance, at: Date.now() });
          agent.child.kill('SIGKILL');
        }, lifeMs);
      }
      while (!dead && c.connected && (kill || Date.now() < until)) {
        for (const sensor of SENSOR_ORDER()) {
          const s: Sent = { sensor, ts: Date.now(), value: Math.floor(random() * 100), order: order++, instance };
          sent.push(s);
          c.publish(`sensors/${sensor}`, JSON.stringify({ value: s.value, ts: s.ts }), { qos: 1 }, (err) => {
            if (!err) s.ackedAt = Date.now();
          });
        }
        await new Promise((r) => setTimeout(r, 10));
      }
      if (kill) {
        await agent.done;
        c.end(true);
      }
      return { agent, client: c };
    };
    const SENSOR_ORDER = () => SENSORS;

    for (let i = 0; i < KILLS; i++) await runInstance(i, 400 + Math.floor(random() * 800), true);
    // The last instance stops publishing, lets every window close on the wall clock, then stops cleanly.
    const last = await runInstance(KILLS, 1000, false);
    await last.client.endAsync();
    await new Promise((r) => setTimeout(r, 2 * WINDOW_MS + 1500));
    last.agent.child.kill('SIGTERM');
    expect((await last.agent.done).code).toBe(0);

    // ---- what reached the fleet broker
    const byId = new Map<string, string>();
    for (const m of fleet.received.filter((r) => /\/(summary|anomaly)\//.test(r.topic))) {
      const id = String(m.json!.id);
      const prev = byId.get(id);
      if (prev !== undefined) expect(m.payload, `id ${id} delivered twice with different content`).toBe(prev);
      byId.set(id, m.payload);
    }
    const seqs = [...byId.keys()].map(seqOf).sort((a, b) => a - b);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
    const messages = [...byId.values()].map((p) => JSON.parse(p) as Record<string, unknown>);
    const summaries = messages.filter((m) => m.window !== undefined) as Array<Record<string, unknown> & { window: { start: string } }>;
    const anomalies = messages.filter((m) => m.detector !== undefined);
    expect(summaries.some((s) => s.partial)).toBe(false);
    const windowKey = (sensor: unknown, start: number) => `${String(sensor)}@${start}`;
    const upstream = new Map<string, Record<string, unknown>>();
    for (const s of summaries) {
      const key = windowKey(s.sensor, Date.parse(s.window.start));
      expect(upstream.has(key), `window ${key} summarized twice`).toBe(false);
      upstream.set(key, s);
    }
    const anomalyKeys = anomalies.map((a) => `${a.sensor}@${a.ts}`);
    expect(new Set(anomalyKeys).size).toBe(anomalyKeys.length);

    // ---- the offline computation
    const killed = new Set(kills.map((k) => k.instance));
    const acked = sent.filter((s) => s.ackedAt !== undefined);
    // Not acknowledged before the kill: may have been committed (its PUBACK died with the agent).
    const atRisk = (s: Sent) => s.ackedAt === undefined && killed.has(s.instance);
    const windows = new Map<string, { safe: Sent[]; risky: Sent[] }>();
    for (const s of sent.filter((x) => x.ackedAt !== undefined || atRisk(x))) {
      const key = windowKey(s.sensor, Math.floor(s.ts / WINDOW_MS) * WINDOW_MS);
      const w = windows.get(key) ?? { safe: [], risky: [] };
      (atRisk(s) ? w.risky : w.safe).push(s);
      windows.set(key, w);
    }
    const describe = (readings: Sent[]) => {
      const m = emptyMoments();
      for (const r of [...readings].sort((a, b) => a.order - b.order)) addValue(m, r.ts, r.value);
      return { count: m.count, min: m.min, max: m.max, mean: m.mean, stddev: stddev(m), first: m.first, last: m.last };
    };
    let exact = 0;
    let withRisk = 0;
    let summarized = 0;
    for (const [key, w] of windows) {
      const got = upstream.get(key);
      if (w.safe.length === 0 && !got) continue; // only unacknowledged readings, all lost: allowed
      expect(got, `window ${key} with ${w.safe.length} safe readings is missing upstream`).toBeDefined();
      const risky = [...w.risky].sort((a, b) => a.order - b.order);
      // Each killed instance kept a prefix (in arrival order) of its own at-risk readings.
      const perInstance = [...new Set(risky.map((r) => r.instance))].map((i) => risky.filter((r) => r.instance === i));
      let sets: Sent[][] = [w.safe];
      for (const group of perInstance) sets = sets.flatMap((base) => Array.from({ length: group.length + 1 }, (_, j) => [...base, ...group.slice(0, j)]));
      const candidates = sets.map(describe);
      const match = candidates.find((c) => c.count === got!.count && c.min === got!.min && c.max === got!.max && c.first === got!.first && c.last === got!.last && Math.abs(c.mean - Number(got!.mean)) < 1e-9 && Math.abs(c.stddev - Number(got!.stddev)) < 1e-9);
      expect(match, `window ${key}: upstream ${JSON.stringify(got)} matches no allowed reading set (safe ${w.safe.length}, at risk ${risky.length})`).toBeDefined();
      expect(got!.late).toBe(0);
      summarized += Number(got!.count);
      if (risky.length === 0) exact++;
      else withRisk++;
      upstream.delete(key);
    }
    expect([...upstream.keys()], 'summaries upstream for windows that had no acknowledged readings').toEqual([]);
    expect(kills).toHaveLength(KILLS);
    expect(exact).toBeGreaterThan(30); // enough windows held to exact equality for the test to mean something
    const unacked = sent.filter(atRisk).length;
    console.log(`crash test: ${KILLS} kills, ${sent.length} readings sent, ${acked.length} acknowledged (all in the summaries), ${unacked} unacknowledged at a kill (${summarized - acked.length} of those were committed and summarized), ${summaries.length} summaries (${exact} exact, ${withRisk} with unacknowledged readings), ${anomalies.length} anomalies, ${fleet.ids().length - byId.size} duplicate deliveries`);
  }, 120_000);
});
