// The byte budget, for real: a fleet outage long enough to overflow a small storage.maxBytes.
// The database file and its WAL are measured on disk every 20 ms and must never pass the
// budget; after the outage, the summaries that arrive cover the whole outage (merged into
// coarser windows where needed) and their counts add up to every reading sent.
import { afterEach, describe, expect, it } from 'vitest';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { createAgent } from '../../src/agent/agent.js';
import { createLogger, silentLogger } from '../../src/ops/logger.js';
import { startFleet, dedupe } from '../helpers/fleet.js';
import { testConfig, tempDir } from '../helpers/agent-config.js';
import { connectPublisher } from '../helpers/publisher.js';
import { waitFor } from '../helpers/wait.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
});

const MAX_BYTES = 1_500_000;
const SENSORS = 40;

const size = (p: string) => {
  try {
    return statSync(p).size;
  } catch {
    return 0;
  }
};

describe('storage.maxBytes', () => {
  it('stays under budget through a long outage by merging old summaries, and loses no reading', async () => {
    const fleet = await startFleet();
    cleanups.push(() => fleet.stop());
    const dir = tempDir();
    const agent = createAgent({
      config: testConfig(`
device: { id: budget-01 }
broker: { host: 127.0.0.1, port: 0, maxMessageRate: 0 }
sources: [ { type: mqtt, topic: "sensors/#" } ]
pipelines:
  - match: ["**"]
    window: { type: tumbling, size: 100ms, lateness: 500ms }   # a scheduler hiccup on a loaded machine must not make readings late
    aggregates: [count, min, max, mean, stddev, first, last, p50, p90]
uplink: { url: "${fleet.url}", maxRate: 0, reconnect: { min: 100ms, max: 300ms } }
storage: { path: ./outpost.db, maxBytes: 1.5MB, commitInterval: 50ms, checkpointInterval: 2s }
http: { enabled: false }
`, dir),
      log: process.env.BUDGET_LOG ? createLogger('debug') : silentLogger(),
    });
    await agent.start();
    cleanups.push(() => agent.stop());
    const db = join(dir, 'outpost.db');
    let peak = 0;
    let peakParts = '';
    const sampler = setInterval(() => {
      const total = size(db) + size(`${db}-wal`) + size(`${db}-shm`);
      if (total > peak) {
        peak = total;
        peakParts = `main ${size(db)}, wal ${size(`${db}-wal`)}, shm ${size(`${db}-shm`)}`;
      }
    }, 20);
    cleanups.push(async () => clearInterval(sampler));

    const pub = await connectPublisher(agent.brokerPort!);
    cleanups.push(() => pub.endAsync());
    await waitFor('uplink online', async () => (await agent.health()).uplink.state === 'online');
    await fleet.stop();
    await waitFor('agent notices the outage', async () => (await agent.health()).uplink.state !== 'online');

    // 40 sensors, a reading every 20 ms each, for 14 s: about 5,600 summaries of ~330 bytes
    // (with their sketches) while the fleet is away: several times what 1.5 MB can hold.
    let published = 0;
    const until = Date.now() + 14_000;
    while (Date.now() < until) {
      const ts = Date.now();
      for (let s = 0; s < SENSORS; s++) pub.publish(`sensors/line/${s}`, JSON.stringify({ value: (published + s) % 17, ts }), { qos: 1 });
      published += SENSORS;
      await new Promise((r) => setTimeout(r, 20));
    }
    const during = await agent.health();
    expect(during.merges).toBeGreaterThan(0);
    expect(during.evictions).toBe(0);
    await fleet.restart();
    await waitFor('backlog drained', async () => {
      const h = await agent.health();
      return h.ingest.readings === published && h.ingest.openWindows === 0 && h.backlog.rows === 0 && h.store.waiting === 0;
    }, 30_000);
    clearInterval(sampler);

    const h = await agent.health();
    expect(h.ingest.readings).toBe(published);
    expect(peak, `database + WAL peaked at ${peak} bytes (${peakParts})`).toBeLessThanOrEqual(MAX_BYTES);
    expect(h.evictions).toBe(0);
    expect(h.ingest.late).toBe(0);
    const summaries = new Map<string, Record<string, unknown>>();
    for (const r of fleet.received.filter((x) => x.topic.includes('/summary/'))) summaries.set(String(r.json!.id), r.json!);
    const all = [...summaries.values()];
    expect(all.reduce((n, s) => n + Number(s.count), 0)).toBe(published);
    const merged = all.filter((s) => typeof s.merged === 'number');
    expect(merged.length).toBeGreaterThan(0);
    // A merged summary is one window over what its parts covered: exact count, and the usual fields.
    for (const s of merged) expect(s).toMatchObject({ count: expect.any(Number), min: expect.any(Number), max: expect.any(Number), p90: expect.any(Number) });
    // Per sensor the windows tile time without overlap: nothing counted twice.
    const bySensor = new Map<string, Array<[number, number]>>();
    for (const s of all) {
      const w = s.window as { start: string; end: string };
      const list = bySensor.get(String(s.sensor)) ?? [];
      list.push([Date.parse(w.start), Date.parse(w.end)]);
      bySensor.set(String(s.sensor), list);
    }
    for (const list of bySensor.values()) {
      list.sort((a, b) => a[0] - b[0]);
      for (let i = 1; i < list.length; i++) expect(list[i]![0]).toBeGreaterThanOrEqual(list[i - 1]![1]);
    }
    const { duplicates } = dedupe(fleet.ids());
    console.log(`budget test: ${published} readings, ${all.length} summaries upstream (${merged.length} merged, ${h.merges} merges), peak file ${peak} of ${MAX_BYTES} bytes, ${duplicates} duplicate deliveries`);
  }, 90_000);
});
