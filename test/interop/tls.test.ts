// Mutual TLS to a real Mosquitto (as AWS IoT Core and most fleet brokers require): the agent
// presents a client certificate, summaries arrive; a certificate from another CA is refused
// and health says why in words. Also: the uplink speaks MQTT 5 to a broker that does.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmodSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createAgent } from '../../src/agent/agent.js';
import type { Agent } from '../../src/agent/agent-types.js';
import { silentLogger } from '../../src/ops/logger.js';
import { testConfig, tempDir } from '../helpers/agent-config.js';
import { makePki, type TestPki } from '../helpers/certs.js';
import { startMosquitto, subscribe, type Mosquitto } from '../helpers/mosquitto.js';
import { waitFor } from '../helpers/wait.js';

let pki: TestPki;
let fleet: Mosquitto;
const cleanups: Array<() => Promise<unknown>> = [];
beforeAll(async () => {
  pki = makePki();
  // mosquitto drops root for its own user: let it read the test PKI
  chmodSync(pki.dir, 0o755);
  for (const f of readdirSync(pki.dir)) chmodSync(join(pki.dir, f), 0o644);
  fleet = await startMosquitto({ tls: { ca: pki.ca, cert: pki.serverCert, key: pki.serverKey, requireCertificate: true } });
  cleanups.push(() => fleet.stop());
});
afterAll(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
});

async function agentWith(device: string, url: string, tls: string): Promise<Agent> {
  const agent = createAgent({
    config: testConfig(`
device: { id: ${device} }
broker: { enabled: false }
sources: [ { type: simulated, sensors: [ { id: sim/a, rateHz: 20 } ] } ]
pipelines: [ { match: ["**"], window: { type: tumbling, size: 500ms } } ]
uplink: { url: "${url}", ${tls} reconnect: { min: 200ms, max: 1s } }
storage: { path: ./outpost.db }
http: { enabled: false }
`, tempDir()),
    log: silentLogger(),
  });
  await agent.start();
  cleanups.push(() => agent.stop());
  return agent;
}

describe('uplink over mutual TLS to Mosquitto', () => {
  it('delivers with a client certificate from the broker\'s CA, over MQTT 5', async () => {
    const upstream = subscribe(fleet.port, 'outpost/tls-01/#', 'tls-sub-1');
    cleanups.push(() => upstream.stop());
    const agent = await agentWith('tls-01', `mqtts://127.0.0.1:${fleet.tlsPort}`, `tls: { ca: "${pki.ca}", cert: "${pki.clientCert}", key: "${pki.clientKey}" },`);
    await waitFor('summaries over TLS', () => upstream.messages().length >= 3, 15_000);
    const h = await agent.health();
    expect(h.uplink).toMatchObject({ state: 'online', protocol: '5', lastError: null });
    expect(upstream.messages()[0]!.json).toMatchObject({ device: 'tls-01', sensor: 'sim/a' });
  });

  it('is refused with a certificate from another CA, and says so in health', async () => {
    const agent = await agentWith('tls-02', `mqtts://127.0.0.1:${fleet.tlsPort}`, `tls: { ca: "${pki.ca}", cert: "${pki.rogueCert}", key: "${pki.rogueKey}" },`);
    await waitFor('an error in health', async () => (await agent.health()).uplink.lastError !== null, 10_000);
    const h = await agent.health();
    expect(h.uplink.state).not.toBe('online');
    expect(h.uplink.lastError).toMatch(/^TLS: .*unknown ca \(the broker refused our client certificate/);
    await new Promise((r) => setTimeout(r, 1500));
    expect((await agent.health()).uplink.delivered).toBe(0);
  });

  it('refuses a broker certificate from a CA it was not given', async () => {
    const agent = await agentWith('tls-03', `mqtts://127.0.0.1:${fleet.tlsPort}`, `tls: { ca: "${pki.rogueCert}", cert: "${pki.clientCert}", key: "${pki.clientKey}" },`);
    await waitFor('an error in health', async () => (await agent.health()).uplink.lastError !== null, 10_000);
    expect((await agent.health()).uplink.lastError).toMatch(/^TLS: .*check uplink\.tls\.ca/);
  });
});
