// Remote commands end to end over real TCP: `outpost fleet` -> Mosquitto -> an agent, and the
// replies back through the agent's outbox. MQTT 5 (response topic and correlation data echoed)
// and 3.1.1 (<prefix>/cmd-result, correlated by id); unknown names and bad args refused with
// what is known and where; a command delivered twice runs once; a command sent while the
// agent is down runs when it returns (an expired one is refused); a replay closes a gap the
// fleet showed.
import { afterEach, describe, expect, it } from 'vitest';
import mqtt from 'mqtt';
import fc from 'fast-check';
import { join } from 'node:path';
import { copyFileSync, statSync, writeFileSync } from 'node:fs';
import { runCli } from '../helpers/cli.js';
import { loadFleetConfig } from '../../src/fleet/fleet-config.js';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { baseYaml, tempDir } from '../helpers/agent-config.js';
import { runAgent, type Cleanups } from '../helpers/running.js';
import { connectPublisher } from '../helpers/publisher.js';
import { waitFor } from '../helpers/wait.js';
import { startFleetService, type FleetService } from '../../src/fleet/fleet-service.js';
import { fleetConfigSchema } from '../../src/fleet/fleet-config.js';
import { silentLogger } from '../../src/ops/logger.js';

const cleanups: Cleanups = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
});

const T0 = Math.floor((Date.now() - 600_000) / 10_000) * 10_000;
type Reply = { id: string; msgId: string; status: string; name: string; result?: Record<string, unknown>; error?: string; duplicate?: boolean };
type Cmd = { id: string; state: string; result?: Record<string, unknown>; error?: string | null; replies: Reply[] };

async function fleetOn(broker: Mosquitto, dir: string, clientId = 'fleet-cmd-test', extra: Record<string, unknown> = {}): Promise<FleetService> {
  const f = await startFleetService(fleetConfigSchema.parse({ broker: { url: broker.url, clientId }, store: { path: join(dir, 'fleet.db') }, http: { port: 0 }, ...extra }), silentLogger());
  cleanups.push(() => f.stop());
  return f;
}

