// SIGKILL at the design rate: 20,000 readings/s offered (4 QoS 1 publishers, SenML packs of 25
// readings, 40 sensors), checkpoints every 250 ms, so most commits are size-triggered
// (commitReadings) and checkpoints land on them. The agent is killed at random moments and
// restarted on the same database; afterwards the summaries must hold every acknowledged reading
// exactly (test/helpers/crash-verdict.ts). The 400 readings/s crash test (sigkill.test.ts) never
// reaches size-triggered cuts. (A cut between a reading and its outputs is too narrow a race for
// random kills to hit; test/integration/checkpoint-cut.test.ts pins it down deterministically.)
import { afterAll, describe, expect, it } from 'vitest';
import { crashAgentYaml, crashRun } from '../helpers/crash-run.js';
import { crashVerdict, type Sent } from '../helpers/crash-verdict.js';
import { seededRandom } from '../../src/sources/simulated/signal.js';

const KILLS = 10;
const WINDOW_MS = 250;
const PUBLISHERS = 4;
const SENSORS_EACH = 10;
const PACK = 25;
const OFFERED_PER_S = 21_000; // a little over the design rate: the pacing loop falls a little short
const MAX_IN_FLIGHT = 40; // messages per publisher

const cleanups: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
});

describe('SIGKILL at 20,000 readings/s', () => {
  it(`loses no acknowledged reading across size-triggered checkpoints (${KILLS} kills)`, async () => {
    const random = seededRandom(20_000);
    let order = 0;
    // Per instance: packs sent so far and messages in flight per publisher.
    let paced = { instance: -1, packs: 0, inFlight: [] as number[] };
    const run = await crashRun({
      yaml: (port, fleetUrl) => crashAgentYaml({ device: 'fast-01', port, fleetUrl, windowMs: WINDOW_MS, storage: 'path: ./outpost.db, checkpointInterval: 250ms' }),
      publishers: PUBLISHERS,
      turnMs: 5,
      // Paced to the offered rate: each turn sends what is due since the start, as far as each
      // publisher's window of unacknowledged messages allows.
      turn: ({ clients, instance, startedAt, sent }) => {
        if (paced.instance !== instance) paced = { instance, packs: 0, inFlight: new Array<number>(PUBLISHERS).fill(0) };
        const { inFlight } = paced;
        const due = Math.floor(((Date.now() - startedAt) / 1000) * (OFFERED_PER_S / PACK));
        for (; paced.packs < due; paced.packs++) {
          const p = paced.packs % PUBLISHERS;
          if (inFlight[p]! >= MAX_IN_FLIGHT) break;
          const ts = Date.now();
          const pack: Sent[] = [];
          for (let i = 0; i < PACK; i++) {
            const s: Sent = { sensor: `p${p}/s${(paced.packs * PACK + i) % SENSORS_EACH}`, ts, value: Math.floor(random() * 100), order: order++, instance };
            sent.push(s);
            pack.push(s);
          }
          inFlight[p]!++;
          const body = JSON.stringify(pack.map((s) => ({ n: s.sensor.slice(s.sensor.indexOf('/') + 1), v: s.value, t: s.ts / 1000 })));
          clients[p]!.publish(`sensors/p${p}`, body, { qos: 1 }, (err) => {
            inFlight[p]!--;
            if (err) return;
            const at = Date.now();
            for (const s of pack) s.ackedAt = at;
          });
        }
      },
      cleanups,
    });
    for (let i = 0; i < KILLS; i++) await run.instance(i, 500 + Math.floor(random() * 1000), true);
    expect((await run.finish(KILLS, 1000, 2 * WINDOW_MS + 2000)).code).toBe(0);

    expect(run.killed.size).toBe(KILLS);
    const v = crashVerdict(run.fleet.received, run.sent, run.killed, WINDOW_MS);
    expect(v.exact).toBeGreaterThan(100);
    const perS = Math.round(run.sent.length / (run.publishingMs / 1000));
    const ackedPerS = Math.round(v.acked / (run.publishingMs / 1000));
    console.log(`fast crash test: ${KILLS} kills, ${run.sent.length} readings sent (${perS}/s offered while publishing), ${v.acked} acknowledged (${ackedPerS}/s; all in the summaries), ${v.unacked} unacknowledged at a kill (${v.unackedKept} committed and summarized), ${v.summaries} summaries (${v.exact} exact, ${v.withRisk} with unacknowledged readings), ${v.duplicates} duplicate deliveries`);
  }, 180_000);
});
