// The regressions of the issue "one bad packet must never stop Outpost", each against a real
// agent process with the shipped broker defaults: every payload dead-lettered with its reason,
// the agent alive and healthy, its memory back near idle, the store writable, and nothing
// non-finite upstream.
import { describe, expect, it } from 'vitest';
import { connect as tcpConnect } from 'node:net';
import mqtt from 'mqtt';
import mqttPacket from 'mqtt-packet';
import { agentProcessPerFile } from '../fuzz/agent-process.js';
import { waitFor } from '../helpers/wait.js';

const suite = agentProcessPerFile();

interface Status {
  ingest: { readings: number };
  deadLetters: { total: number; byReason: Record<string, number> };
  store: { writable: boolean; problem: string | null; shed: { deadLetters: number } };
}
const status = async (): Promise<Status> => (await (await fetch(`http://127.0.0.1:${suite.agent.httpPort}/status`)).json()) as Status;

async function publish(topic: string, payloads: Array<string | Buffer>): Promise<void> {
  const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${suite.agent.brokerPort}`, { reconnectPeriod: 0 });
  try {
    for (const p of payloads) await c.publishAsync(topic, p, { qos: 1 });
  } finally {
    await c.endAsync();
  }
}

/** Dead letters of `reason` grow by `n` after `act`. */
async function deadLettered(reason: string, n: number, act: () => Promise<void>): Promise<void> {
  const before = (await status()).deadLetters.byReason[reason] ?? 0;
  await act();
  await waitFor(`${n} more dead letter(s) of reason ${reason}`, async () => ((await status()).deadLetters.byReason[reason] ?? 0) >= before + n);
  expect((await status()).deadLetters.byReason[reason]).toBe(before + n);
}

describe('hostile input against a real agent', () => {
  it('timestamps past Date\'s range or far in the future are dead-lettered, never a crash (ts, SenML bt and t)', async () => {
    await deadLettered('bad-timestamp', 5, () =>
      publish('sensors/a', ['{"value":1,"ts":1e16}', '{"value":1,"ts":8640000000000001}', JSON.stringify([{ bt: 1e16, n: 'x', v: 1 }]), JSON.stringify([{ n: 'x', v: 1, t: 1e300 }]), JSON.stringify([{ n: 'x', v: 1, t: -1e20 }])]),
    );
    await suite.agent.check('bad timestamps');
  });

  it('5,000-deep nesting is refused before anything walks it', async () => {
    await deadLettered('bad-json', 1, () => publish('sensors/a', [`{"value":${'['.repeat(5000)}1${']'.repeat(5000)}}`]));
    await suite.agent.check('deep nesting');
  });

  it('20 SenML packs of 5,332 empty records: one dead letter each, memory back near idle, store writable', async () => {
    const pack = JSON.stringify(Array.from({ length: 5332 }, () => ({})));
    expect(pack.length).toBeLessThanOrEqual(16_384);
    await deadLettered('bad-senml', 20, () => publish('sensors/s', Array.from({ length: 20 }, () => pack)));
    const s = await status();
    expect(s.store.writable).toBe(true);
    expect(s.store.problem).toBeNull();
    await suite.agent.check('empty SenML packs');
    expect(suite.agent.rssMb() - suite.idleMb).toBeLessThan(20);
  });

  it('v + bv that overflows is refused: nothing non-finite reaches a summary', async () => {
    await deadLettered('non-finite', 1, () => publish('sensors/inf', ['[{"bv":1e999,"v":1}]']));
    await deadLettered('value-out-of-range', 3, () => publish('sensors/inf', ['1e308', '-1e308', '{"value":1e308}']));
    await publish('sensors/inf', ['1', '2']);
    await waitFor('the window with the good readings upstream', () => suite.agent.fleet.received.some((r) => r.topic === 'outpost/fz/summary/inf'), 10_000);
    for (const r of suite.agent.fleet.received.filter((m) => /\/(summary|anomaly)\//.test(m.topic))) expect(r.payload).not.toContain('null');
  });

  it('a QoS 2 message with two DUP retransmissions counts one reading', async () => {
    const before = (await status()).ingest.readings;
    await new Promise<void>((resolve, reject) => {
      const s = tcpConnect(suite.agent.brokerPort, '127.0.0.1');
      const gen = (p: object) => mqttPacket.generate(p as mqttPacket.Packet);
      s.on('error', reject);
      let pubrecs = 0;
      s.on('data', (d) => {
        pubrecs += [...d].filter((x) => x === 0x50).length;
        if (pubrecs >= 3) s.end(gen({ cmd: 'disconnect' }), () => resolve());
      });
      s.once('connect', () => {
        s.write(gen({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, keepalive: 30, clientId: 'q2-dup' }));
        for (const dup of [false, true, true]) s.write(gen({ cmd: 'publish', topic: 'sensors/q2', payload: Buffer.from('7'), qos: 2, messageId: 5, dup, retain: false }));
      });
    });
    await new Promise((r) => setTimeout(r, 200));
    expect((await status()).ingest.readings - before).toBe(1);
  });

  it('after all of it: alive, healthy, carrying readings', async () => {
    await suite.agent.check('the hostile inputs');
    const s = await status();
    expect(s.store.writable).toBe(true);
  });
});
