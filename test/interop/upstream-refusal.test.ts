// A fleet broker (Debian's Mosquitto, MQTT 5) whose ACL denies this device one topic answers
// those publishes with PUBACK 0x87. They must become dead letters and leave the in-flight set:
// before, maxInflight of them stopped the uplink for good, anomalies included, while health
// said online.
import { afterEach, describe, expect, it } from 'vitest';
import { createAgent } from '../../src/agent/agent.js';
import type { Agent } from '../../src/agent/agent-types.js';
import { silentLogger } from '../../src/ops/logger.js';
import { baseYaml, testConfig } from '../helpers/agent-config.js';
import { startMosquitto, subscribe } from '../helpers/mosquitto.js';
import { connectPublisher } from '../helpers/publisher.js';
import { waitFor } from '../helpers/wait.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
});

describe('the fleet broker refuses a topic (MQTT 5 PUBACK 0x87)', () => {
  it('refused messages become dead letters; the rest keep flowing; nothing wedges', async () => {
    const fleet = await startMosquitto({ acl: ['topic readwrite #', 'topic deny outpost/test-01/summary/secret/#'] });
    cleanups.push(() => fleet.stop());
    const sub = subscribe(fleet.port, 'outpost/test-01/#', 'acl-watch');
    cleanups.push(() => sub.stop());
    const config = testConfig(
      baseYaml({ fleetUrl: fleet.url, windowSize: '100ms', detectors: '[]' }).replace('uplink: { url:', 'uplink: { protocol: "5", maxInflight: 2, maxRate: 0, url:'),
    );
    const agent: Agent = createAgent({ config, log: silentLogger() });
    cleanups.push(() => agent.stop());
    await agent.start();
    const pub = await connectPublisher(agent.brokerPort!);
    cleanups.push(() => pub.endAsync());
    const t0 = Date.now() - 10_000;
    // Six denied windows (three times maxInflight), then allowed ones.
    for (let i = 0; i < 6; i++) await pub.publishAsync('sensors/secret/t', JSON.stringify({ value: i, ts: t0 + i * 100 }), { qos: 1 });
    for (let i = 0; i < 6; i++) await pub.publishAsync('sensors/ok/t', JSON.stringify({ value: i, ts: t0 + i * 100 }), { qos: 1 });
    await pub.publishAsync('sensors/secret/t', JSON.stringify({ value: 0, ts: t0 + 5_000 }), { qos: 1 });
    await pub.publishAsync('sensors/ok/t', JSON.stringify({ value: 0, ts: t0 + 5_000 }), { qos: 1 });
    await waitFor('the allowed summaries at the fleet broker', () => sub.messages().filter((m) => m.topic.includes('/summary/ok/')).length >= 6, 20_000);
    await waitFor('the refused ones as dead letters', async () => ((await agent.health()).deadLetters.byReason['upstream-refused'] ?? 0) >= 6, 20_000);
    // Delivered and refused rows alike leave the outbox (deletes are batched every 100 ms).
    await waitFor('an empty backlog', async () => (await agent.health()).backlog.rows === 0, 10_000);
    const h = await agent.health();
    expect(h.uplink.state).toBe('online');
    expect(h.uplink.inflight).toBe(0);
    expect(sub.messages().some((m) => m.topic.includes('/secret/'))).toBe(false);
  });
});
