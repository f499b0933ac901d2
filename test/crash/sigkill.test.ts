// Crash safety with real processes: the agent is killed with SIGKILL at random moments while a
// sensor publishes QoS 1 readings, and restarted on the same database each time. The agent
// acknowledges a reading only once it is committed (storage.ackAfterCommit, the default), so
// afterwards the summaries upstream, deduped by id, must hold every reading the sensor got a
// PUBACK for, with zero allowance (test/helpers/crash-verdict.ts). No window or anomaly emitted
// twice; no id with two different contents.
import { afterAll, describe, expect, it } from 'vitest';
import { crashAgentYaml, crashRun, onePerSensor } from '../helpers/crash-run.js';
import { crashVerdict } from '../helpers/crash-verdict.js';
import { seededRandom } from '../../src/sources/simulated/signal.js';

const KILLS = 22;
const WINDOW_MS = 500;
const COMMIT_MS = 100;
const SENSORS = ['line/a', 'line/b', 'line/c', 'line/d'];

const cleanups: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
});

describe('SIGKILL at random moments', () => {
  it(`loses no acknowledged reading and emits nothing twice (${KILLS} kills)`, async () => {
    const random = seededRandom(2026);
    const run = await crashRun({
      yaml: (port, fleetUrl) => crashAgentYaml({ device: 'crash-01', port, fleetUrl, windowMs: WINDOW_MS, storage: `path: ./outpost.db, commitInterval: ${COMMIT_MS}ms, checkpointInterval: 2s`, detectors: '[ { type: threshold, max: 90 } ]' }),
      publishers: 1,
      turnMs: 10,
      turn: onePerSensor(SENSORS, random),
      cleanups,
    });
    for (let i = 0; i < KILLS; i++) await run.instance(i, 400 + Math.floor(random() * 800), true);
    // The last instance stops publishing, lets every window close on the wall clock, then stops cleanly.
    expect((await run.finish(KILLS, 1000, 2 * WINDOW_MS + 1500)).code).toBe(0);

    expect(run.killed.size).toBe(KILLS);
    const v = crashVerdict(run.fleet.received, run.sent, run.killed, WINDOW_MS);
    expect(v.exact).toBeGreaterThan(30); // enough windows held to exact equality for the test to mean something
    console.log(`crash test: ${KILLS} kills, ${run.sent.length} readings sent, ${v.acked} acknowledged (all in the summaries), ${v.unacked} unacknowledged at a kill (${v.unackedKept} of those were committed and summarized), ${v.summaries} summaries (${v.exact} exact, ${v.withRisk} with unacknowledged readings), ${v.anomalies} anomalies, ${v.duplicates} duplicate deliveries`);
  }, 120_000);
});
