// An existing local broker (Debian's Mosquitto) as the source, with broker.enabled: false:
// readings published while Outpost is stopped arrive when it starts (persistent session, QoS 1),
// and a retained message is skipped by default and, with `retained: ingest`, taken once, not at
// every restart.
import { afterEach, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { createAgent } from '../../src/agent/agent.js';
import type { Agent } from '../../src/agent/agent-types.js';
import { silentLogger } from '../../src/ops/logger.js';
import { startFleet } from '../helpers/fleet.js';
import { baseYaml, tempDir, testConfig } from '../helpers/agent-config.js';
import { startMosquitto, publishLines } from '../helpers/mosquitto.js';
import { waitFor } from '../helpers/wait.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
});

const T0 = Date.parse('2026-11-29T12:00:00.000Z');

async function setup(retained = '', topic = 'sensors/#') {
  const local = await startMosquitto();
  cleanups.push(() => local.stop());
  const fleet = await startFleet();
  cleanups.push(() => fleet.stop());
  const config = testConfig(
    baseYaml({ fleetUrl: fleet.url, sources: `[ { type: mqtt, topic: "${topic}", url: "${local.url}"${retained} } ]` })
      .replace('broker: { enabled: true, host: 127.0.0.1, port: 0 }', 'broker: { enabled: false }'),
    tempDir(),
  );
  let agent: Agent | undefined;
  const start = async () => {
    agent = createAgent({ config, log: silentLogger() });
    await agent.start();
    return agent;
  };
  cleanups.push(async () => agent?.stop());
  const restartWith = async (change: (c: typeof config) => typeof config) => {
    await agent?.stop();
    agent = createAgent({ config: change(config), log: silentLogger() });
    await agent.start();
    return agent;
  };
  return { local, fleet, config, start, stop: async () => agent?.stop(), restartWith };
}

/** Publishes probes until the agent has taken one (its subscription is in place). */
async function subscribed(agent: Agent, port: number): Promise<void> {
  await waitFor('the agent subscribed', async () => {
    await publishLines(port, 'sensors/probe', [JSON.stringify({ value: 1, ts: T0 })]);
    return (await agent.health()).ingest.readings > 0;
  });
}

const pubRetained = (port: number, topic: string, payload: string) =>
  spawnSync('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(port), '-t', topic, '-q', '1', '-r', '-m', payload]);

describe('an existing broker as the source', () => {
  it('readings published while the agent was stopped arrive after it starts', async () => {
    const s = await setup();
    await subscribed(await s.start(), s.local.port);
    await s.stop();
    await publishLines(s.local.port, 'sensors/ext/t', [0, 1, 2].map((i) => JSON.stringify({ value: i, ts: T0 + i * 1000 })));
    await publishLines(s.local.port, 'sensors/ext/t', [JSON.stringify({ value: 9, ts: T0 + 10_000 })]); // closes the window
    await s.start();
    await waitFor('the summary of what was published while down', () => s.fleet.received.some((r) => r.topic === 'outpost/test-01/summary/ext/t'));
    expect(s.fleet.received.find((r) => r.topic === 'outpost/test-01/summary/ext/t')!.json).toMatchObject({ count: 3, min: 0, max: 2 });
  });

  it('skips retained messages by default', async () => {
    const s = await setup();
    pubRetained(s.local.port, 'sensors/state', JSON.stringify({ value: 5, ts: T0 }));
    const agent = await s.start();
    await subscribed(agent, s.local.port);
    await new Promise((r) => setTimeout(r, 300));
    // One sensor, the probe: the retained reading was not taken.
    expect((await agent.health()).ingest.sensors).toBe(1);
  });

  it('with retained: ingest, takes a retained message once, not again at every restart', async () => {
    const s = await setup(', retained: ingest');
    pubRetained(s.local.port, 'sensors/state', JSON.stringify({ value: 5, ts: T0 }));
    const first = await s.start();
    await waitFor('the retained reading taken', async () => (await first.health()).ingest.readings === 1);
    expect((await first.health()).ingest.sensors).toBe(1);
    await s.stop();
    const second = await s.start();
    await subscribed(second, s.local.port);
    await new Promise((r) => setTimeout(r, 500));
    // One sensor, the probe: the retained reading did not come again.
    expect((await second.health()).ingest.sensors).toBe(1);
  });

  it('a changed topic under the same client id is subscribed at the next start (never a deaf source)', async () => {
    const s = await setup(', clientId: kept-session-id');
    await subscribed(await s.start(), s.local.port);
    const moved = await s.restartWith((c) => ({ ...c, sources: [{ ...c.sources[0]!, topic: 'greenhouse/#' } as (typeof c.sources)[number]] }));
    await waitFor('a reading on the new topic', async () => {
      await publishLines(s.local.port, 'greenhouse/t1', [JSON.stringify({ value: 3, ts: T0 })]);
      return (await moved.health()).ingest.readings > 0;
    });
  });
});
