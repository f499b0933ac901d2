// `outpost rules test` against the live run: an agent takes readings over MQTT with rules of
// every kind on values (for with hysteresis and clearAfter, a sequence, a count with a cooldown,
// a rule on a derived sensor) and sends their events upstream; the backtest of the same config
// over its journal, run by the real CLI, prints the same events.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runAgent } from '../helpers/running.js';
import { baseYaml, tempDir } from '../helpers/agent-config.js';
import { startFleet } from '../helpers/fleet.js';
import { connectPublisher } from '../helpers/publisher.js';
import { runCli } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
});

const RULES = `rules:
  - { id: a-high, when: { sensor: m/a, above: 6, hysteresis: 1 }, for: 800ms, clearAfter: 300ms, severity: major }
  - { id: a-then-b, sequence: [ { sensor: m/a, above: 7 }, { sensor: m/b, below: 2 } ], within: 1s, severity: critical }
  - { id: b-zero, when: { sensor: m/b, eq: 0 }, count: 3, within: 2s, cooldown: 1s, severity: info }
  - { id: sum-high, when: { sensor: m/sum, above: 9 }, for: 500ms, severity: warning }
derived:
  - { sensor: m/sum, expr: "m/a + m/b" }
`;

describe('rules test (backtest)', () => {
  it('prints the events the live run sent, over the same readings', async () => {
    const fleet = await startFleet();
    cleanups.push(() => fleet.stop());
    const dir = tempDir();
    const yaml = baseYaml({ fleetUrl: fleet.url, windowSize: '1s', detectors: '[]', extra: RULES });
    writeFileSync(join(dir, 'agent.yaml'), yaml);
    const agent = await runAgent(cleanups, yaml, dir);
    const pub = await connectPublisher(agent.brokerPort!);
    // A deterministic wander: a between 0 and 10, b between 0 and 5 (often 0).
    let x = 7;
    const next = () => (x = (x * 1103515245 + 12345) % 2147483648) / 2147483648;
    let a = 5;
    for (let i = 0; i < 160; i++) {
      a = Math.max(0, Math.min(10, a + (next() - 0.5) * 3));
      const b = next() < 0.3 ? 0 : Math.round(next() * 5);
      await pub.publishAsync('sensors/m/a', JSON.stringify({ value: Math.round(a * 10) / 10 }), { qos: 1 });
      if (i % 2 === 0) await pub.publishAsync('sensors/m/b', JSON.stringify({ value: b }), { qos: 1 });
      await new Promise((r) => setTimeout(r, 40));
    }
    await pub.endAsync();
    await new Promise((r) => setTimeout(r, 1500));
    await waitFor('uplink drained', async () => (await agent.health()).backlog.rows === 0);
    await agent.stop();
    const strip = (m: Record<string, unknown>) => {
      const { v: _v, id: _id, device: _d, ...rest } = m;
      return JSON.stringify(rest);
    };
    const live = fleet.received.filter((m) => m.json?.kind === 'rule').map((m) => strip(m.json!));
    expect(new Set(live.map((l) => JSON.parse(l).rule)).size).toBe(4); // the run exercised every rule

    const r = await runCli(['rules', 'test', '--config', join(dir, 'agent.yaml'), '--json']);
    expect(r.code, r.stderr).toBe(0);
    const backtest = r.stdout.trim().split('\n').map((l) => strip(JSON.parse(l) as Record<string, unknown>));
    expect(backtest.sort()).toEqual(live.sort());
    console.log(`rules backtest: ${live.length} events of ${new Set(live.map((l) => JSON.parse(l).rule)).size} rules, the same live and backtested`);
    expect(r.stderr).toMatch(/rules test: \d+ readings received .* raised, \d+ cleared/);

    // Human lines, and a window of time.
    const human = await runCli(['rules', 'test', '--config', join(dir, 'agent.yaml'), '--from', new Date(Date.now() + 3_600_000).toISOString()]);
    expect(human.code).toBe(0);
    expect(human.stdout).toBe('');
    const all = await runCli(['rules', 'test', '--config', join(dir, 'agent.yaml')]);
    expect(all.stdout.trim().split('\n')).toHaveLength(live.length);
    expect(all.stdout).toMatch(/^\d{4}-\d\d-\d\dT\S+Z {2}(raised|cleared) +\S+ {2}(info|warning|major|critical) {2}/m);
  }, 60_000);
});