function api(fleet: FleetService) {
  const base = `http://127.0.0.1:${fleet.httpPort}`;
  return {
    get: async <T>(path: string): Promise<T> => (await (await fetch(base + path)).json()) as T,
    async send(device: string, body: Record<string, unknown>): Promise<{ status: number; body: Cmd & { error?: string } }> {
      const r = await fetch(`${base}/api/devices/${encodeURIComponent(device)}/commands`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      return { status: r.status, body: (await r.json()) as Cmd & { error?: string } };
    },
    async final(id: string, timeoutMs = 15_000): Promise<Cmd> {
      let c: Cmd | undefined;
      await waitFor(`command ${id} final`, async () => {
        [c] = await this.get<Cmd[]>(`/api/commands?id=${id}`);
        return c !== undefined && ['done', 'failed', 'rejected', 'expired'].includes(c.state);
      }, timeoutMs);
      return c!;
    },
  };
}

/** The fleet knows a device once it heard from it: readings until a summary of test-01 is in its device list. */
async function fleetKnows(pub: { publishAsync: (topic: string, payload: string, o: { qos: 1 }) => Promise<unknown> }, devices: () => Promise<unknown[]>): Promise<void> {
  await waitFor('the fleet knows test-01', async () => {
    await pub.publishAsync('sensors/hall/temp', JSON.stringify({ value: 21, ts: Date.now() - 5000 }), { qos: 1 });
    return (await devices()).length === 1;
  });
}

/** A raw MQTT client on the fleet broker, recording what arrives. */
async function listen(url: string, filters: string[], version: 4 | 5 = 5) {
  const c = await mqtt.connectAsync(url, { protocolVersion: version, clientId: `listen-${Math.random().toString(16).slice(2)}` });
  cleanups.push(() => c.endAsync());
  const got: Array<{ topic: string; payload: Record<string, unknown>; correlation?: string }> = [];
  c.on('message', (topic, payload, packet) => got.push({ topic, payload: JSON.parse(payload.toString()) as Record<string, unknown>, correlation: packet.properties?.correlationData?.toString() }));
  await c.subscribeAsync(filters, { qos: 1 });
  return { client: c, got };
}

describe('remote commands', () => {
  it('fleet -> agent -> fleet on MQTT 5: ping, status, refusals with what is known, response topic and correlation data echoed', async () => {
    const broker = await startMosquitto();
    cleanups.push(() => broker.stop());
    const agent = await runAgent(cleanups, baseYaml({ fleetUrl: broker.url, windowSize: '1s' }));
    const pub = await connectPublisher(agent.brokerPort!);
    cleanups.push(() => pub.endAsync());
    for (let i = 0; i < 3; i++) await pub.publishAsync('sensors/hall/temp', JSON.stringify({ value: 20 + i, ts: T0 + i * 1000 }), { qos: 1 });
    const fleet = await fleetOn(broker, tempDir());
    const a = api(fleet);
    // The device is known once the fleet has heard from it (a summary after the fleet subscribed).
    await fleetKnows(pub, () => a.get<unknown[]>('/api/devices'));

    const ping = await a.send('test-01', { name: 'ping' });
    expect(ping.status).toBe(202);
    const pinged = await a.final(ping.body.id);
    expect(pinged.state).toBe('done');
    expect(pinged.result).toMatchObject({ pong: true });

    const status = await a.final((await a.send('test-01', { name: 'status' })).body.id);
    expect(status.state).toBe('done');
    expect(status.result).toMatchObject({ device: 'test-01', uplink: { state: 'online' } });

    // The fleet checks names and args before sending...
    expect((await a.send('test-01', { name: 'reboot' })).status).toBe(400);
    const badArgs = await a.send('test-01', { name: 'gpio.set', args: { pin: 'x' } });
    expect(badArgs.status).toBe(400);
    expect(badArgs.body.error).toMatch(/args\.pin/);
    expect((await a.send('nobody', { name: 'ping' })).status).toBe(404);

    // ...and so does the device, for anyone else on the broker: MQTT 5 request/response by hand.
    const me = await listen(broker.url, ['outpost/test-01/cmd-result/#']);
    const ask = (name: string, body: Record<string, unknown>, correlation: string) =>
      me.client.publishAsync(`outpost/test-01/cmd/${name}`, JSON.stringify({ v: 1, ...body }), { qos: 1, properties: { responseTopic: 'outpost/test-01/cmd-result/me', correlationData: Buffer.from(correlation) } });
    await ask('reboot', { id: 'r-1', args: {} }, 'c-1');
    await ask('detector.reset', { id: 'r-2', args: { sensors: 5 } }, 'c-2');
    await ask('ping', { id: 'r-3', args: {}, expiresAt: new Date(Date.now() - 1000).toISOString() }, 'c-3');
    await ask('ping', { id: 'r-4' }, 'c-4');
    await ask('gpio.set', { id: 'r-6', args: { pin: 17, value: 1 } }, 'c-6');
    await waitFor('five replies on the response topic', () => me.got.length >= 5);
    const by = (c: string) => me.got.find((g) => g.correlation === c)!;
    // Unsigned, the actuators and the config are not taken unless listed in commands.allow.
    expect(by('c-6').payload).toMatchObject({ id: 'r-6', status: 'rejected' });
    expect(by('c-6').payload.error).toMatch(/gpio.set is not allowed/);
    expect(by('c-1').topic).toBe('outpost/test-01/cmd-result/me');
    expect(by('c-1').payload).toMatchObject({ id: 'r-1', status: 'rejected', device: 'test-01' });
    expect(by('c-1').payload.error).toMatch(/unknown command "reboot".*ping, status, replay/);
    expect(by('c-2').payload).toMatchObject({ id: 'r-2', status: 'rejected' });
    expect(by('c-2').payload.error).toMatch(/args\.sensors/);
    expect(by('c-3').payload).toMatchObject({ id: 'r-3', status: 'expired' });
    expect(by('c-4').payload).toMatchObject({ id: 'r-4', status: 'done', result: { pong: true } });
    expect(by('c-4').payload.msgId).toMatch(/^test-01:\d+$/);

    // The same command twice: answered twice, run once (the second says duplicate).
    await ask('ping', { id: 'r-4' }, 'c-5');
    await waitFor('the repeat answered', () => me.got.some((g) => g.correlation === 'c-5'));
    expect(by('c-5').payload).toMatchObject({ id: 'r-4', status: 'done', duplicate: true });

    // The fleet saw the replies on the device's feed: commands it did not send are audited too.
    await waitFor('hand-sent commands in the fleet', async () => (await a.get<Cmd[]>('/api/commands?device=test-01')).some((c) => c.id === 'r-4' && c.state === 'done'));
    // And the replies took seqs like any message: no gap.
    const [dev] = await a.get<Array<{ gaps: { missing: number } }>>('/api/devices');
    expect(dev!.gaps.missing).toBe(0);
  });

  it('outpost keygen and outpost cmd from a shell: the reply printed, the exit code by its status', async () => {
    const broker = await startMosquitto();
    cleanups.push(() => broker.stop());
    const dir = tempDir();
    const made = await runCli(['keygen', '--out', join(dir, 'fleet')]);
    expect(made.code).toBe(0);
    expect(statSync(join(dir, 'fleet.key')).mode & 0o777).toBe(0o600);
    expect((await runCli(['keygen', '--out', join(dir, 'fleet')])).code).toBe(1); // never overwritten
    writeFileSync(join(dir, 'fleet.yaml'), `broker: { url: "${broker.url}", clientId: fleet-cli }\nstore: { path: ./fleet.db }\nhttp: { port: 0, token: cli-test-token-0123456789 }\ncommands: { privateKey: "\${file:./fleet.key}" }\n`);
    const loaded = loadFleetConfig(join(dir, 'fleet.yaml'));
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
    const fleet = await startFleetService(loaded.config, silentLogger());
    cleanups.push(() => fleet.stop());
    const agentDir = tempDir();
    copyFileSync(join(dir, 'fleet.pub'), join(agentDir, 'fleet.pub'));
    const agent = await runAgent(cleanups, baseYaml({ fleetUrl: broker.url, windowSize: '1s', extra: 'commands: { publicKey: "${file:./fleet.pub}" }' }), agentDir);
    const pub = await connectPublisher(agent.brokerPort!);
    cleanups.push(() => pub.endAsync());
    await fleetKnows(pub, async () => (await (await fetch(`http://127.0.0.1:${fleet.httpPort}/api/devices`, { headers: { authorization: 'Bearer cli-test-token-0123456789' } })).json()) as unknown[]);
    const cmd = (...args: string[]) => runCli(['cmd', '--fleet', join(dir, 'fleet.yaml'), '--url', `http://127.0.0.1:${fleet.httpPort}`, ...args]);
    const ping = await cmd('test-01', 'ping');
    expect(ping.code).toBe(0);
    expect(JSON.parse(ping.stdout)).toMatchObject({ state: 'done', result: { pong: true } });
    const level = await cmd('test-01', 'log.level', '--arg', 'level=debug', '--arg', 'for=1m');
    expect(level.code).toBe(0);
    expect(JSON.parse(level.stdout)).toMatchObject({ state: 'done', result: { level: 'debug', untilS: 60 } });
    const bad = await cmd('test-01', 'alarm.ack', '--arg', 'pin=17');
    expect(bad.code).toBe(1); // failed: this device has no alarm outputs
    expect(JSON.parse(bad.stdout).error).toMatch(/no alarm outputs/);
    expect((await cmd('test-01', 'reboot')).code).toBe(2);
    expect((await cmd('nobody', 'ping')).code).toBe(1);
    await agent.stop();
    const late = await cmd('test-01', 'ping', '--timeout', '1s');
    expect(late.code).toBe(4);
    expect((await cmd('test-01', 'ping', '--url', 'http://127.0.0.1:1')).code).toBe(5);
  });

  it('flush, deadletter.replay, gpio.set, alarm.ack and detector.reset do what they say', async () => {
    const broker = await startMosquitto();
    cleanups.push(() => broker.stop());
    const agent = await runAgent(cleanups, baseYaml({ fleetUrl: broker.url, windowSize: '1h', extra: 'gpio: { simulate: true, alarms: [ { pin: 17, minOnTime: 1h } ] }\ncommands: { allow: [flush, gpio.set, alarm.ack, detector.reset, deadletter.replay] }' }));
    const pub = await connectPublisher(agent.brokerPort!);
    cleanups.push(() => pub.endAsync());
    const me = await listen(broker.url, ['outpost/test-01/cmd-result', 'outpost/test-01/summary/#']);
    await waitFor('uplink online', async () => (await agent.health()).uplink.state === 'online');
    let n = 0;
    const run = async (name: string, args: Record<string, unknown> = {}) => {
      const id = `x-${++n}`;
      await me.client.publishAsync(`outpost/test-01/cmd/${name}`, JSON.stringify({ v: 1, id, args }), { qos: 1 });
      await waitFor(`${name} answered`, () => me.got.some((g) => g.payload.id === id && g.payload.status !== 'accepted'));
      return me.got.find((g) => g.payload.id === id && g.payload.status !== 'accepted')!.payload;
    };
    // flush: the open hour-long window goes out as a partial summary now.
    await pub.publishAsync('sensors/hall/temp', '21.5', { qos: 1 });
    expect(await run('flush')).toMatchObject({ status: 'done', result: { partialSummaries: 1 } });
    await waitFor('the partial summary', () => me.got.some((g) => g.topic === 'outpost/test-01/summary/hall/temp' && g.payload.partial === true));
    // gpio.set and alarm.ack on the alarm pin; another pin is refused.
    expect(await run('gpio.set', { pin: 17, value: 1 })).toMatchObject({ status: 'done' });
    expect((await agent.health()).alarms).toEqual([17]);
    expect(await run('alarm.ack')).toMatchObject({ status: 'done', result: { released: [17] } });
    expect((await agent.health()).alarms).toEqual([]);
    expect(await run('gpio.set', { pin: 4, value: 1 })).toMatchObject({ status: 'failed', error: expect.stringMatching(/not an alarm output/) });
    // An anomaly switches the pin on; alarm.ack releases it.
    await pub.publishAsync('sensors/hall/temp', '99', { qos: 1 });
    await waitFor('the alarm on', async () => (await agent.health()).alarms.includes(17));
    expect(await run('alarm.ack', { pin: 17 })).toMatchObject({ status: 'done', result: { released: [17] } });
    // detector.reset: the sensor's detectors start over.
    expect(await run('detector.reset', { sensors: 'hall/*' })).toMatchObject({ status: 'done', result: { sensors: 1 } });
    expect(await run('detector.reset', { sensors: 'nothing/*' })).toMatchObject({ status: 'done', result: { sensors: 0 } });
    // deadletter.replay: a refused payload, then replayed (still bad: dead-lettered again, counted).
    await pub.publishAsync('sensors/hall/temp', 'not a number', { qos: 1 });
    await waitFor('a dead letter', async () => Object.values((await agent.health()).deadLetters.byReason ?? {}).length > 0);
    await new Promise((r) => setTimeout(r, 200)); // committed (commitInterval 20ms)
    const replayed = await run('deadletter.replay', { all: true });
    expect(replayed).toMatchObject({ status: 'done', result: { replayed: 1 } });
  });

  it('survives generated junk on its command topics: no crash, still answering, junk with an id refused', async () => {
    const broker = await startMosquitto();
    cleanups.push(() => broker.stop());
    const agent = await runAgent(cleanups, baseYaml({ fleetUrl: broker.url }));
    await waitFor('uplink online', async () => (await agent.health()).uplink.state === 'online');
    const me = await listen(broker.url, ['outpost/test-01/cmd-result']);
    const names = fc.oneof(fc.constantFrom('ping', 'replay', 'config.apply', 'gpio.set', 'log.level', 'constructor', '__proto__', 'toString'), fc.string({ minLength: 1, maxLength: 30 }).filter((n) => !/[+#/\0]/.test(n)));
    const payloads = fc.oneof(
      fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
      fc.jsonValue({ maxDepth: 4 }).map((v) => Buffer.from(JSON.stringify(v) ?? 'null')),
      fc.record({ v: fc.oneof(fc.constant(1), fc.jsonValue()), id: fc.oneof(fc.string({ maxLength: 200 }), fc.jsonValue()), args: fc.oneof(fc.dictionary(fc.string({ maxLength: 10 }), fc.jsonValue({ maxDepth: 3 })), fc.jsonValue()), expiresAt: fc.oneof(fc.string(), fc.date({ noInvalidDate: true }).map((d) => d.toISOString())) }, { requiredKeys: [] }).map((o) => Buffer.from(JSON.stringify(o))),
    );
    const junk = fc.sample(fc.tuple(names, payloads), { seed: 20_261_129, numRuns: 300 });
    for (const [name, payload] of junk) await me.client.publishAsync(`outpost/test-01/cmd/${name}`, payload, { qos: 1 });
    await me.client.publishAsync('outpost/test-01/cmd/ping', JSON.stringify({ v: 1, id: 'after-the-junk', args: {} }), { qos: 1 });
    await waitFor('the ping after the junk answered', () => me.got.some((g) => g.payload.id === 'after-the-junk'), 20_000);
    expect(me.got.find((g) => g.payload.id === 'after-the-junk')!.payload).toMatchObject({ status: 'done' });
    const h = await agent.health();
    expect(h.uplink.state).toBe('online');
    // Every answer is a well-formed reply; none says done for junk (a generated ping with a fresh id may run).
    for (const g of me.got) expect(['done', 'failed', 'rejected', 'expired', 'accepted']).toContain(g.payload.status);
  });

  it('on MQTT 3.1.1 replies go to <prefix>/cmd-result with the command id', async () => {
    const broker = await startMosquitto();
    cleanups.push(() => broker.stop());
    const agent = await runAgent(cleanups, baseYaml({ fleetUrl: broker.url }).replace('reconnect: { min: 100ms, max: 500ms }', 'reconnect: { min: 100ms, max: 500ms }, protocol: "3.1.1"'));
    await waitFor('uplink online', async () => (await agent.health()).uplink.state === 'online');
    const me = await listen(broker.url, ['outpost/test-01/cmd-result'], 4);
    await me.client.publishAsync('outpost/test-01/cmd/ping', JSON.stringify({ v: 1, id: 'v3-1', args: {} }), { qos: 1 });
    await waitFor('the reply', () => me.got.length >= 1);
    expect(me.got[0]).toMatchObject({ topic: 'outpost/test-01/cmd-result', payload: { id: 'v3-1', status: 'done', name: 'ping' } });
    expect(me.got[0]!.correlation).toBeUndefined();
  });

  it('a command sent while the agent is down runs when it returns; one that expired meanwhile is refused', async () => {
    const broker = await startMosquitto();
    cleanups.push(() => broker.stop());
    const dir = tempDir();
    const yaml = baseYaml({ fleetUrl: broker.url, windowSize: '1s' });
    const first = await runAgent(cleanups, yaml, dir);
    const pub = await connectPublisher(first.brokerPort!);
    const fleet = await fleetOn(broker, tempDir());
    const a = api(fleet);
    await fleetKnows(pub, () => a.get<unknown[]>('/api/devices'));
    await pub.endAsync();
    await first.stop();

    const later = await a.send('test-01', { name: 'ping', ttl: '1m' });
    const expiring = await a.send('test-01', { name: 'ping', ttl: '1s' });
    await waitFor('both taken by the broker', async () => (await a.get<Cmd[]>('/api/commands')).filter((c) => c.state === 'sent').length === 2);
    await new Promise((r) => setTimeout(r, 1500));
    await runAgent(cleanups, yaml, dir);
    expect((await a.final(later.body.id)).state).toBe('done');
    expect((await a.final(expiring.body.id)).state).toBe('expired');
  });

  it('replay closes a gap the fleet read model showed', async () => {
    const broker = await startMosquitto();
    cleanups.push(() => broker.stop());
    const agent = await runAgent(cleanups, baseYaml({ fleetUrl: broker.url, windowSize: '1s' }));
    const pub = await connectPublisher(agent.brokerPort!);
    cleanups.push(() => pub.endAsync());
    const fleetDir = tempDir();
    let fleet = await fleetOn(broker, fleetDir);
    let a = api(fleet);
    const reading = (i: number) => pub.publishAsync('sensors/hall/temp', JSON.stringify({ value: 20 + (i % 5), ts: T0 + i * 1000 }), { qos: 1 });
    for (let i = 0; i < 5; i++) await reading(i);
    await waitFor('4 summaries in the fleet', async () => (await a.get<unknown[]>(`/api/devices/test-01/sensors/${encodeURIComponent('hall/temp')}/summaries?from=${new Date(T0).toISOString()}&to=${new Date(T0 + 60_000).toISOString()}`)).length === 4);
    // The fleet goes away and its broker session with it (expired, or a reinstall): what the
    // device sends meanwhile never reaches it.
    await fleet.stop();
    cleanups.pop();
    const wipe = await mqtt.connectAsync(broker.url, { clientId: 'fleet-cmd-test', clean: true, protocolVersion: 4 });
    await wipe.endAsync();
    for (let i = 5; i < 10; i++) await reading(i);
    await waitFor('sent upstream', async () => (await agent.health()).backlog.rows === 0);
    fleet = await fleetOn(broker, fleetDir);
    a = api(fleet);
    for (let i = 10; i < 12; i++) await reading(i);
    let gap: [number, number] | undefined;
    await waitFor('a gap shows', async () => {
      const [d] = await a.get<Array<{ gaps: { missing: number; ranges: Array<[number, number]> } }>>('/api/devices');
      gap = d?.gaps.ranges[0];
      return (d?.gaps.missing ?? 0) > 0;
    });
    const sent = await a.send('test-01', { name: 'replay', args: { from: new Date(T0 + 4000).toISOString(), to: new Date(T0 + 10_000).toISOString(), sensors: 'hall/*' }, closesGap: gap });
    expect(sent.status).toBe(202);
    const done = await a.final(sent.body.id);
    expect(done).toMatchObject({ state: 'done', result: { summaries: 6 } });
    expect(done.replies.map((r) => r.status)).toEqual(['accepted', 'done']);
    await waitFor('the gap is closed', async () => (await a.get<Array<{ gaps: { missing: number } }>>('/api/devices'))[0]!.gaps.missing === 0);
    const rows = await a.get<Array<{ start: string; replayed?: boolean }>>(`/api/devices/test-01/sensors/${encodeURIComponent('hall/temp')}/summaries?from=${new Date(T0).toISOString()}&to=${new Date(T0 + 60_000).toISOString()}`);
    expect(rows.filter((r) => Date.parse(r.start) >= T0 + 5000 && Date.parse(r.start) < T0 + 10_000).length).toBe(5);
  });
});
