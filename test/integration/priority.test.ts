// After a long outage the backlog drains at uplink.maxRate, in seq order, so the fleet broker is
// not flooded; a new anomaly does not wait behind it: it goes out within a second.
import { afterEach, describe, expect, it } from 'vitest';
import { createAgent } from '../../src/agent/agent.js';
import { silentLogger } from '../../src/ops/logger.js';
import { startFleet, seqOf } from '../helpers/fleet.js';
import { testConfig } from '../helpers/agent-config.js';
import { connectPublisher } from '../helpers/publisher.js';
import { waitFor } from '../helpers/wait.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
});

describe('uplink classes and rate', () => {
  it('drains a backlog at maxRate while a live anomaly overtakes it within a second', async () => {
    const fleet = await startFleet();
    cleanups.push(() => fleet.stop());
    const agent = createAgent({
      config: testConfig(`
device: { id: prio-01 }
broker: { host: 127.0.0.1, port: 0, maxMessageRate: 0 }
sources: [ { type: mqtt, topic: "sensors/#" } ]
pipelines: [ { match: ["**"], window: { type: tumbling, size: 1s }, detectors: [ { type: threshold, max: 100 } ] } ]
uplink: { url: "${fleet.url}", maxRate: 100, reconnect: { min: 100ms, max: 300ms } }
storage: { path: ./outpost.db, commitInterval: 50ms }
http: { enabled: false }
`),
      log: silentLogger(),
    });
    await agent.start();
    cleanups.push(() => agent.stop());
    const pub = await connectPublisher(agent.brokerPort!);
    cleanups.push(() => pub.endAsync());
    await waitFor('online', async () => (await agent.health()).uplink.state === 'online');
    await fleet.stop();
    await waitFor('offline', async () => (await agent.health()).uplink.state !== 'online');

    // A backlog of 600 summaries: 20 sensors x 30 one-second windows from an hour ago.
    const t0 = Math.floor((Date.now() - 3_600_000) / 1000) * 1000;
    for (let w = 0; w <= 30; w++) for (let s = 0; s < 20; s++) pub.publish(`sensors/old/${s}`, JSON.stringify({ value: 1, ts: t0 + w * 1000 }), { qos: 1 });
    await waitFor('backlog of 600', async () => (await agent.health()).backlog.rows >= 600, 10_000);

    await fleet.restart();
    await waitFor('draining', () => fleet.ids().length >= 50, 10_000);
    const drainStart = Date.now();
    const atStart = fleet.ids().length;
    await new Promise((r) => setTimeout(r, 1500));
    const sentAt = Date.now();
    await pub.publishAsync('sensors/live/boiler', JSON.stringify({ value: 250, ts: sentAt }), { qos: 1 });
    await waitFor('the live anomaly upstream', () => fleet.received.some((r) => r.topic.includes('/anomaly/live/boiler')), 5_000);
    const latency = Date.now() - sentAt;
    const during = fleet.ids().length - atStart;
    const rate = during / ((Date.now() - drainStart) / 1000);
    expect(latency).toBeLessThan(1000);
    expect((await agent.health()).backlog.rows).toBeGreaterThan(200); // the backlog was still there
    expect(rate).toBeLessThanOrEqual(110); // maxRate, give or take the timer
    expect(rate).toBeGreaterThan(50);

    await waitFor('backlog drained', async () => (await agent.health()).backlog.rows === 0, 20_000);
    const summaries = fleet.received.filter((r) => r.topic.includes('/summary/')).map((r) => seqOf(String(r.json!.id)));
    expect(summaries).toEqual([...summaries].sort((a, b) => a - b)); // seq order within the class
    console.log(`priority test: backlog drained at ${rate.toFixed(0)}/s (maxRate 100); a live anomaly arrived ${latency} ms after its reading`);
  }, 60_000);
});
