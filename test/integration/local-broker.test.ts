// The embedded broker on a real port: auth, per-user ACLs, and a clear error for a busy port.
import { afterEach, describe, expect, it } from 'vitest';
import { createServer } from 'node:net';
import mqtt from 'mqtt';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../src/broker/embedded-broker.js';
import { silentLogger } from '../../src/ops/logger.js';
import { waitFor } from '../helpers/wait.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
});

async function broker(): Promise<{ b: EmbeddedBroker; got: string[]; rejected: string[] }> {
  const rejected: string[] = [];
  const b = await startEmbeddedBroker({
    host: '127.0.0.1',
    port: 0,
    log: silentLogger(),
    users: [{ username: 'node1', password: 'pw1', publish: ['sensors/node1/#'], subscribe: [] }],
    onRejected: (r) => rejected.push(r),
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
});
