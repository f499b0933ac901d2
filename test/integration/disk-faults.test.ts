// A full disk and a read-only file system under a running agent: it keeps ingesting, keeps
// sending summaries upstream live, says so in health and logs, and when the file system is
// writable again it buffers and commits as before. Every reading ends up counted upstream.
import { afterEach, describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { createAgent } from '../../src/agent/agent.js';
import type { Agent } from '../../src/agent/agent-types.js';
import { createLogger } from '../../src/ops/logger.js';
import { startFleet, type Fleet } from '../helpers/fleet.js';
import { testConfig } from '../helpers/agent-config.js';
import { connectPublisher } from '../helpers/publisher.js';
import { waitFor } from '../helpers/wait.js';
import { diskFault } from '../helpers/disk-fault.js';
import type { MqttClient } from 'mqtt';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
});

const summariesUp = (f: Fleet) => new Set(f.received.filter((r) => r.topic.includes('/summary/')).map((r) => String(r.json!.id))).size;

async function scenario(kind: 'full' | 'read-only') {
  const fault = diskFault(kind);
  cleanups.push(() => fault.cleanup());
  const fleet = await startFleet();
  cleanups.push(() => fleet.stop());
  const logs: string[] = [];
  const log = createLogger('info', new Writable({ write: (chunk, _e, cb) => (logs.push(String(chunk)), cb()) }) as unknown as Parameters<typeof createLogger>[1]);
  const agent: Agent = createAgent({
    config: testConfig(`
device: { id: fault-01 }
broker: { host: 127.0.0.1, port: 0 }
sources: [ { type: mqtt, topic: "sensors/#" } ]
pipelines: [ { match: ["**"], window: { type: tumbling, size: 200ms, lateness: 500ms } } ]
uplink: { url: "${fleet.url}", maxRate: 0, reconnect: { min: 100ms, max: 300ms } }
storage: { path: ./outpost.db, maxBytes: 16MB, commitInterval: 50ms }
http: { enabled: false }
`, fault.dir),
    log,
    wrapDatabase: fault.wrap,
  });
  await agent.start();
  cleanups.push(() => agent.stop());
  const pub: MqttClient = await connectPublisher(agent.brokerPort!);
  cleanups.push(() => pub.endAsync());

  let published = 0;
  let stop = false;
  const publishing = (async () => {
    while (!stop) {
      const ts = Date.now();
      for (const s of ['a', 'b', 'c', 'd', 'e']) pub.publish(`sensors/room/${s}`, JSON.stringify({ value: published % 11, ts }), { qos: 1 });
      published += 5;
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  await waitFor('summaries upstream', () => summariesUp(fleet) >= 10);

  fault.start();
  const faulted = async () => {
    const h = await agent.health();
    return !h.store.writable || h.store.budget.diskFull;
  };
  await waitFor(`the agent to notice the ${kind} file system`, faulted, 20_000);
  const h1 = await agent.health();
  // Live forwarding goes on while the store cannot grow.
  const before = summariesUp(fleet);
  await new Promise((r) => setTimeout(r, 2_000));
  expect(summariesUp(fleet)).toBeGreaterThan(before + 20);
  expect(await faulted()).toBe(true);
  const hMid = await agent.health();

  fault.end();
  await waitFor('the store to be writable again', async () => !(await faulted()), 20_000);
  stop = true;
  await publishing;
  await waitFor('everything counted upstream', async () => {
    const h = await agent.health();
    return h.ingest.readings === published && h.ingest.openWindows === 0 && h.backlog.rows === 0 && h.store.waiting === 0;
  }, 20_000).catch(async (e) => {
    console.log(published, JSON.stringify(await agent.health()), logs.join('').slice(-3000));
    throw e;
  });

  const counts = new Map<string, number>();
  for (const r of fleet.received.filter((x) => x.topic.includes('/summary/'))) counts.set(String(r.json!.id), Number(r.json!.count));
  const h2 = await agent.health();
  // With no lateness a loaded machine could make readings late (a commit holds a sensor's next
  // publishes back, as acknowledgements wait for it): 500 ms of it, and none may be late.
  expect(h2.ingest.late).toBe(0);
  expect([...counts.values()].reduce((a, n) => a + n, 0)).toBe(published);
  expect(h2.store.shed).toEqual({ journalReadings: 0, summaries: 0, anomalies: 0, deadLetters: 0 });
  console.log(`${kind} (${fault.mode}): store ${JSON.stringify({ writable: h1.store.writable, problem: h1.store.problem, diskFull: h1.store.budget.diskFull, held: h1.store.heldMessages })}; ${published} readings, ${counts.size} summaries upstream`);
  return { h1, hMid, logs: logs.join('') };
}

describe('file system faults', () => {
  it('a full disk: keeps forwarding live, says so, and buffers again when space returns', async () => {
    const { h1, logs } = await scenario('full');
    expect(h1.store.problem === 'disk-full' || h1.store.budget.diskFull).toBe(true);
    expect(logs).toMatch(/file system full|store cannot commit/);
    expect(logs).toMatch(/space again|store writable again/);
  }, 90_000);

  it('a read-only file system: keeps forwarding live from memory, says so, and commits when writable again', async () => {
    const { h1, hMid, logs } = await scenario('read-only');
    expect(h1.store.writable).toBe(false);
    expect(h1.store.problem).toBe('read-only');
    // Two seconds in, what was made since is held in memory: the readings' journal (messages
    // sent live from memory leave it, so heldMessages stays near 0 while the uplink is up).
    expect(hMid.store.waiting).toBeGreaterThan(20);
    expect(hMid.store.heldBatches).toBeGreaterThanOrEqual(1);
    expect(logs).toMatch(/store cannot commit/);
    expect(logs).toMatch(/store writable again/);
  }, 90_000);
});
