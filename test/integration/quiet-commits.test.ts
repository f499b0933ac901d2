// The commit policy for SD cards: when nothing urgent waits, commits come at most every
// storage.quietCommitInterval (5 s by default), not every commitInterval; a QoS 1 reading is
// still acknowledged as soon as it is committed, and an anomaly still goes upstream at once.
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runAgent, runFleet, type Cleanups } from '../helpers/running.js';
import { tempDir } from '../helpers/agent-config.js';
import { connectPublisher } from '../helpers/publisher.js';
import { waitFor } from '../helpers/wait.js';
import { openDatabase } from '../../src/store/sqlite.js';

const cleanups: Cleanups = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('quiet commits', () => {
  it('commit sparse readings nobody waits for every 5 s, yet acknowledge QoS 1 at once and send an anomaly at once', async () => {
    const fleet = await runFleet(cleanups);
    const dir = tempDir();
    const agent = await runAgent(
      cleanups,
      `
device: { id: quiet-01 }
broker: { enabled: true, host: 127.0.0.1, port: 0 }
sources:
  - { type: simulated, sensors: [ { id: sim/a, rateHz: 5 }, { id: sim/b, rateHz: 5 }, { id: sim/c, rateHz: 5 } ] }
  - { type: mqtt, topic: "sensors/#" }
pipelines: [ { match: ["**"], window: { type: tumbling, size: 60s }, detectors: [ { type: threshold, max: 1000 } ] } ]
uplink: { url: "${fleet.url}" }
storage: { path: ./outpost.db }
http: { enabled: false }
`,
      dir,
    );
    const db = await openDatabase(join(dir, 'outpost.db'), { readonly: true });
    cleanups.push(() => db.close());
    const commits = async () => (await db.get<{ n: number }>('SELECT count(*) AS n FROM journal'))!.n;
    await sleep(500);
    const before = await commits();
    await sleep(6_000); // 90 simulated readings: one or two quiet commits, not 60 timed ones
    const quiet = (await commits()) - before;
    expect(quiet).toBeGreaterThanOrEqual(1);
    expect(quiet).toBeLessThanOrEqual(2);

    const pub = await connectPublisher(agent.brokerPort!);
    cleanups.push(() => pub.endAsync());
    const t0 = Date.now();
    await pub.publishAsync('sensors/x', JSON.stringify({ value: 1 }), { qos: 1 }); // acknowledged once committed
    const ackMs = Date.now() - t0;
    expect(ackMs).toBeLessThan(1_000);
    const t1 = Date.now();
    await pub.publishAsync('sensors/x', JSON.stringify({ value: 5000 }), { qos: 0 });
    await waitFor('the anomaly upstream', () => fleet.received.some((m) => m.topic === 'outpost/quiet-01/anomaly/x'), 5_000);
    const anomalyMs = Date.now() - t1;
    expect(anomalyMs).toBeLessThan(1_500);
    console.log(`quiet commits: ${quiet} commits in 6 s of 15 readings/s; QoS 1 acknowledged in ${ackMs} ms; an anomaly upstream in ${anomalyMs} ms`);
  }, 30_000);

  it('send the first summary after a start at once, the next ones with the quiet commit', async () => {
    const fleet = await runFleet(cleanups);
    const started = Date.now();
    await runAgent(
      cleanups,
      `
device: { id: quiet-02 }
broker: { enabled: false }
sources: [ { type: simulated, sensors: [ { id: sim/a, rateHz: 10 } ] } ]
pipelines: [ { match: ["**"], window: { type: tumbling, size: 1s } } ]
uplink: { url: "${fleet.url}" }
storage: { path: ./outpost.db }
http: { enabled: false }
`,
      tempDir(),
    );
    const summaries = () => fleet.received.filter((m) => m.topic === 'outpost/quiet-02/summary/sim/a');
    await waitFor('the first summary', () => summaries().length > 0, 5_000);
    const first = Date.now() - started;
    expect(first).toBeLessThan(2_500); // its window (up to 1 s) and one timed commit
    await waitFor('later summaries, together', () => summaries().length >= 4, 15_000);
    console.log(`quiet commits: first summary ${first} ms after the start`);
  }, 30_000);
});
