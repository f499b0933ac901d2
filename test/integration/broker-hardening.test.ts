// The local broker against hostile clients: raw packets over real TCP sockets, each attack a
// user on the same LAN could make, each refused with a counter while real sensors carry on.
import { afterEach, describe, expect, it } from 'vitest';
import { connect as tcpConnect, type Socket } from 'node:net';
import mqtt from 'mqtt';
import mqttPacket from 'mqtt-packet';
import { startEmbeddedBroker, type EmbeddedBroker, type EmbeddedBrokerOptions } from '../../src/broker/embedded-broker.js';
import { silentLogger } from '../../src/ops/logger.js';
import { waitFor } from '../helpers/wait.js';
import { readFileSync } from 'node:fs';
import { makePki } from '../helpers/certs.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
});

const USERS = [
  { username: 'node1', password: 'pw1', publish: ['sensors/node1/#'], subscribe: ['sensors/node1/#'] },
  { username: 'node2', password: 'pw2', publish: ['sensors/node2/#'], subscribe: [] },
];

async function broker(extra: Partial<EmbeddedBrokerOptions> = {}) {
  const rejected: string[] = [];
  const refused: string[] = [];
  const b: EmbeddedBroker = await startEmbeddedBroker({ host: '127.0.0.1', port: 0, log: silentLogger(), onRejected: (r) => rejected.push(r), ...extra });
  cleanups.push(() => b.close());
  const got: string[] = [];
  await b.subscribe(
    'sensors/#',
    (topic, payload) => void got.push(`${topic}=${payload}`),
    (topic) => void refused.push(topic),
  );
  return { b, got, rejected, refused };
}

const gen = (p: object) => mqttPacket.generate(p as mqttPacket.Packet);
/** The SUBACK's granted QoS per filter (mqtt.js rejects when any filter was refused). */
const granted = (c: mqtt.MqttClient, filters: string[]) =>
  c.subscribeAsync(filters).then(
    (g) => g.map((x) => x.qos),
    (e: { packet?: { granted?: number[] } }) => {
      if (!e.packet?.granted) throw e;
      return e.packet.granted;
    },
  );
const CONNECT = (clientId: string, extra: object = {}) => gen({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, keepalive: 30, clientId, ...extra });

function raw(port: number): Promise<Socket & { gone: Promise<void>; data: Buffer[] }> {
  return new Promise((resolve, reject) => {
    const s = tcpConnect(port, '127.0.0.1') as Socket & { gone: Promise<void>; data: Buffer[] };
    s.data = [];
    s.gone = new Promise((r) => s.once('close', () => r()));
    s.on('data', (d) => s.data.push(d));
    s.on('error', () => undefined);
    s.once('connect', () => resolve(s));
    s.once('error', reject);
    cleanups.push(async () => void s.destroy());
  });
}

