// Interop with the real thing: Debian's Mosquitto as the fleet broker, mosquitto_pub as the
// sensor, mosquitto_sub reading what arrives upstream, and the agent as a real process.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { start } from '../helpers/cli.js';
import { tempDir } from '../helpers/agent-config.js';
import { waitFor } from '../helpers/wait.js';
import { dedupe, seqOf } from '../helpers/fleet.js';
import { openDatabase } from '../../src/store/sqlite.js';
import { startMosquitto, subscribe, publishLines, freePort, type Mosquitto, type Subscriber } from '../helpers/mosquitto.js';

let fleet: Mosquitto;
const cleanups: Array<() => Promise<unknown>> = [];
beforeAll(async () => {
  fleet = await startMosquitto();
  cleanups.push(() => fleet.stop());
});
afterAll(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
});

async function runAgent(yaml: string) {
  const dir = tempDir();
  writeFileSync(join(dir, 'agent.yaml'), yaml);
  const p = start(['run', '--config', join(dir, 'agent.yaml')]);
  cleanups.push(async () => p.child.kill('SIGKILL'));
  return { ...p, dir };
}

function sub(topic: string, id: string): Subscriber {
  const s = subscribe(fleet.port, topic, id);
  cleanups.push(() => s.stop());
  return s;
}

