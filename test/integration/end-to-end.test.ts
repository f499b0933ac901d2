// Sensors -> embedded broker -> stream -> SQLite outbox -> uplink -> fleet broker, for real:
// real TCP sockets, a real SQLite file, real MQTT clients on both sides.
import { afterEach, describe, expect, it } from 'vitest';
import { createAgent } from '../../src/agent/agent.js';
import type { Agent } from '../../src/agent/agent-types.js';
import { silentLogger } from '../../src/ops/logger.js';
import { openDatabase } from '../../src/store/sqlite.js';
import { startFleet, seqOf, dedupe } from '../helpers/fleet.js';
import { testConfig, baseYaml, tempDir } from '../helpers/agent-config.js';
import { connectPublisher } from '../helpers/publisher.js';
import { waitFor } from '../helpers/wait.js';
import { runAgent, runFleet } from '../helpers/running.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
});

const startAgent = (yaml: string, dir?: string) => runAgent(cleanups, yaml, dir);
const fleet = () => runFleet(cleanups);

// Ten minutes ago, on a 10 s boundary: in the past, so no wall-clock rule interferes.
const T0 = Math.floor((Date.now() - 600_000) / 10_000) * 10_000;

describe('end to end', () => {
  it('turns published readings into exactly the expected summaries upstream', async () => {
    const f = await fleet();
    const agent = await startAgent(baseYaml({ fleetUrl: f.url }));
    const pub = await connectPublisher(agent.brokerPort!);
    cleanups.push(() => pub.endAsync());

    // window [T0, T0+10s): 1..10 as JSON; [T0+10s, +20s): bare numbers 10, 20, 30 (receive
    // time would be "now", so those go in with ts via SenML); a reading at T0+20s closes both.
    for (let i = 0; i < 10; i++) await pub.publishAsync('sensors/greenhouse/temp1', JSON.stringify({ value: i + 1, ts: T0 + i * 1000 }), { qos: 1 });
    await pub.publishAsync('sensors/greenhouse', JSON.stringify([{ bn: 'temp1', bt: (T0 + 10_000) / 1000, v: 10 }, { bn: 'temp1', bt: (T0 + 12_000) / 1000, v: 20 }, { bn: 'temp1', bt: (T0 + 15_000) / 1000, v: 50 }]), { qos: 1 });
    await pub.publishAsync('sensors/greenhouse/temp1', JSON.stringify({ value: 5, ts: new Date(T0 + 20_000).toISOString() }), { qos: 1 });

    await waitFor('two summaries upstream', () => f.received.filter((r) => r.topic.includes('/summary/')).length >= 2);
    const summaries = f.received.filter((r) => r.topic.includes('/summary/')).map((r) => r.json!);
    const anomalies = f.received.filter((r) => r.topic.includes('/anomaly/'));
    expect(f.received.find((r) => r.topic === 'outpost/test-01/status')?.payload).toBe('online');
    // The stand-in fleet broker (aedes) speaks only MQTT 3.1.1: the uplink tried 5, then fell back.
    expect((await agent.health()).uplink.protocol).toBe('3.1.1');
    expect(summaries[0]).toEqual({
      v: 1,
      id: expect.stringMatching(/^test-01:\d+$/),
      device: 'test-01',
      sensor: 'greenhouse/temp1',
      window: { start: new Date(T0).toISOString(), end: new Date(T0 + 10_000).toISOString() },
      count: 10,
      min: 1,
      max: 10,
      mean: 5.5,
      stddev: expect.closeTo(Math.sqrt(82.5 / 9), 10),
      first: 1,
      last: 10,
      late: 0,
    });
    expect(summaries[1]).toMatchObject({ sensor: 'greenhouse/temp1', count: 3, min: 10, max: 50, first: 10, last: 50, window: { start: new Date(T0 + 10_000).toISOString() } });
    expect(anomalies).toHaveLength(1);
    expect(anomalies[0]!.topic).toBe('outpost/test-01/anomaly/greenhouse/temp1');
    expect(anomalies[0]!.json).toMatchObject({ v: 1, device: 'test-01', sensor: 'greenhouse/temp1', value: 50, detector: 'threshold', severity: 'critical', ts: new Date(T0 + 15_000).toISOString() });
    // ids rise by one per message in emission order: the anomaly came before the window closed.
    // Anomalies drain before summaries, so it may also arrive first.
    // A new database's ids start at the clock's seed (store/seq-seed.ts).
    const first = Math.min(...f.ids().map(seqOf));
    expect(first).toBeGreaterThan(1);
    expect(f.ids().map(seqOf).sort()).toEqual([first, first + 1, first + 2]);
    expect(summaries.map((s) => seqOf(String(s.id)))).toEqual([first, first + 2]);
    expect(anomalies[0]!.json!.id).toBe(`test-01:${first + 1}`);
  });

  it('dead-letters bad input with its reason and keeps running', async () => {
    const f = await fleet();
    const dir = tempDir();
    const agent = await startAgent(baseYaml({ fleetUrl: f.url, extra: 'limits: { maxPayloadBytes: 64B }' }), dir);
    const pub = await connectPublisher(agent.brokerPort!);
    cleanups.push(() => pub.endAsync());
    const bad: Array<[string, string]> = [
      ['sensors/a', '{"value": 1'],
      ['sensors/a', 'twenty'],
      ['sensors/a', 'NaN'],
      ['sensors/a', JSON.stringify({ value: 1, ts: 1795428000 })],
      ['sensors/a', '9'.repeat(65)],
      ['sensors/bad//id', '1'], // an empty level (spaces are fine since ids take any UTF-8 text)
      ['sensors/a', JSON.stringify({ value: 1, ts: Date.now() + 3_600_000 })],
    ];
    for (const [topic, payload] of bad) await pub.publishAsync(topic, payload, { qos: 1 });
    await pub.publishAsync('sensors/a', '21.5', { qos: 1 });
    await waitFor('dead letters counted', async () => (await agent.health()).deadLetters.total === bad.length);
    const h = await agent.health();
    expect(h.deadLetters.byReason).toEqual({
      'bad-json': 1,
      'not-a-number': 1,
      'non-finite': 1,
      'bad-timestamp': 1,
      'payload-too-large': 1,
      'bad-sensor-id': 1,
      'future-timestamp': 1,
    });
    expect(h.ingest.readings).toBe(1);
    await agent.stop();
    const db = await openDatabase(`${dir}/outpost.db`, { readonly: true });
    const rows = await db.all<{ topic: string; reason: string; payload: Buffer }>('SELECT topic, reason, payload FROM dead_letters ORDER BY id');
    await db.close();
    expect(rows.map((r) => r.reason)).toEqual(['bad-json', 'not-a-number', 'non-finite', 'bad-timestamp', 'payload-too-large', 'bad-sensor-id', 'future-timestamp']);
    expect(rows[0]).toMatchObject({ topic: 'sensors/a' });
    expect(rows[0]!.payload.toString()).toBe('{"value": 1');
  });

  it('delivers every summary through an upstream outage: seq order, no gap', async () => {
    const f = await fleet();
    const agent = await startAgent(baseYaml({ fleetUrl: f.url, windowSize: '100ms', detectors: '[]' }));
    const pub = await connectPublisher(agent.brokerPort!);
    cleanups.push(() => pub.endAsync());
    await waitFor('uplink online', async () => (await agent.health()).uplink.state === 'online');

    // 3 sensors, one reading every 10 ms each, for 3 s; the fleet broker is down from 0.8 s to 2 s.
    let stop = false;
    let published = 0;
    const publishing = (async () => {
      const t0 = Date.now();
      while (!stop) {
        for (const s of ['a', 'b', 'c']) pub.publish(`sensors/line/${s}`, JSON.stringify({ value: published % 7, ts: Date.now() }), { qos: 1 });
        published += 3;
        await new Promise((r) => setTimeout(r, 10));
        if (Date.now() - t0 > 3000) stop = true;
      }
    })();
    await new Promise((r) => setTimeout(r, 800));
    await f.stop();
    await waitFor('agent notices the outage', async () => (await agent.health()).uplink.state !== 'online');
    await new Promise((r) => setTimeout(r, 1200));
    const during = await agent.health();
    expect(during.backlog.rows).toBeGreaterThan(0);
    await f.restart();
    await publishing;

    // once every window has closed and the backlog drained, compare what arrived with what was made
    // (A window closed by the last tick is counted as emitted before its commit: wait for it to arrive too.)
    await waitFor('backlog drained', async () => {
      const h = await agent.health();
      return h.ingest.openWindows === 0 && h.backlog.rows === 0 && h.store.waiting === 0 && dedupe(f.ids()).unique.length >= h.emitted.summaries + h.emitted.anomalies;
    }, 15_000).catch(() => undefined); // on time-out, the comparison below says what is missing
    const h = await agent.health();
    expect(h.ingest.readings).toBe(published);
    const { unique } = dedupe(f.ids());
    const seqs = unique.map(seqOf);
    const made = h.emitted.summaries + h.emitted.anomalies;
    expect(seqs).toEqual(Array.from({ length: made }, (_, i) => seqs[0]! + i));
    // the summaries that arrived account for every reading
    const counted = new Map<string, number>();
    for (const r of f.received.filter((x) => x.topic.includes('/summary/'))) counted.set(String(r.json!.id), Number(r.json!.count));
    expect([...counted.values()].reduce((a, n) => a + n, 0)).toBe(published);
  });

  it('continues seq across a graceful restart without re-sending anything', async () => {
    const f = await fleet();
    const dir = tempDir();
    const yaml = baseYaml({ fleetUrl: f.url, windowSize: '1s', detectors: '[]' });
    const send = async (agent: Agent, from: number, n: number) => {
      const pub = await connectPublisher(agent.brokerPort!);
      for (let i = 0; i < n; i++) await pub.publishAsync(`sensors/r/${i % 2}`, JSON.stringify({ value: i, ts: T0 + (from + i) * 1000 }), { qos: 1 });
      await pub.endAsync();
    };

    const first = createAgent({ config: testConfig(yaml, dir), log: silentLogger() });
    await first.start();
    await send(first, 0, 10);
    await waitFor('first run delivers', async () => (await first.health()).uplink.delivered >= 8);
    await first.stop(); // the two open windows go out as partial summaries
    const firstIds = dedupe(f.ids()).unique.map(seqOf);
    expect(firstIds).toEqual(Array.from({ length: firstIds.length }, (_, i) => firstIds[0]! + i));
    const partial = f.received.filter((r) => r.json?.partial === true);
    expect(partial.map((r) => r.json!.sensor).sort()).toEqual(['r/0', 'r/1']);

    const second = await startAgent(yaml, dir);
    await send(second, 100, 10);
    await waitFor('second run delivers', async () => (await second.health()).uplink.delivered >= 8);
    const all = f.ids();
    const { unique, duplicates } = dedupe(all);
    expect(duplicates).toBe(0);
    expect(unique.map(seqOf)).toEqual(Array.from({ length: unique.length }, (_, i) => firstIds[0]! + i));
    expect(unique.length).toBeGreaterThan(firstIds.length);
  });
});

