// A Pi's clock: it boots at 1970 (no real-time clock) and jumps when NTP syncs, or steps back.
// The agent gets a fake wall clock and time-sync flag; the monotonic clock and everything else
// (broker, TCP, SQLite) are real.
import { afterEach, describe, expect, it } from 'vitest';
import { performance } from 'node:perf_hooks';
import { createAgent } from '../../src/agent/agent.js';
import type { Agent } from '../../src/agent/agent-types.js';
import { silentLogger } from '../../src/ops/logger.js';
import type { SystemClock } from '../../src/ops/system-clock.js';
import { BUILD_FLOOR } from '../../src/ops/build-info.js';
import { startFleet, type Fleet } from '../helpers/fleet.js';
import { testConfig, baseYaml } from '../helpers/agent-config.js';
import { connectPublisher } from '../helpers/publisher.js';
import { waitFor } from '../helpers/wait.js';
import { openDatabase } from '../../src/store/sqlite.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
});

/** Wall clock = real time + offset (changeable), real monotonic time, settable sync flag. */
function fakeClock(offsetMs: number, synchronized: boolean | null) {
  const c = { offsetMs, synchronized };
  const system: SystemClock = { wall: () => Date.now() + c.offsetMs, mono: () => performance.now(), synchronized: () => c.synchronized };
  return { c, system };
}

async function start(system: SystemClock): Promise<{ agent: Agent; fleet: Fleet }> {
  const fleet = await startFleet();
  cleanups.push(() => fleet.stop());
  const agent = createAgent({ config: testConfig(baseYaml({ fleetUrl: fleet.url, windowSize: '1s', detectors: '[]' })), log: silentLogger(), system });
  await agent.start();
  cleanups.push(() => agent.stop());
  return { agent, fleet };
}

const summaries = (f: Fleet) => f.received.filter((r) => r.topic.includes('/summary/')).map((r) => r.json!);

describe('clock trust', () => {
  it('boots at 1970, holds receive-stamped readings, and stamps them right when the clock jumps to now', async () => {
    const sinceEpoch = Date.parse('1970-01-01T00:05:00Z') - Date.now();
    const { c, system } = fakeClock(sinceEpoch, false);
    const { agent, fleet } = await start(system);
    expect((await agent.health()).clock).toMatchObject({ state: 'invalid', held: 0 });

    const pub = await connectPublisher(agent.brokerPort!);
    cleanups.push(() => pub.endAsync());
    for (let i = 0; i < 10; i++) await pub.publishAsync('sensors/g/t', String(20 + i), { qos: 1 }); // no ts: the agent must stamp
    // A sensor with its own good clock is not held back by ours.
    const real = Date.now() - 60_000;
    await pub.publishAsync('sensors/g/own', JSON.stringify({ value: 1, ts: real }), { qos: 1 });
    await pub.publishAsync('sensors/g/own', JSON.stringify({ value: 2, ts: real + 5_000 }), { qos: 1 });
    await waitFor('readings held', async () => (await agent.health()).clock.held === 10);
    await new Promise((r) => setTimeout(r, 1500));
    expect(summaries(fleet).filter((s) => s.sensor === 'g/t')).toEqual([]);

    // NTP syncs: the wall clock jumps 56 years forward.
    c.offsetMs = 0;
    c.synchronized = true;
    await waitFor('held readings released', async () => (await agent.health()).clock.held === 0);
    for (let i = 0; i < 5; i++) await pub.publishAsync('sensors/g/t', String(30 + i), { qos: 1 });
    await waitFor('every g/t reading summarized', () => summaries(fleet).filter((s) => s.sensor === 'g/t').reduce((n, s) => n + Number(s.count), 0) === 15, 10_000);

    const h = await agent.health();
    expect(h.clock).toMatchObject({ state: 'trusted', synchronized: true, jumps: 1 });
    expect(h.clock.lastJumpMs).toBeGreaterThan(50 * 365 * 86_400_000);
    for (const s of summaries(fleet)) expect(Date.parse((s.window as { start: string }).start)).toBeGreaterThanOrEqual(BUILD_FLOOR);
    expect(summaries(fleet).find((s) => s.sensor === 'g/own')).toMatchObject({ count: 1, first: 1 });
  });

  it('dead-letters sensor timestamps from before this build existed', async () => {
    const { system } = fakeClock(0, null);
    const { agent } = await start(system);
    const pub = await connectPublisher(agent.brokerPort!);
    cleanups.push(() => pub.endAsync());
    await pub.publishAsync('sensors/g/t', JSON.stringify({ value: 1, ts: Date.parse('1970-01-01T00:00:10Z') + 1e11 }), { qos: 1 });
    await waitFor('dead letter', async () => (await agent.health()).deadLetters.byReason['bad-timestamp'] === 1);
  });

  it('survives the clock stepping back: no window emitted twice, late readings counted', async () => {
    const { c, system } = fakeClock(0, true);
    const { agent, fleet } = await start(system);
    const pub = await connectPublisher(agent.brokerPort!);
    cleanups.push(() => pub.endAsync());
    const send = async (ms: number) => {
      const until = Date.now() + ms;
      while (Date.now() < until) {
        await pub.publishAsync('sensors/g/t', '1', { qos: 1 });
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    await send(2500);
    c.offsetMs = -30_000; // the clock steps back 30 s
    await send(2500);
    await waitFor('jump seen', async () => (await agent.health()).clock.jumps === 1);
    const h = await agent.health();
    expect(h.clock.lastJumpMs).toBeLessThan(-29_000);
    expect(h.ingest.late).toBeGreaterThan(0);
    const windows = summaries(fleet).map((s) => `${s.sensor}@${(s.window as { start: string }).start}`);
    expect(new Set(windows).size).toBe(windows.length);
  });

  it('a stop with readings still held for the clock keeps them as dead letters, not dropped', async () => {
    const { system } = fakeClock(Date.parse('1970-01-01T00:05:00Z') - Date.now(), false);
    const { agent } = await start(system);
    const pub = await connectPublisher(agent.brokerPort!);
    for (let i = 0; i < 7; i++) await pub.publishAsync('sensors/held/t', String(i), { qos: 1 }); // acknowledged, held
    await pub.endAsync();
    await waitFor('readings held', async () => (await agent.health()).clock.held === 7);
    await agent.stop();
    const db = await openDatabase(agent.config.storage.path);
    const rows = await db.all<{ reason: string; payload: Buffer }>("SELECT reason, payload FROM dead_letters WHERE reason = 'clock-untrusted'");
    await db.close();
    expect(rows).toHaveLength(7);
    expect(JSON.parse(Buffer.from(rows[0]!.payload).toString())).toMatchObject({ sensor: 'held/t', value: 0 });
  });
});