describe('with Mosquitto as the fleet broker', () => {
  it('mosquitto_pub readings become the exact summary mosquitto_sub receives', async () => {
    const brokerPort = await freePort();
    const upstream = sub('outpost/interop-01/#', 'interop-sub-1');
    const agent = await runAgent(`
device: { id: interop-01 }
broker: { host: 127.0.0.1, port: ${brokerPort} }
sources: [ { type: mqtt, topic: "sensors/#" } ]
pipelines:
  - match: ["greenhouse/*"]
    window: { type: tumbling, size: 60s }
    aggregates: [count, min, max, mean, stddev, first, last]
    detectors: [ { type: threshold, min: -10, max: 45 } ]
uplink: { url: "${fleet.url}" }
storage: { path: ./outpost.db }
http: { enabled: false }
`);
    await waitFor('agent broker up', () => /outpost running/.test(agent.output()), 15_000);
    await waitFor('status online upstream', () => upstream.lines.includes('outpost/interop-01/status online'), 10_000);

    const t0 = Math.floor((Date.now() - 3_600_000) / 60_000) * 60_000;
    const values = [20.5, 21.0, 22.3, 20.1, 21.9, 48.2];
    await publishLines(brokerPort, 'sensors/greenhouse/temp1', [
      ...values.map((v, i) => JSON.stringify({ value: v, ts: t0 + i * 10_000 })),
      JSON.stringify({ value: 21, ts: t0 + 60_000 }), // opens the next window, closing the first
    ]);
    await waitFor('summary upstream', () => upstream.messages().some((m) => m.topic.includes('/summary/')), 10_000);

    const msgs = upstream.messages();
    const summary = msgs.find((m) => m.topic === 'outpost/interop-01/summary/greenhouse/temp1')!.json;
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    const sd = Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (values.length - 1));
    expect(summary).toMatchObject({
      v: 1,
      device: 'interop-01',
      sensor: 'greenhouse/temp1',
      window: { start: new Date(t0).toISOString(), end: new Date(t0 + 60_000).toISOString() },
      count: 6,
      min: 20.1,
      max: 48.2,
      first: 20.5,
      last: 48.2,
      late: 0,
    });
    expect(summary.mean).toBeCloseTo(mean, 10);
    expect(summary.stddev).toBeCloseTo(sd, 10);
    const anomaly = msgs.find((m) => m.topic === 'outpost/interop-01/anomaly/greenhouse/temp1')!.json;
    expect(anomaly).toMatchObject({ value: 48.2, detector: 'threshold', severity: 'critical', message: 'value 48.2 is above the maximum 45' });
    const first = seqOf(String(msgs[0]!.json.id)); // a new database's seed (store/seq-seed.ts)
    expect(msgs.map((m) => seqOf(String(m.json.id)))).toEqual([first, first + 1]);

    agent.child.kill('SIGTERM');
    expect((await agent.done).code).toBe(0);
    await waitFor('offline status upstream', () => upstream.lines.includes('outpost/interop-01/status offline'), 5_000);
  });

  it('buffers through a Mosquitto restart and delivers everything, in seq order per class, no gap', async () => {
    const upstream = sub('outpost/interop-02/#', 'interop-sub-2');
    const agent = await runAgent(`
device: { id: interop-02 }
broker: { enabled: false }
sources: [ { type: simulated, seed: 3, sensors: [ { id: sim/a, rateHz: 50 }, { id: sim/b, rateHz: 50, anomalies: [ { type: spike, at: 1s, every: 2s, magnitude: 100 } ] } ] } ]
pipelines:
  - match: ["**"]
    window: { type: tumbling, size: 250ms }
    detectors: [ { type: threshold, max: 60 } ]
uplink: { url: "${fleet.url}", reconnect: { min: 200ms, max: 1s } }
storage: { path: ./outpost.db }
http: { enabled: false }
`);
    await waitFor('first summaries upstream', () => upstream.messages().length >= 10, 15_000);
    await fleet.stop();
    await new Promise((r) => setTimeout(r, 2_000));
    await fleet.start();
    await waitFor('delivery resumes', () => upstream.messages().length >= 60, 20_000);
    agent.child.kill('SIGTERM');
    expect((await agent.done).code).toBe(0);

    // What the agent made: every seq it handed out (the outbox is empty after a clean drain).
    const db = await openDatabase(join(agent.dir, 'outpost.db'), { readonly: true });
    const ids = (await db.get<{ next: number; first: number }>("SELECT (SELECT value FROM meta WHERE key = 'next_seq') AS next, (SELECT value FROM meta WHERE key = 'seq_seed') AS first"))!;
    const made = ids.next - ids.first;
    const left = (await db.get<{ n: number }>('SELECT COUNT(*) AS n FROM outbox'))!.n;
    await db.close();
    expect(left).toBe(0);
    await waitFor('every message upstream', () => new Set(upstream.messages().map((m) => m.json.id)).size === made, 10_000).catch((e) => {
      const got = new Set(upstream.messages().map((m) => seqOf(String(m.json.id))));
      const missing = Array.from({ length: made }, (_, i) => ids.first + i).filter((s) => !got.has(s));
      console.log('missing', missing.length, missing.slice(0, 50), 'of', made, 'lines', upstream.lines.length, upstream.lines.filter(l=>/status/.test(l)));
      throw e;
    });
    const { unique, duplicates } = dedupe(upstream.messages().map((m) => String(m.json.id)));
    expect(unique.map(seqOf).sort((a, b) => a - b)).toEqual(Array.from({ length: made }, (_, i) => ids.first + i));
    // Seq order within each class (anomalies drain before summaries).
    for (const kind of ['summary', 'anomaly']) {
      const seqs = dedupe(upstream.messages().filter((m) => m.topic.includes(`/${kind}/`)).map((m) => String(m.json.id))).unique.map(seqOf);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    }
    expect(upstream.messages().some((m) => m.topic.includes('/anomaly/'))).toBe(true);
    console.log(`interop outage: ${made} messages, ${duplicates} duplicate deliveries`);
  });

  it('reads sensors from a Mosquitto already on the device (broker.enabled: false)', async () => {
    const local = await startMosquitto(); // the device's own broker; `fleet` stays the upstream
    cleanups.push(() => local.stop());
    const upstream = sub('outpost/interop-03/#', 'interop-sub-3');
    const httpPort = await freePort();
    const agent = await runAgent(`
device: { id: interop-03 }
broker: { enabled: false }
sources: [ { type: mqtt, topic: "site/+/temp", url: "${local.url}" } ]
pipelines: [ { match: ["**"], window: { type: tumbling, size: 10s } } ]
uplink: { url: "${fleet.url}" }
storage: { path: ./outpost.db }
http: { host: 127.0.0.1, port: ${httpPort} }
`);
    await waitFor('status online upstream', () => upstream.lines.includes('outpost/interop-03/status online'), 15_000);
    const ingested = async () => ((await (await fetch(`http://127.0.0.1:${httpPort}/status`)).json()) as { ingest: { readings: number } }).ingest.readings;
    const t0 = Math.floor((Date.now() - 600_000) / 10_000) * 10_000;
    // The agent subscribes once connected; publish until a first reading is seen going through.
    const senml = (t: number, v: number) => JSON.stringify([{ bt: t / 1000, v }]);
    await waitFor('agent subscribed to the local broker', async () => {
      await publishLines(local.port, 'site/probe/temp', [senml(t0 - 60_000, 0)]);
      return (await ingested()) > 0;
    }, 10_000);
    await publishLines(local.port, 'site/bay1/temp', [senml(t0, 20), senml(t0 + 2_000, 22), senml(t0 + 4_000, 24), senml(t0 + 10_000, 0)]);
    await waitFor('summary upstream', () => upstream.messages().some((m) => m.topic === 'outpost/interop-03/summary/bay1/temp'), 10_000);
    expect(upstream.messages().find((m) => m.topic === 'outpost/interop-03/summary/bay1/temp')!.json).toMatchObject({ count: 3, min: 20, max: 24, mean: 22 });
    agent.child.kill('SIGTERM');
    expect((await agent.done).code).toBe(0);
  });
});
