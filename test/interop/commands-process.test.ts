// Remote commands against real agent processes and Mosquitto: signatures (unsigned, wrong key,
// tampered args, moved to another command, replayed id), a SIGKILL between a command's effect
// and its reply (run once, answered, the repeat marked duplicate), and config.apply: a config
// that starts but cannot reach the uplink is rolled back; a good one stays.
import { afterEach, describe, expect, it } from 'vitest';
import mqtt from 'mqtt';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startMosquitto } from '../helpers/mosquitto.js';
import { baseYaml, tempDir } from '../helpers/agent-config.js';
import { runAgent, type Cleanups } from '../helpers/running.js';
import { start } from '../helpers/cli.js';
import { freePort } from '../helpers/ports.js';
import { waitFor } from '../helpers/wait.js';
import { generateCommandKeys, readKey, signBytes } from '../../src/commands/command-signature.js';
import { signedBytes, type CommandRequest } from '../../src/wire/command-wire.js';
import type { KeyObject } from 'node:crypto';

const cleanups: Cleanups = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
});

type Got = { topic: string; payload: Record<string, unknown> };

async function listen(url: string, filters: string[]) {
  const c = await mqtt.connectAsync(url, { protocolVersion: 4, clientId: `t-${Math.random().toString(16).slice(2)}` });
  cleanups.push(() => c.endAsync());
  const got: Got[] = [];
  c.on('message', (topic, payload) => got.push({ topic, payload: JSON.parse(payload.toString()) as Record<string, unknown> }));
  await c.subscribeAsync(filters, { qos: 1 });
  // At least once: a reply may arrive twice with the same msgId (sent again after a crash).
  const replies = (id: string) => [...new Map(got.filter((g) => g.topic.includes('/cmd-result') && g.payload.id === id).map((g) => [g.payload.msgId, g.payload])).values()];
  return { client: c, got, replies };
}

const signed = (key: KeyObject, device: string, name: string, body: Omit<CommandRequest, 'v'>): CommandRequest => {
  const r: CommandRequest = { v: 1, ...body };
  return { ...r, sig: signBytes(signedBytes(device, name, r), key) };
};