/** A well-behaved sensor still gets through. */
async function sensorStillWorks(b: EmbeddedBroker, got: string[], opts: mqtt.IClientOptions = {}): Promise<void> {
  const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${b.port}`, { reconnectPeriod: 0, connectTimeout: 3000, ...opts });
  const topic = `sensors/${opts.username ?? 'ok'}/t`;
  await c.publishAsync(topic, '21.5', { qos: 1 });
  await c.endAsync();
  expect(got).toContain(`${topic}=21.5`);
}

describe('local broker hardening', () => {
  it('refuses a packet declaring 100 MB on its first bytes, before buffering it', async () => {
    const { b, got, rejected } = await broker({ maxPacketBytes: 65_536 });
    const s = await raw(b.port);
    s.write(CONNECT('big'));
    // PUBLISH, remaining length 100,000,000 (varint), then a trickle of body bytes.
    s.write(Buffer.from([0x30, 0x80, 0xc2, 0xd7, 0x2f, 0x00, 0x09]));
    s.write(Buffer.from('sensors/x'));
    await s.gone;
    expect(rejected).toContain('packet-too-large');
    await sensorStillWorks(b, got);
  });

  it('drops sockets that never send CONNECT: the oldest past the cap, the rest at the deadline', async () => {
    const { b, got, rejected } = await broker({ connectTimeoutMs: 500, maxPendingConnections: 10, maxConnections: 20 });
    const idle = await Promise.all(Array.from({ length: 40 }, () => raw(b.port)));
    // A real sensor connects while the idle sockets sit there.
    await sensorStillWorks(b, got);
    expect(rejected.filter((r) => r === 'pending-cap').length).toBeGreaterThanOrEqual(25);
    await Promise.all(idle.map((s) => s.gone)); // every idle socket is gone by the deadline
  });

  it('throttles failed logins per address and answers unknown users like known ones', async () => {
    const { b, rejected } = await broker({ users: USERS });
    const tryLogin = (username: string, password: string) => mqtt.connectAsync(`mqtt://127.0.0.1:${b.port}`, { username, password, reconnectPeriod: 0 }).then((c) => c.endAsync().then(() => 'ok'), (e: Error) => e.message);
    expect(await tryLogin('node1', 'wrong')).toMatch(/Bad username or password/);
    // Within the penalty even the right password is refused, and nothing is checked.
    expect(await tryLogin('node1', 'pw1')).toMatch(/Not authorized/);
    expect(rejected).toEqual(['auth', 'auth-throttled']);
    await new Promise((r) => setTimeout(r, 1100));
    expect(await tryLogin('node1', 'pw1')).toBe('ok');
  });

  it('binds a client id to its user: another user cannot take it over', async () => {
    const { b, rejected } = await broker({ users: USERS });
    const owner = await mqtt.connectAsync(`mqtt://127.0.0.1:${b.port}`, { clientId: 'greenhouse-node', username: 'node1', password: 'pw1', reconnectPeriod: 0 });
    cleanups.push(() => owner.endAsync());
    await expect(mqtt.connectAsync(`mqtt://127.0.0.1:${b.port}`, { clientId: 'greenhouse-node', username: 'node2', password: 'pw2', reconnectPeriod: 0 })).rejects.toThrow(/Identifier rejected/i);
    expect(rejected).toContain('takeover');
    expect(owner.connected).toBe(true);
    // The same user may reconnect under its id (a sensor back from a network drop).
    const again = await mqtt.connectAsync(`mqtt://127.0.0.1:${b.port}`, { clientId: 'greenhouse-node', username: 'node1', password: 'pw1', reconnectPeriod: 0 });
    await again.endAsync();
  });

  it('refuses client ids longer than 128 characters, and logs at most a prefix', async () => {
    const { b, rejected } = await broker();
    await expect(mqtt.connectAsync(`mqtt://127.0.0.1:${b.port}`, { clientId: 'x'.repeat(65_000), reconnectPeriod: 0, connectTimeout: 2000 })).rejects.toThrow();
    expect(rejected).toContain('client-id');
  });

  it('refuses "#" and "$SYS/#" to anonymous clients, allows a sensor subtree', async () => {
    const { b, rejected } = await broker();
    const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${b.port}`, { reconnectPeriod: 0 });
    cleanups.push(() => c.endAsync());
    expect(await granted(c, ['#', '$SYS/#', '+/x', 'sensors/a/#'])).toEqual([128, 128, 128, 0]);
    expect(rejected.filter((r) => r === 'subscribe-wildcard')).toHaveLength(3);
  });

  it('bounds the subscriptions of one connection', async () => {
    const { b, rejected } = await broker({ maxSubscriptions: 10, maxPacketBytes: 1_000_000 });
    const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${b.port}`, { reconnectPeriod: 0 });
    cleanups.push(() => c.endAsync());
    const t0 = Date.now();
    const qos = await granted(c, Array.from({ length: 7000 }, (_, i) => `sensors/s${i}`));
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(qos.filter((q) => q === 0)).toHaveLength(10);
    expect(rejected).toContain('too-many-subscriptions');
  });

  it('caps retained messages in count: the rest pass on but are not kept', async () => {
    const { b, got, rejected } = await broker({ maxRetained: 3 });
    const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${b.port}`, { reconnectPeriod: 0 });
    for (let i = 0; i < 6; i++) await c.publishAsync(`sensors/r${i}`, String(i), { qos: 1, retain: true });
    await c.endAsync();
    expect(got).toHaveLength(6);
    expect(rejected.filter((r) => r === 'retained-cap')).toHaveLength(3);
    const reader = await mqtt.connectAsync(`mqtt://127.0.0.1:${b.port}`, { reconnectPeriod: 0 });
    cleanups.push(() => reader.endAsync());
    const seen: string[] = [];
    reader.on('message', (t) => seen.push(t));
    await reader.subscribeAsync('sensors/#');
    await new Promise((r) => setTimeout(r, 300));
    expect(seen.sort()).toEqual(['sensors/r0', 'sensors/r1', 'sensors/r2']);
  });

  it('refuses an MQTT 5 CONNECT with a counter, never silently', async () => {
    const { b, rejected } = await broker();
    await expect(mqtt.connectAsync(`mqtt://127.0.0.1:${b.port}`, { protocolVersion: 5, reconnectPeriod: 0, connectTimeout: 2000 })).rejects.toThrow();
    await waitFor('the refusal counted', () => rejected.includes('protocol-version'));
  });

  it('ingests a QoS 2 message once, whatever its DUP retransmissions', async () => {
    const { b, got } = await broker();
    const s = await raw(b.port);
    s.write(CONNECT('q2'));
    const publish = (dup: boolean) => gen({ cmd: 'publish', topic: 'sensors/q2', payload: Buffer.from('7'), qos: 2, messageId: 42, dup, retain: false });
    s.write(publish(false));
    s.write(publish(true));
    s.write(publish(true));
    await waitFor('the PUBRECs', () => Buffer.concat(s.data).filter((x) => x === 0x50).length >= 3);
    await new Promise((r) => setTimeout(r, 100));
    expect(got).toEqual(['sensors/q2=7']);
  });

  it('dead-letters a PUBLISH whose topic MQTT forbids, and closes that connection as MQTT requires', async () => {
    const { b, got, rejected, refused } = await broker();
    const s = await raw(b.port);
    s.write(CONNECT('wild'));
    await waitFor('CONNACK', () => s.data.length > 0);
    s.write(gen({ cmd: 'publish', topic: 'sensors/a/#', payload: Buffer.from('1'), qos: 1, messageId: 1, retain: false, dup: false }));
    await s.gone;
    expect(refused).toEqual(['sensors/a/#']);
    expect(rejected).toContain('bad-topic');
    await sensorStillWorks(b, got);
  });

  it('never forwards what the session\'s current user may not read', async () => {
    const { b } = await broker({ users: USERS });
    const reader = await mqtt.connectAsync(`mqtt://127.0.0.1:${b.port}`, { username: 'node1', password: 'pw1', reconnectPeriod: 0 });
    cleanups.push(() => reader.endAsync());
    const seen: string[] = [];
    reader.on('message', (t) => seen.push(t));
    expect((await reader.subscribeAsync('sensors/node1/#'))[0]!.qos).toBe(0);
    const w = await mqtt.connectAsync(`mqtt://127.0.0.1:${b.port}`, { username: 'node1', password: 'pw1', reconnectPeriod: 0 });
    await w.publishAsync('sensors/node1/t', '1', { qos: 1 });
    await w.endAsync();
    await waitFor('delivery inside the ACL', () => seen.length === 1);
  });

  // Found by an independent review of the first version of this hardening.
  describe('review regressions', () => {
    it('a socket that never authenticated cannot write dead letters with forbidden topics', async () => {
      const { b, refused } = await broker({ users: USERS });
      const s = await raw(b.port);
      const bad = gen({ cmd: 'publish', topic: 'sensors/node2/+', payload: Buffer.from('1'), qos: 0, dup: false, retain: false });
      s.write(Buffer.concat(Array.from({ length: 2000 }, () => bad)));
      await s.gone;
      expect(refused).toEqual([]);
    });

    it('an authenticated client gets one dead letter for a forbidden topic, and only inside its ACL', async () => {
      const { b, refused } = await broker({ users: USERS });
      const s = await raw(b.port);
      s.write(CONNECT('n1', { username: 'node1', password: Buffer.from('pw1') }));
      await waitFor('CONNACK', () => s.data.length > 0);
      const pub = (topic: string) => gen({ cmd: 'publish', topic, payload: Buffer.from('1'), qos: 0, dup: false, retain: false });
      s.write(Buffer.concat([pub('sensors/node2/+'), pub('sensors/node1/#'), pub('sensors/node1/+')]));
      await s.gone;
      expect(refused).toEqual(['sensors/node1/#']);
    });

    it('a PUBREL split across TCP reads still releases its id: the next QoS 2 message with it arrives', async () => {
      const { b, got } = await broker();
      const s = await raw(b.port);
      s.write(CONNECT('q2split'));
      const pub = (v: string) => gen({ cmd: 'publish', topic: 'sensors/q2s', payload: Buffer.from(v), qos: 2, messageId: 7, dup: false, retain: false });
      s.write(pub('1'));
      await waitFor('PUBREC', () => Buffer.concat(s.data).includes(0x50));
      const rel = gen({ cmd: 'pubrel', messageId: 7 });
      s.write(rel.subarray(0, 2));
      await new Promise((r) => setTimeout(r, 50));
      s.write(rel.subarray(2));
      await waitFor('PUBCOMP', () => Buffer.concat(s.data).includes(0x70));
      s.write(pub('2'));
      await waitFor('the second message', () => got.length === 2);
      expect(got).toEqual(['sensors/q2s=1', 'sensors/q2s=2']);
    });

    it('whole packets before an oversized one in the same read are still taken', async () => {
      const { b, got, rejected } = await broker({ maxPacketBytes: 65_536 });
      const s = await raw(b.port);
      s.write(CONNECT('prefix'));
      await waitFor('CONNACK', () => s.data.length > 0);
      s.write(Buffer.concat([gen({ cmd: 'publish', topic: 'sensors/pre', payload: Buffer.from('21.5'), qos: 0, dup: false, retain: false }), Buffer.from([0x30, 0x80, 0xc2, 0xd7, 0x2f])]));
      await s.gone;
      expect(got).toEqual(['sensors/pre=21.5']);
      expect(rejected).toContain('packet-too-large');
    });

    it('failed logins of one user do not lock another user out at the same address', async () => {
      const { b, rejected } = await broker({ users: USERS });
      const login = (username: string, password: string) => mqtt.connectAsync(`mqtt://127.0.0.1:${b.port}`, { username, password, reconnectPeriod: 0 }).then((c) => c.endAsync().then(() => 'ok'), (e: Error) => e.message);
      expect(await login('node1', 'wrong')).toMatch(/Bad username or password/);
      expect(await login('node1', 'wrong')).toMatch(/Not authorized/);
      expect(await login('node2', 'pw2')).toBe('ok');
      expect(rejected).toEqual(['auth', 'auth-throttled']);
    });

    it('TLS: sockets idling in the handshake are capped and timed out; a real sensor still connects', async () => {
      const pki = makePki();
      const { b, got, rejected } = await broker({ plaintext: false, tls: { port: 0, cert: pki.serverCert, key: pki.serverKey, requireClientCert: false }, connectTimeoutMs: 1000, maxPendingConnections: 10, maxConnections: 20 });
      const idle = await Promise.all(Array.from({ length: 40 }, () => raw(b.tlsPort!)));
      const c = await mqtt.connectAsync(`mqtts://127.0.0.1:${b.tlsPort}`, { ca: readFileSync(pki.ca), reconnectPeriod: 0, connectTimeout: 3000 });
      await c.publishAsync('sensors/tls/t', '1', { qos: 1 });
      await c.endAsync();
      expect(got).toContain('sensors/tls/t=1');
      expect(rejected).toContain('pending-cap');
      await Promise.all(idle.map((s) => s.gone));
    });

    it('a client id is protected while its owner is connected; once it has left, the id is free', async () => {
      const { b } = await broker({ users: USERS });
      const owner = await mqtt.connectAsync(`mqtt://127.0.0.1:${b.port}`, { clientId: 'shared-id', username: 'node1', password: 'pw1', reconnectPeriod: 0 });
      await expect(mqtt.connectAsync(`mqtt://127.0.0.1:${b.port}`, { clientId: 'shared-id', username: 'node2', password: 'pw2', reconnectPeriod: 0 })).rejects.toThrow(/Identifier rejected/i);
      await owner.endAsync();
      const next = await mqtt.connectAsync(`mqtt://127.0.0.1:${b.port}`, { clientId: 'shared-id', username: 'node2', password: 'pw2', reconnectPeriod: 0 });
      await next.endAsync();
    });
  });
});
