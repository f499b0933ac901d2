// Rules and derived sensors in a real agent process over real MQTT: a `for:` rule SIGKILLed
// half-way raises after the restart at the right moment, once, with its original start; a
// second SIGKILL after the raise neither raises again nor forgets it is raised; a derived
// sensor goes through a window and a detector like any reading.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { start } from '../helpers/cli.js';
import { baseYaml, tempDir } from '../helpers/agent-config.js';
import { startFleet } from '../helpers/fleet.js';
import { connectPublisher } from '../helpers/publisher.js';
import { freePort } from '../helpers/ports.js';
import { waitFor } from '../helpers/wait.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('rules in a real process', () => {
  it('SIGKILL while a for: rule is half-way: raised after the restart at the right moment, once, with its original start; derived sensors through windows and detectors', async () => {
    const fleet = await startFleet();
    cleanups.push(() => fleet.stop());
    const port = await freePort();
    const dir = tempDir();
    const config = join(dir, 'agent.yaml');
    writeFileSync(
      config,
      baseYaml({
        fleetUrl: fleet.url,
        windowSize: '2s',
        detectors: '[ { type: threshold, max: 2000 } ]',
        extra: `schedules: { health: "* * * * * *" }
rules:
  - { id: fridge-warm, when: { sensor: fridge/temp, above: 8 }, for: 4s, severity: major, message: fridge too warm }
derived:
  - { sensor: line1/power, expr: "line1/voltage * line1/current" }
`,
      }).replace('port: 0 }', `port: ${port} }`),
    );
    const launch = async () => {
      const agent = start(['run', '--config', config]);
      cleanups.push(async () => agent.child.kill('SIGKILL'));
      let pub: Awaited<ReturnType<typeof connectPublisher>> | undefined;
      await waitFor('agent accepting connections', async () => {
        if (agent.child.exitCode !== null) throw new Error(`agent exited: ${agent.output().slice(-2000)}`);
        pub = await connectPublisher(port).catch(() => undefined);
        return pub !== undefined;
      }, 30_000);
      cleanups.push(() => pub!.endAsync());
      return { agent, pub: pub! };
    };
    const ruleEvents = () => fleet.received.filter((m) => m.topic === 'outpost/test-01/event/fridge-warm').map((m) => m.json!);

    const a = await launch();
    const t0 = Date.now();
    await a.pub.publishAsync('sensors/fridge/temp', JSON.stringify({ value: 9 }), { qos: 1 }); // acknowledged: durable
    const acked = Date.now();
    await sleep(2000);
    a.agent.child.kill('SIGKILL');
    await a.agent.done;
    expect(ruleEvents()).toEqual([]);

    const b = await launch();
    const ready = Date.now();
    await waitFor('the rule raised', () => ruleEvents().length > 0, 15_000);
    const raised = ruleEvents()[0]!;
    const since = Date.parse(String(raised.since));
    const ts = Date.parse(String(raised.ts));
    expect(raised).toMatchObject({ kind: 'rule', rule: 'fridge-warm', state: 'raised', severity: 'major', message: 'fridge too warm', values: { 'fridge/temp': 9 } });
    expect(since).toBeGreaterThanOrEqual(t0 - 5);
    expect(since).toBeLessThanOrEqual(acked + 5); // the start from before the kill
    expect(ts - since).toBe(4000); // the moment the hold reached 4 s (the agent was down then: it held all along)
    expect(Date.now()).toBeLessThanOrEqual(Math.max(since + 4000, ready) + 3000); // noticed at the first ticks after the restart
    expect(raised.heldS).toBe((ts - since) / 1000);

    // Derived: line1/power = 230 V x 10 A = 2300, past the threshold of 2000, in a window of its own.
    await b.pub.publishAsync('sensors/line1/voltage', JSON.stringify({ value: 230 }), { qos: 1 });
    await b.pub.publishAsync('sensors/line1/current', JSON.stringify({ value: 10 }), { qos: 1 });
    await waitFor('the derived sensor\'s anomaly and summary', () => fleet.received.some((m) => m.topic === 'outpost/test-01/anomaly/line1/power') && fleet.received.some((m) => m.topic === 'outpost/test-01/summary/line1/power'), 15_000);
    expect(fleet.received.find((m) => m.topic === 'outpost/test-01/anomaly/line1/power')!.json).toMatchObject({ sensor: 'line1/power', value: 2300, detector: 'threshold' });
    expect(fleet.received.find((m) => m.topic === 'outpost/test-01/summary/line1/power')!.json).toMatchObject({ count: 1, mean: 2300 });

    // Killed after the raise: the next instance knows it is raised, and does not raise again.
    await sleep(500);
    b.agent.child.kill('SIGKILL');
    await b.agent.done;
    const healthBefore = fleet.received.length;
    const c = await launch();
    await sleep(2500);
    expect(ruleEvents().filter((e) => e.state === 'raised').map((e) => e.id)).toEqual([raised.id]);
    // Its health says the rule is still raised, since when.
    const health = fleet.received.slice(healthBefore).filter((m) => m.topic === 'outpost/test-01/health').at(-1)!.json!;
    expect(health.rules).toEqual({ rules: 1, raised: [{ rule: 'fridge-warm', severity: 'major', since: raised.since, raisedAt: raised.ts }] });
    await c.pub.publishAsync('sensors/fridge/temp', JSON.stringify({ value: 7 }), { qos: 1 });
    await waitFor('the rule cleared', () => ruleEvents().some((e) => e.state === 'cleared'), 10_000);
    c.agent.child.kill('SIGTERM');
    await c.agent.done;
    const cleared = ruleEvents().filter((e) => e.state === 'cleared');
    expect(cleared).toHaveLength(1);
    expect(cleared[0]).toMatchObject({ since: raised.since, raisedAt: raised.ts, values: { 'fridge/temp': 7 } });
    expect(new Set(ruleEvents().map((e) => e.id)).size).toBe(ruleEvents().length); // no id twice
  }, 90_000);
});
