// The embedded broker on a real port: auth (plain and scrypt-hashed passwords), per-user
// publish and subscribe ACLs, the connection cap, the per-client rate, the TLS listener with
// client certificates, a log line for every refusal that never holds a secret, and a clear
// error for a busy port.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createServer } from 'node:net';
import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import mqtt from 'mqtt';
import { startEmbeddedBroker, type EmbeddedBroker, type EmbeddedBrokerOptions } from '../../src/broker/embedded-broker.js';
import { hashPassword } from '../../src/ops/password-hash.js';
import { createLogger, silentLogger } from '../../src/ops/logger.js';
import { waitFor } from '../helpers/wait.js';
import { makePki, type TestPki } from '../helpers/certs.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
});

async function broker(extra: Partial<EmbeddedBrokerOptions> = {}): Promise<{ b: EmbeddedBroker; got: string[]; rejected: string[] }> {
  const rejected: string[] = [];
  const b = await startEmbeddedBroker({
    host: '127.0.0.1',
    port: 0,
    log: silentLogger(),
    users: [{ username: 'node1', password: 'pw1', publish: ['sensors/node1/#'], subscribe: [] }],
    onRejected: (r) => rejected.push(r),
    ...extra,
  });
  cleanups.push(() => b.close());
  const got: string[] = [];
  await b.subscribe('sensors/#', (topic, payload) => {
    got.push(`${topic}=${payload}`);
  });
  return { b, got, rejected };
}