describe('remote commands, signed and across crashes', () => {
  it('runs only commands signed by the fleet key, for this device and this command, once', async () => {
    const broker = await startMosquitto();
    cleanups.push(() => broker.stop());
    const dir = tempDir();
    const fleetKeys = generateCommandKeys();
    const other = generateCommandKeys();
    writeFileSync(join(dir, 'fleet.pub'), fleetKeys.publicKey);
    const agent = await runAgent(cleanups, baseYaml({ fleetUrl: broker.url, extra: 'commands: { publicKey: "${file:./fleet.pub}" }' }), dir);
    await waitFor('uplink online', async () => (await agent.health()).uplink.state === 'online');
    const me = await listen(broker.url, ['outpost/test-01/cmd-result']);
    const key = readKey(fleetKeys.privateKey, 'private') as KeyObject;
    const wrong = readKey(other.privateKey, 'private') as KeyObject;
    const expiresAt = new Date(Date.now() + 60_000).toISOString();
    const send = (name: string, r: unknown) => me.client.publishAsync(`outpost/test-01/cmd/${name}`, JSON.stringify(r), { qos: 1 });

    const good = signed(key, 'test-01', 'log.level', { id: 's-good', args: { level: 'fatal' }, expiresAt, issuedBy: 'ops' });
    await send('log.level', good);
    await send('log.level', { v: 1, id: 's-unsigned', args: { level: 'debug' }, expiresAt, issuedBy: 'mallory' });
    await send('log.level', signed(wrong, 'test-01', 'log.level', { id: 's-wrong', args: { level: 'debug' }, expiresAt, issuedBy: 'mallory' }));
    await send('log.level', { ...good, id: 's-tampered', args: { level: 'trace' } });
    const tampered = signed(key, 'test-01', 'log.level', { id: 's-tampered2', args: { level: 'warn' }, expiresAt });
    await send('log.level', { ...tampered, args: { level: 'trace' } });
    await send('config.get', signed(key, 'test-01', 'log.level', { id: 's-moved', args: {}, expiresAt }));
    await send('log.level', signed(key, 'test-02', 'log.level', { id: 's-other-device', args: { level: 'debug' }, expiresAt }));
    await send('log.level', signed(key, 'test-01', 'log.level', { id: 's-no-expiry', args: { level: 'debug' } }));
    await send('log.level', good); // the same signed command again: a replay
    await waitFor('nine replies', () => me.got.length >= 9);

    expect(me.replies('s-good')).toEqual([expect.objectContaining({ status: 'done', result: { level: 'fatal', was: 'silent' } }), expect.objectContaining({ status: 'done', duplicate: true })]);
    for (const id of ['s-unsigned', 's-wrong', 's-tampered', 's-tampered2', 's-moved', 's-other-device', 's-no-expiry']) {
      expect(me.replies(id), id).toEqual([expect.objectContaining({ status: 'rejected' })]);
    }
    expect(me.replies('s-unsigned')[0]!.error).toMatch(/unsigned/);
    expect(me.replies('s-wrong')[0]!.error).toMatch(/does not verify/);
    expect(me.replies('s-no-expiry')[0]!.error).toMatch(/expiresAt/);
  });

  it('a SIGKILL between a command\'s effect and its reply: run once, answered, the repeat marked duplicate', async () => {
    const broker = await startMosquitto();
    cleanups.push(() => broker.stop());
    const dir = tempDir();
    const port = await freePort();
    const T = Date.now();
    writeFileSync(join(dir, 'agent.yaml'), `
device: { id: crash-01 }
broker: { enabled: false }
sources: [ { type: simulated, sensors: [ { id: sim/t, rateHz: 20 } ] } ]
pipelines: [ { match: ["**"], window: { type: tumbling, size: 1s } } ]
uplink: { url: "${broker.url}", reconnect: { min: 100ms, max: 500ms } }
storage: { path: ./a.db, commitInterval: 20ms }
http: { host: 127.0.0.1, port: ${port} }
`);
    const me = await listen(broker.url, ['outpost/crash-01/cmd-result', 'outpost/crash-01/summary/#']);
    const first = start(['run', '--config', join(dir, 'agent.yaml')], { OUTPOST_FAULT: 'kill-after-command' });
    cleanups.push(async () => first.child.kill('SIGKILL'));
    await waitFor('3 summaries', () => me.got.filter((g) => g.topic.includes('/summary/')).length >= 3, 15_000);
    const cmd = { v: 1, id: 'replay-1', args: { from: new Date(T - 60_000).toISOString(), to: new Date(Date.now()).toISOString() } };
    await me.client.publishAsync('outpost/crash-01/cmd/replay', JSON.stringify(cmd), { qos: 1 });
    const ended = await first.done;
    expect(ended.signal).toBe('SIGKILL');

    const second = start(['run', '--config', join(dir, 'agent.yaml')]);
    cleanups.push(async () => second.child.kill('SIGKILL'));
    // "accepted" was durable before the effect (it may or may not have gone out before the kill).
    await waitFor('the interrupted command answered', () => me.replies('replay-1').length >= 2, 15_000);
    expect(me.replies('replay-1').map((r) => r.status)).toEqual(['accepted', 'failed']);
    expect(me.replies('replay-1')[1]).toMatchObject({ status: 'failed', error: expect.stringMatching(/interrupted/) });
    const replayed = () => me.got.filter((g) => g.payload.replayed === true).length;
    await waitFor('the replayed summaries of the one run', () => replayed() > 0, 10_000);
    await new Promise((r) => setTimeout(r, 500));
    const once = replayed();

    await me.client.publishAsync('outpost/crash-01/cmd/replay', JSON.stringify(cmd), { qos: 1 });
    await waitFor('the repeat answered', () => me.replies('replay-1').length >= 3);
    expect(me.replies('replay-1')[2]).toMatchObject({ status: 'failed', duplicate: true });
    await new Promise((r) => setTimeout(r, 1000));
    expect(replayed()).toBe(once);
    second.child.kill('SIGTERM');
    await second.done;
  });

  it('config.apply: a config that starts but cannot reach the uplink is rolled back; a good one stays', async () => {
    const broker = await startMosquitto();
    cleanups.push(() => broker.stop());
    const dir = tempDir();
    const port = await freePort();
    const dead = await freePort();
    const config = (url: string, size: string) => `
device: { id: apply-01 }
broker: { enabled: false }
sources: [ { type: simulated, sensors: [ { id: sim/t, rateHz: 5 } ] } ]
pipelines: [ { match: ["**"], window: { type: tumbling, size: ${size} } } ]
uplink: { url: "${url}", reconnect: { min: 100ms, max: 500ms }, username: apply, password: "s3cret-literal" }
storage: { path: ./a.db, commitInterval: 20ms }
http: { host: 127.0.0.1, port: ${port} }
commands: { allow: [config.get, config.apply] }
`;
    const file = join(dir, 'agent.yaml');
    const original = config(broker.url, '1s');
    writeFileSync(file, original);
    const me = await listen(broker.url, ['outpost/apply-01/cmd-result']);
    const agent = start(['run', '--config', file]);
    cleanups.push(async () => agent.child.kill('SIGKILL'));
    // Online: subscribed to its commands (a first-ever session has nothing queued before that).
    await waitFor('agent online', async () => (await fetch(`http://127.0.0.1:${port}/status`).then(async (r) => ((await r.json()) as { uplink: { state: string } }).uplink.state === 'online', () => false)), 15_000);
    const send = (id: string, name: string, args: unknown) => me.client.publishAsync(`outpost/apply-01/cmd/${name}`, JSON.stringify({ v: 1, id, args }), { qos: 1 });

    // config.get hides the literal password; an apply that keeps "[redacted]" keeps the secret.
    await send('get-1', 'config.get', {});
    await waitFor('config.get answered', () => me.replies('get-1').length >= 1);
    const yaml = (me.replies('get-1')[0]!.result as { yaml: string }).yaml;
    expect(yaml).not.toContain('s3cret-literal');
    expect(yaml).toContain('[redacted]');

    // A remote config may not name files or variables the current one does not.
    await send('peek-1', 'config.apply', { yaml: original.replace('id: apply-01', 'id: "${file:/etc/hostname}"') });
    await waitFor('the peek refused', () => me.replies('peek-1').length >= 2);
    expect(me.replies('peek-1')[1]).toMatchObject({ status: 'failed', error: expect.stringMatching(/file:\/etc\/hostname/) });

    await send('bad-1', 'config.apply', { yaml: config(`mqtt://127.0.0.1:${dead}`, '1s'), rollbackAfter: '2s' });
    await waitFor('the rollback answered', () => me.replies('bad-1').length >= 2, 30_000);
    expect(me.replies('bad-1')[0]).toMatchObject({ status: 'accepted' });
    expect(me.replies('bad-1')[1]).toMatchObject({ status: 'failed', result: { applied: false, rolledBack: true } });
    expect(me.replies('bad-1')[1]!.error).toMatch(/rolled back: with the new config, uplink/);
    expect(readFileSync(file, 'utf8')).toBe(original);
    expect(existsSync(`${file}.previous`)).toBe(true);

    await send('good-1', 'config.apply', { yaml: yaml.replace('size: 1s', 'size: 2s'), rollbackAfter: '10s' });
    await waitFor('the apply answered', () => me.replies('good-1').length >= 2, 30_000);
    expect(me.replies('good-1')[1]).toMatchObject({ status: 'done', result: { applied: true } });
    const now = readFileSync(file, 'utf8');
    expect(now).toContain('size: 2s');
    expect(now).toContain('s3cret-literal');

    // A second apply while one is on trial is refused; a SIGKILL during a trial is undone at the next start.
    await send('kill-1', 'config.apply', { yaml: config(`mqtt://127.0.0.1:${dead}`, '2s'), rollbackAfter: '60s' });
    await waitFor('the new file on trial', () => existsSync(`${file}.applying`) && readFileSync(file, 'utf8').includes(`${dead}`), 15_000);
    await send('busy-1', 'config.apply', { yaml: now, rollbackAfter: '5s' });
    await waitFor('the busy one answered', () => me.replies('busy-1').some((r) => r.status !== 'accepted'), 15_000);
    expect(me.replies('busy-1').find((r) => r.status !== 'accepted')).toMatchObject({ status: 'failed', error: expect.stringMatching(/is on trial/) });
    agent.child.kill('SIGKILL');
    await agent.done;
    const again = start(['run', '--config', file]);
    cleanups.push(async () => again.child.kill('SIGKILL'));
    await waitFor('agent online again', async () => (await fetch(`http://127.0.0.1:${port}/status`).then(async (r) => ((await r.json()) as { uplink: { state: string } }).uplink.state === 'online', () => false)), 15_000);
    expect(readFileSync(file, 'utf8')).toBe(now);
    expect(existsSync(`${file}.applying`)).toBe(false);
    expect(again.output()).toMatch(/config.apply was interrupted before the new config proved healthy/);
    await waitFor('the interrupted apply answered', () => me.replies('kill-1').some((r) => r.status === 'failed'), 15_000);
    expect(me.replies('kill-1').find((r) => r.status === 'failed')!.error).toMatch(/interrupted/);
    again.child.kill('SIGTERM');
    expect((await again.done).code).toBe(0);
  });
});
