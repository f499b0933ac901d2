// The `outpost` command as users run it: real processes, real exit codes, real signals.
import { afterEach, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { runCli, start } from '../helpers/cli.js';
import { tempDir } from '../helpers/agent-config.js';
import { startFleet } from '../helpers/fleet.js';
import { waitFor } from '../helpers/wait.js';
import { freePort } from '../helpers/ports.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
});

const BAD = `
device: { id: "two words" }
sources: [ { type: mqtt, topic: "sensors/#" } ]
pipelines: [ { match: ["**"], window: { type: tumbling, size: soon } } ]
uplink: { url: "mqtt://127.0.0.1:1", password: "\${env:OUTPOST_TEST_UNSET}" }
`;

const agentYaml = (fleetUrl: string, brokerPort = 0) => `
device: { id: cli-01 }
broker: { host: 127.0.0.1, port: ${brokerPort} }
sources: [ { type: simulated, sensors: [ { id: sim/a, rateHz: 20 } ] } ]
pipelines: [ { match: ["**"], window: { type: tumbling, size: 1s } } ]
uplink: { url: "${fleetUrl}" }
storage: { path: ./data/agent.db }
http: { enabled: false }
`;

describe('outpost CLI', () => {
  it('outpost fleet check and outpost fleet rebuild take their own --config', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'bad.yaml'), 'broker: { url: "mqtt://127.0.0.1:1" }\ncommands: { privateKey: "nope" }\n');
    writeFileSync(join(dir, 'good.yaml'), 'broker: { url: "mqtt://127.0.0.1:1" }\nstore: { path: ./fleet.db }\n');
    const bad = await runCli(['fleet', 'check', '--config', join(dir, 'bad.yaml')]);
    expect(bad.code).toBe(78);
    expect(bad.stderr).toMatch(/commands\.privateKey: not a PEM private key/);
    expect(bad.stderr).toMatch(/commands\.privateKey: needs http\.token or http\.auth/);
    expect((await runCli(['fleet', 'check', '--config', join(dir, 'good.yaml')])).code).toBe(0);
    const rebuilt = await runCli(['fleet', 'rebuild', '--config', join(dir, 'good.yaml')]);
    expect(rebuilt.code).toBe(0);
    expect(rebuilt.stdout).toMatch(/rebuilt the projections from 0 log entries/);
  });

  it('check-config prints every problem as path: message and exits 78', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'bad.yaml'), BAD);
    const r = await runCli(['check-config', join(dir, 'bad.yaml')]);
    expect(r.code).toBe(78);
    expect(r.stderr.trim().split('\n').slice(1)).toEqual([
      'uplink.password: environment variable OUTPOST_TEST_UNSET is not set',
      'device.id: must be 1-64 letters, digits, "_", "." or "-"',
      'pipelines[0].window.size: "soon" is not a duration; write e.g. 500ms, 5s, 10m, 1h',
    ]);
  });

  it('check-config refuses two sources whose sensor ids can be the same, naming both (the esphome-node/homeassistant collision)', async () => {
    const dir = tempDir();
    writeFileSync(
      join(dir, 'overlap.yaml'),
      `device: { id: d1 }
sources:
  - { type: mqtt, topic: "esphome-node/#" }
  - { type: mqtt, topic: "homeassistant/#" }
pipelines: [ { match: ["**"], window: { type: tumbling, size: 10s } } ]
uplink: { url: "mqtt://127.0.0.1:1883" }
`,
    );
    const r = await runCli(['check-config', join(dir, 'overlap.yaml')]);
    expect(r.code).toBe(78);
    expect(r.stderr).toMatch(/sources\[1\]: its sensor ids \(#\) can be the same as those of sources\[0\] \(#\).*prefix/);
  });

  it('check-config accepts the shipped configs', async () => {
    const r = await runCli(['check-config', 'device-configs/demo.yaml']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/demo\.yaml: ok/);
  });

  it('run refuses a bad config with 78 and starts nothing', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'bad.yaml'), BAD);
    const r = await runCli(['run', '--config', join(dir, 'bad.yaml')]);
    expect(r.code).toBe(78);
    expect(r.stderr).toMatch(/pipelines\[0\]\.window\.size: /);
  });

  it('run says in one line what to change when the broker port is taken, and exits 1', async () => {
    const squatter = createServer();
    await new Promise<void>((r) => squatter.listen(0, '127.0.0.1', () => r()));
    cleanups.push(() => new Promise((r) => squatter.close(r)));
    const port = (squatter.address() as { port: number }).port;
    const dir = tempDir();
    writeFileSync(join(dir, 'a.yaml'), agentYaml('mqtt://127.0.0.1:1', port));
    const r = await runCli(['run', '--config', join(dir, 'a.yaml')]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(`outpost: broker.port ${port} on 127.0.0.1 is already in use (another MQTT broker such as Mosquitto?): set broker.port to a free port, or set broker.enabled: false and give the mqtt source a url to use the broker that is there`);
  });

  it('run forwards summaries, and on SIGTERM flushes, says offline and exits 0', async () => {
    const fleet = await startFleet();
    cleanups.push(() => fleet.stop());
    const dir = tempDir();
    writeFileSync(join(dir, 'a.yaml'), agentYaml(fleet.url));
    const p = start(['run', '--config', join(dir, 'a.yaml')]);
    cleanups.push(async () => p.child.kill('SIGKILL'));
    await waitFor('a summary upstream', () => fleet.ids().length >= 2, 15_000);
    p.child.kill('SIGTERM');
    const r = await p.done;
    expect(r.code).toBe(0);
    const logs = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { msg: string });
    expect(logs.map((l) => l.msg)).toEqual(expect.arrayContaining(['outpost running', 'stopping', 'outpost stopped']));
    const statuses = fleet.received.filter((m) => m.topic === 'outpost/cli-01/status').map((m) => m.payload);
    expect(statuses).toEqual(['online', 'offline']);
    expect(fleet.received.some((m) => m.json?.partial === true)).toBe(true);
  });

  it('schema prints the JSON Schema', async () => {
    const r = await runCli(['schema']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ title: 'Outpost configuration', type: 'object' });
  });

  it('status asks the running agent: backlog, uplink, store, schedules, latest summaries', async () => {
    const fleet = await startFleet();
    cleanups.push(() => fleet.stop());
    const dir = tempDir();
    const httpPort = await freePort();
    writeFileSync(join(dir, 'a.yaml'), agentYaml(fleet.url).replace('http: { enabled: false }', `http: { host: 127.0.0.1, port: ${httpPort} }`));
    const p = start(['run', '--config', join(dir, 'a.yaml')]);
    cleanups.push(async () => p.child.kill('SIGKILL'));
    await waitFor('a summary upstream', () => fleet.ids().length >= 1, 15_000);
    const r = await runCli(['status', '--config', join(dir, 'a.yaml')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Outpost cli-01 {2}\(from running agent\)$/m);
    expect(r.stdout).toMatch(/^ {2}uplink {6}online since /m);
    expect(r.stdout).toMatch(/^ {2}store {7}writable, [\d.]+ MB of 256\.0 MB, 0 merges, 0 evictions$/m);
    expect(r.stdout).toMatch(/^ {2}schedules {3}health (ok|not run yet), retention /m);
    expect(r.stdout).toMatch(/^ {4}sim\/a +\d{4}-\d\d-\d\dT/m);
    p.child.kill('SIGTERM');
    expect((await p.done).code).toBe(0);
  });

  it('status reads the database when the agent is not running', async () => {
    const fleet = await startFleet();
    cleanups.push(() => fleet.stop());
    const dir = tempDir();
    writeFileSync(join(dir, 'a.yaml'), agentYaml(fleet.url));
    const p = start(['run', '--config', join(dir, 'a.yaml')]);
    await waitFor('a summary upstream', () => fleet.ids().length >= 1, 15_000);
    p.child.kill('SIGTERM');
    await p.done;
    const r = await runCli(['status', '--config', join(dir, 'a.yaml')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Outpost cli-01 \s*\(from database .*agent\.db \(agent not answering\)\)/);
    expect(r.stdout).toMatch(/backlog\s+0 messages/);
  });
});