describe('around the data path', () => {
  it('publishes a retained health report on its schedule', async () => {
    const f = await fleet();
    const agent = await startAgent(baseYaml({ fleetUrl: f.url, extra: 'schedules: { health: "* * * * * *" }' }));
    const pub = await connectPublisher(agent.brokerPort!);
    cleanups.push(() => pub.endAsync());
    await pub.publishAsync('sensors/a', '1', { qos: 1 });
    await pub.publishAsync('sensors/a', 'oops', { qos: 1 });
    await waitFor('health upstream', () => f.received.some((r) => r.topic === 'outpost/test-01/health' && (r.json as { deadLetters?: { total: number } }).deadLetters?.total === 1), 5_000);
    const health = f.received.filter((r) => r.topic === 'outpost/test-01/health').at(-1)!.json!;
    expect(health).toMatchObject({
      v: 1,
      device: 'test-01',
      uptimeS: expect.any(Number),
      ingest: { readings: 1, ratePerS: expect.any(Number), sensors: 1 },
      backlog: { rows: expect.any(Number), bytes: expect.any(Number) },
      uplink: { state: 'online' },
      deadLetters: { total: 1, byReason: { 'not-a-number': 1 } },
      evictions: 0,
      clock: { state: 'trusted', synchronized: expect.toBeOneOf([true, false, null]), jumps: 0, held: 0 },
    });
  });

  it('attaches to a broker already on the device when its own is disabled', async () => {
    const f = await fleet();
    const existing = await startFleet(); // stands in for a Mosquitto already running locally
    cleanups.push(() => existing.stop());
    const agent = await startAgent(
      baseYaml({ fleetUrl: f.url, sources: `[ { type: mqtt, topic: "sensors/#", url: "${existing.url}" } ]` }).replace('broker: { enabled: true, host: 127.0.0.1, port: 0 }', 'broker: { enabled: false }'),
    );
    expect(agent.brokerPort).toBeUndefined();
    const pub = await connectPublisher(existing.port);
    cleanups.push(() => pub.endAsync());
    await waitFor('agent subscribed', async () => {
      await pub.publishAsync('sensors/probe', JSON.stringify({ value: 1, ts: T0 }), { qos: 1 });
      return (await agent.health()).ingest.readings > 0;
    });
    for (let i = 0; i < 5; i++) await pub.publishAsync('sensors/ext/t', JSON.stringify({ value: i, ts: T0 + i * 1000 }), { qos: 1 });
    await pub.publishAsync('sensors/ext/t', JSON.stringify({ value: 0, ts: T0 + 10_000 }), { qos: 1 });
    await waitFor('summary upstream', () => f.received.some((r) => r.topic === 'outpost/test-01/summary/ext/t'));
    expect(f.received.find((r) => r.topic === 'outpost/test-01/summary/ext/t')!.json).toMatchObject({ count: 5, min: 0, max: 4, mean: 2 });
  });
});
