// A sensor whose detectors still learn is not yet protected, and the operator must see it:
// health (and so /status, `outpost status` and the fleet) says how many detectors are warming
// up and how far the least advanced one is; once past the warm-up, it says none are.
import { afterEach, describe, expect, it } from 'vitest';
import { baseYaml } from '../helpers/agent-config.js';
import { runAgent, runFleet, type Cleanups } from '../helpers/running.js';
import { connectPublisher } from '../helpers/publisher.js';
import { waitFor } from '../helpers/wait.js';
import { runCli } from '../helpers/cli.js';

const cleanups: Cleanups = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
});

describe('detector warm-up in health', () => {
  it('says which detectors still learn, and how far, until they are done', async () => {
    const fleet = await runFleet(cleanups);
    const agent = await runAgent(cleanups, baseYaml({ fleetUrl: fleet.url, detectors: '[ { type: zscore, minSamples: 20 }, { type: threshold, max: 100 } ]' }));
    const pub = await connectPublisher(agent.brokerPort!);
    cleanups.push(() => pub.endAsync());
    const t0 = Date.now() - 60_000;
    for (let i = 0; i < 5; i++) await pub.publishAsync('sensors/hall/temp', JSON.stringify({ value: 20 + (i % 3), ts: t0 + i * 1000 }), { qos: 1 });
    await waitFor('5 readings in', async () => (await agent.health()).ingest.readings === 5);
    const early = (await agent.health()).learning!;
    expect(early).toEqual({ detectors: 1, learning: 1, least: [{ sensor: 'hall/temp', detector: 'zscore', progress: 0.25 }] }); // 5 of 20; threshold learns nothing
    for (let i = 5; i < 25; i++) await pub.publishAsync('sensors/hall/temp', JSON.stringify({ value: 20 + (i % 3), ts: t0 + i * 1000 }), { qos: 1 });
    await waitFor('25 readings in', async () => (await agent.health()).ingest.readings === 25);
    expect((await agent.health()).learning).toEqual({ detectors: 1, learning: 0, least: [] });
  });

  it('outpost status prints it', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const fleet = await runFleet(cleanups);
    const dir = mkdtempSync(join(tmpdir(), 'outpost-warmup-'));
    const { freePort } = await import('../helpers/ports.js');
    const port = await freePort();
    const yaml = baseYaml({ fleetUrl: fleet.url, detectors: '[ { type: novelty } ]' }).replace('http: { enabled: true, host: 127.0.0.1, port: 0 }', `http: { enabled: true, host: 127.0.0.1, port: ${port} }`);
    writeFileSync(join(dir, 'agent.yaml'), yaml);
    const agent = await runAgent(cleanups, yaml, dir);
    const pub = await connectPublisher(agent.brokerPort!);
    cleanups.push(() => pub.endAsync());
    await pub.publishAsync('sensors/pump/flow', '32.1', { qos: 1 });
    await waitFor('a reading in', async () => (await agent.health()).ingest.readings === 1);
    const out = await runCli(['status', '--config', join(dir, 'agent.yaml')]);
    expect(out.stdout).toMatch(/learning +1 of 1 detectors still warming up \(no verdicts yet\); least advanced: pump\/flow novelty 0%/);
  });
});