describe('outpost simulate and demo', () => {
  it('simulate publishes seeded sensors to any broker', async () => {
    const fleet = await startFleet();
    cleanups.push(() => fleet.stop());
    const r = await runCli(['simulate', '--url', fleet.url, '--sensors', '3', '--rate', '20', '--duration', '1s', '--qos', '1']);
    expect(r.code).toBe(0);
    const topics = new Set(fleet.received.map((m) => m.topic));
    expect(topics).toEqual(new Set(['sensors/sim/s0', 'sensors/sim/s1', 'sensors/sim/s2']));
    expect(fleet.received[0]!.json).toEqual({ value: expect.any(Number), ts: expect.any(Number) });
    expect(r.stdout).toMatch(/published \d+ readings/);
  });

  it('demo shows summaries and anomalies arriving upstream within seconds', async () => {
    const r = await runCli(['demo', '--duration', '12s', '--outage-at', '5s', '--outage-for', '2s']);
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines.some((l) => /mosquitto_sub -h 127\.0\.0\.1 -p \d+ -t 'outpost\/demo-01\/#' -v/.test(l))).toBe(true);
    expect(lines.filter((l) => /summary\s+greenhouse\/temp1\s+\[/.test(l)).length).toBeGreaterThanOrEqual(2);
    expect(lines.some((l) => /ANOMALY\s+greenhouse\/temp1 .* threshold\/critical: value [\d.]+ is above the maximum 45/.test(l))).toBe(true);
    expect(lines.some((l) => /fleet broker DOWN/.test(l))).toBe(true);
    expect(lines.some((l) => /fleet broker back UP/.test(l))).toBe(true);
    expect(r.stdout).toMatch(/demo stopped\./);
  }, 40_000);
});
