// `outpost deadletter list|replay|purge` and `outpost hash-password` as users run them: real
// processes against a real agent and its database.
import { afterEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { OUTPOST, runCli, start } from '../helpers/cli.js';
import { tempDir } from '../helpers/agent-config.js';
import { startFleet } from '../helpers/fleet.js';
import { freePort } from '../helpers/ports.js';
import { waitFor } from '../helpers/wait.js';
import { createPasswordChecker } from '../../src/ops/password-hash.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
});

describe('outpost deadletter', () => {
  it('lists dead letters, replays them after a fix, and purges the rest', async () => {
    const fleet = await startFleet();
    cleanups.push(() => fleet.stop());
    const dir = tempDir();
    const [brokerPort, httpPort] = [await freePort(), await freePort()];
    const yaml = (maxSensors: number) => `
device: { id: dl-01 }
broker: { host: 127.0.0.1, port: ${brokerPort} }
sources: [ { type: mqtt, topic: "sensors/#" } ]
pipelines: [ { match: ["**"], window: { type: tumbling, size: 1s } } ]
uplink: { url: "${fleet.url}" }
storage: { path: ./outpost.db }
http: { host: 127.0.0.1, port: ${httpPort} }
limits: { maxSensors: ${maxSensors} }
`;
    const cfg = join(dir, 'agent.yaml');
    writeFileSync(cfg, yaml(2));
    let agent = start(['run', '--config', cfg]);
    cleanups.push(async () => agent.child.kill('SIGKILL'));
    const connect = async () => {
      let c: mqtt.MqttClient | undefined;
      await waitFor('agent broker', async () => (c = await mqtt.connectAsync(`mqtt://127.0.0.1:${brokerPort}`, { reconnectPeriod: 0 }).catch(() => undefined)) !== undefined, 15_000);
      return c!;
    };
    let pub = await connect();
    const ts = Date.now();
    for (const s of ['a', 'b', 'c']) await pub.publishAsync(`sensors/room/${s}`, JSON.stringify({ value: 21, ts }), { qos: 1 });
    await pub.publishAsync('sensors/room/a', '{"value": 2', { qos: 1 });
    await pub.endAsync();

    await waitFor('two dead letters', async () => (await runCli(['deadletter', 'list', '--config', cfg])).stdout.startsWith('2 dead letter(s)'), 10_000);
    const listed = await runCli(['deadletter', 'list', '--config', cfg]);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/too-many-sensors\s+from mqtt:sensors\/#\n.*limits\.maxSensors = 2.*"room\/c"/);
    expect(listed.stdout).toMatch(/bad-json\s+from mqtt:sensors\/# on sensors\/room\/a/);
    expect(listed.stdout).toMatch(/payload: \{"value": 2/);
    const json = (await runCli(['deadletter', 'list', '--config', cfg, '--json', '--reason', 'bad-json'])).stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(json).toEqual([expect.objectContaining({ reason: 'bad-json', topic: 'sensors/room/a', payload: '{"value": 2' })]);

    // The fix: room for more sensors. Restart with it, then replay what the limit refused.
    agent.child.kill('SIGTERM');
    expect((await agent.done).code).toBe(0);
    writeFileSync(cfg, yaml(10));
    agent = start(['run', '--config', cfg]);
    pub = await connect();
    await pub.endAsync();
    const replayed = await runCli(['deadletter', 'replay', '--config', cfg, '--reason', 'too-many-sensors']);
    expect(replayed.stdout).toMatch(/^replayed 1 dead letter\(s\)/);
    await waitFor('a summary of the replayed sensor upstream', () => fleet.received.some((r) => r.json?.sensor === 'room/c' && r.json?.count === 1), 10_000);
    expect((await runCli(['deadletter', 'list', '--config', cfg])).stdout).toMatch(/^1 dead letter\(s\)/);

    // A bad payload replayed stays a dead letter (a new row): nothing is lost either way.
    const again = await runCli(['deadletter', 'replay', '--config', cfg, '--reason', 'bad-json']);
    expect(again.stdout).toMatch(/^replayed 1/);
    await waitFor('it is back', async () => (await runCli(['deadletter', 'list', '--config', cfg, '--reason', 'bad-json'])).stdout.startsWith('1 dead letter(s)'));

    expect((await runCli(['deadletter', 'purge', '--config', cfg])).code).toBe(2); // says which, or --all
    const purged = await runCli(['deadletter', 'purge', '--config', cfg, '--reason', 'bad-json']);
    expect(purged.stdout).toMatch(/purged 1 dead letter\(s\)/);
    expect((await runCli(['deadletter', 'list', '--config', cfg])).stdout).toMatch(/^0 dead letter\(s\)/);
    agent.child.kill('SIGTERM');
    expect((await agent.done).code).toBe(0);
    const offline = await runCli(['deadletter', 'replay', '--config', cfg]);
    expect(offline.code).toBe(1);
    expect(offline.stderr).toMatch(/the agent is not answering on http:\/\/127\.0\.0\.1:\d+\/deadletters\/replay: start it/);
    // With no agent running, purge writes the file itself, under the agent's lock.
    const offlinePurge = await runCli(['deadletter', 'purge', '--config', cfg, '--all']);
    expect(offlinePurge.code).toBe(0);
    expect(offlinePurge.stdout).toMatch(/^purged 0 dead letter\(s\)/);
  }, 60_000);

  it('never writes the database behind a running agent: purge without its HTTP endpoint is refused by the lock', async () => {
    const fleet = await startFleet();
    const dir = tempDir();
    const cfg = join(dir, 'agent.yaml');
    writeFileSync(cfg, `
device: { id: lock-01 }
broker: { host: 127.0.0.1, port: ${await freePort()} }
sources: [ { type: mqtt, topic: "sensors/#" } ]
pipelines: [ { match: ["**"], window: { type: tumbling, size: 1s } } ]
uplink: { url: "${fleet.url}" }
storage: { path: ./outpost.db }
http: { enabled: false }
`);
    const agent = start(['run', '--config', cfg]);
    try {
      await waitFor('the agent running', () => agent.output().includes('outpost running'), 15_000);
      const r = await runCli(['deadletter', 'purge', '--config', cfg, '--all']);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/another outpost \(pid \d+\) is running on .*outpost\.db: stop it first/);
    } finally {
      agent.child.kill('SIGTERM');
      await agent.done;
      await fleet.stop();
    }
  });
});

describe('outpost hash-password', () => {
  it('prints a scrypt hash of a piped password that the broker accepts', async () => {
    const child = spawn(process.execPath, [...OUTPOST, 'hash-password'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stdin.end('greenhouse-pw\n');
    const code = await new Promise((r) => child.on('exit', r));
    expect(code).toBe(0);
    const hash = out.trim();
    expect(hash).toMatch(/^\$scrypt\$N=16384,r=8,p=1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    expect(hash).not.toContain('greenhouse-pw');
    expect(await createPasswordChecker().verify('n', Buffer.from('greenhouse-pw'), hash)).toBe(true);
  });
});