describe('embedded broker', () => {
  it('accepts a known user publishing inside its ACL', async () => {
    const { b, got } = await broker();
    const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${b.port}`, { username: 'node1', password: 'pw1', reconnectPeriod: 0 });
    await c.publishAsync('sensors/node1/temp', '21', { qos: 1 });
    await c.endAsync();
    expect(got).toEqual(['sensors/node1/temp=21']);
  });

  it('refuses a bad password and an unknown user', async () => {
    const { b, rejected } = await broker();
    await expect(mqtt.connectAsync(`mqtt://127.0.0.1:${b.port}`, { username: 'node1', password: 'nope', reconnectPeriod: 0 })).rejects.toThrow(/Bad username or password/i);
    await expect(mqtt.connectAsync(`mqtt://127.0.0.1:${b.port}`, { reconnectPeriod: 0 })).rejects.toThrow(/Bad username or password/i);
    expect(rejected).toEqual(['auth', 'auth']);
  });

  it('refuses a publish outside the ACL and ingests nothing from it', async () => {
    const { b, got, rejected } = await broker();
    const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${b.port}`, { username: 'node1', password: 'pw1', reconnectPeriod: 0 });
    c.on('error', () => undefined);
    c.publish('sensors/node2/temp', '99', { qos: 1 });
    await waitFor('client disconnected', () => !c.connected);
    c.end(true);
    expect(got).toEqual([]);
    expect(rejected).toEqual(['publish-acl']);
  });

  it('says which setting to change when its port is taken', async () => {
    const squatter = createServer();
    await new Promise<void>((r) => squatter.listen(0, '127.0.0.1', () => r()));
    cleanups.push(() => new Promise((r) => squatter.close(r)));
    const port = (squatter.address() as { port: number }).port;
    await expect(startEmbeddedBroker({ host: '127.0.0.1', port, log: silentLogger() })).rejects.toThrow(
      `broker.port ${port} on 127.0.0.1 is already in use (another MQTT broker such as Mosquitto?): set broker.port to a free port, or set broker.enabled: false and give the mqtt source a url to use the broker that is there`,
    );
  });

  it('checks scrypt-hashed passwords, and never logs a password', async () => {
    const lines: string[] = [];
    const log = createLogger('info', new Writable({ write: (c, _e, cb) => (lines.push(String(c)), cb()) }) as unknown as Parameters<typeof createLogger>[1]);
    const hash = await hashPassword('s3cret-greenhouse');
    expect(hash).toMatch(/^\$scrypt\$N=16384,r=8,p=1\$/);
    const { b, got, rejected } = await broker({ log, users: [{ username: 'node1', password: hash, publish: ['sensors/#'], subscribe: [] }] });
    const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${b.port}`, { username: 'node1', password: 's3cret-greenhouse', reconnectPeriod: 0 });
    await c.publishAsync('sensors/node1/t', '1', { qos: 1 });
    await c.endAsync();
    await expect(mqtt.connectAsync(`mqtt://127.0.0.1:${b.port}`, { username: 'node1', password: 's3cret-greenhousf', reconnectPeriod: 0 })).rejects.toThrow(/Bad username or password/i);
    expect(got).toEqual(['sensors/node1/t=1']);
    expect(rejected).toEqual(['auth']);
    const text = lines.join('');
    expect(text).toMatch(/refused client with bad username or password/);
    expect(text).not.toMatch(/s3cret|greenhousf/);
    expect(text).not.toContain(hash);
  });

  it('refuses a subscription outside the ACL', async () => {
    const { b, rejected } = await broker({ users: [{ username: 'node1', password: 'pw1', publish: ['sensors/#'], subscribe: ['sensors/node1/#'] }] });
    const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${b.port}`, { username: 'node1', password: 'pw1', reconnectPeriod: 0 });
    cleanups.push(() => c.endAsync());
    const granted = await c.subscribeAsync('sensors/node1/+', { qos: 1 });
    expect(granted.map((g) => g.qos)).toEqual([1]);
    await expect(c.subscribeAsync('sensors/#', { qos: 1 })).rejects.toThrow(/Subscribe error/);
    expect(rejected).toEqual(['subscribe-acl']);
  });

  it('refuses clients past broker.maxConnections with a log line each', async () => {
    const { b, rejected } = await broker({ users: undefined, maxConnections: 2 });
    const a = await mqtt.connectAsync(`mqtt://127.0.0.1:${b.port}`, { reconnectPeriod: 0 });
    const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${b.port}`, { reconnectPeriod: 0 });
    cleanups.push(() => a.endAsync(), () => c.endAsync());
    await expect(mqtt.connectAsync(`mqtt://127.0.0.1:${b.port}`, { reconnectPeriod: 0 })).rejects.toThrow(/Server unavailable/i);
    expect(rejected).toEqual(['max-connections']);
  });

  it('slows a client down to broker.maxMessageRate and loses none of its messages', async () => {
    const { b, got, rejected } = await broker({ users: undefined, maxMessageRate: 100 });
    const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${b.port}`, { reconnectPeriod: 0 });
    cleanups.push(() => c.endAsync());
    const t0 = Date.now();
    await Promise.all(Array.from({ length: 250 }, (_, i) => c.publishAsync('sensors/fast', String(i), { qos: 1 })));
    const took = Date.now() - t0;
    // a second's worth at once, then 100 a second: 150 more take at least 1.5 s
    expect(took).toBeGreaterThanOrEqual(1400);
    expect(got).toHaveLength(250);
    expect(got[249]).toBe('sensors/fast=249');
    expect(rejected).toEqual(['rate-limited']); // logged once per client
  });

  describe('TLS listener', () => {
    let pki: TestPki;
    beforeAll(() => {
      pki = makePki();
    });
    const tlsBroker = (requireClientCert: boolean) =>
      broker({ users: undefined, plaintext: false, tls: { port: 0, cert: pki.serverCert, key: pki.serverKey, ca: pki.ca, requireClientCert } });

    it('accepts a client with a certificate from its CA, and no plain TCP', async () => {
      const { b, got } = await tlsBroker(true);
      const c = await mqtt.connectAsync(`mqtts://127.0.0.1:${b.tlsPort}`, { ca: readFileSync(pki.ca), cert: readFileSync(pki.clientCert), key: readFileSync(pki.clientKey), reconnectPeriod: 0 });
      await c.publishAsync('sensors/secure', '7', { qos: 1 });
      await c.endAsync();
      expect(got).toEqual(['sensors/secure=7']);
      expect(b.port).toBe(b.tlsPort);
    });

    it('refuses a certificate from another CA, and a client with none, with a log line', async () => {
      const { b, got, rejected } = await tlsBroker(true);
      /** Connects and says how it ended: 'connected', or the first error or close. */
      const attempt = (extra: object) =>
        new Promise<string>((resolve) => {
          const c = mqtt.connect(`mqtts://127.0.0.1:${b.tlsPort}`, { ca: readFileSync(pki.ca), reconnectPeriod: 0, connectTimeout: 3000, ...extra });
          c.on('connect', () => (c.end(true), resolve('connected')));
          c.on('error', (e) => (c.end(true), resolve(`error: ${e.message}`)));
          c.on('close', () => resolve('closed'));
        });
      expect(await attempt({ cert: readFileSync(pki.rogueCert), key: readFileSync(pki.rogueKey) })).not.toBe('connected');
      expect(await attempt({})).not.toBe('connected');
      await waitFor('both refusals logged', () => rejected.filter((r) => r === 'tls').length === 2);
      expect(got).toEqual([]);
    });
  });
});
