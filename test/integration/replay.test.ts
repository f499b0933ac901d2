// `outpost replay`: journaled readings re-run through the (possibly changed) pipelines.
import { afterEach, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createAgent } from '../../src/agent/agent.js';
import { silentLogger } from '../../src/ops/logger.js';
import { startFleet, seqOf } from '../helpers/fleet.js';
import { testConfig, baseYaml, tempDir } from '../helpers/agent-config.js';
import { connectPublisher } from '../helpers/publisher.js';
import { runCli } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
});

const T0 = Math.floor((Date.now() - 3_600_000) / 60_000) * 60_000;

describe('outpost replay', () => {
  it('re-runs the journal through new pipelines, prints it, and with --publish sends it upstream', async () => {
    const fleet = await startFleet();
    cleanups.push(() => fleet.stop());
    const dir = tempDir();
    const yaml = baseYaml({ fleetUrl: fleet.url, windowSize: '10s', detectors: '[]' });
    const agent = createAgent({ config: testConfig(yaml, dir), log: silentLogger() });
    await agent.start();
    const pub = await connectPublisher(agent.brokerPort!);
    // two sensors, 60 readings each, one per second for a minute
    for (let i = 0; i < 60; i++) {
      for (const s of ['r/a', 'r/b']) await pub.publishAsync(`sensors/${s}`, JSON.stringify({ value: i, ts: T0 + i * 1000 }), { qos: 1 });
    }
    await pub.endAsync();
    await waitFor('journal committed', async () => (await agent.health()).ingest.readings === 120);
    await agent.stop();

    // The backfill config: one-minute windows instead of ten-second ones.
    const backfill = join(dir, 'backfill.yaml');
    writeFileSync(backfill, yaml.replace('size: 10s', 'size: 60s'));
    const r = await runCli(['replay', '--config', backfill, '--sensor', 'r/a', '--from', new Date(T0).toISOString(), '--to', new Date(T0 + 60_000).toISOString()]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ device: 'test-01', sensor: 'r/a', count: 60, min: 0, max: 59, mean: 29.5, window: { start: new Date(T0).toISOString(), end: new Date(T0 + 60_000).toISOString() } });
    expect(r.stderr).toMatch(/replayed 60 readings: 1 summaries, 0 anomalies/);

    const before = Math.max(...fleet.ids().map(seqOf));
    const p = await runCli(['replay', '--config', backfill, '--publish']);
    expect(p.code).toBe(0);
    const again = createAgent({ config: testConfig(yaml, dir), log: silentLogger() });
    await again.start();
    cleanups.push(() => again.stop());
    await waitFor('replayed summaries upstream', () => fleet.received.filter((m) => m.json?.replayed === true).length === 2);
    const replayed = fleet.received.filter((m) => m.json?.replayed === true).map((m) => m.json!);
    expect(replayed.map((m) => [m.sensor, m.count])).toEqual([['r/a', 60], ['r/b', 60]]);
    // their ids continue the device's sequence
    expect(replayed.map((m) => seqOf(String(m.id)))).toEqual([before + 1, before + 2]);
  });
});
