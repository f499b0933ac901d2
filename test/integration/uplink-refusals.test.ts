// The forwarder against an MQTT 5 broker that refuses some publishes (PUBACK reason codes),
// with an outbox whose reads are slow (a busy SD card): a row refused for now is sent again
// even when the refusal arrives during a read; a row refused every time becomes a dead letter
// after a bounded number of tries, its backoff growing, and never holds the rest back for good.
import { afterEach, describe, expect, it } from 'vitest';
import { createForwarder } from '../../src/outputs/uplink/forwarder.js';
import type { Forwarder } from '../../src/outputs/uplink/uplink-types.js';
import { silentLogger } from '../../src/ops/logger.js';
import type { Outbox, OutboxRow } from '../../src/store/outbox.js';
import { baseYaml, testConfig } from '../helpers/agent-config.js';
import { startFakeMqtt5Broker, type FakeBroker } from '../helpers/fake-mqtt5-broker.js';
import { waitFor } from '../helpers/wait.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

function memoryOutbox(n: number, readDelayMs: number) {
  const rows = new Map<number, OutboxRow>();
  for (let s = 1; s <= n; s++) rows.set(s, { seq: s, kind: 'summary', sensor: 's', payload: `{"seq":${s}}`, bytes: 10 });
  const outbox = {
    nextSeq: () => n + 1,
    async readAfter(kind: string, after: number, limit: number) {
      await new Promise((r) => setTimeout(r, readDelayMs));
      return kind === 'summary' ? [...rows.values()].filter((r) => r.seq > after).slice(0, limit) : [];
    },
    async remove(seqs: readonly number[]) {
      for (const s of seqs) rows.delete(s);
      return seqs.length;
    },
    async stats() {
      return { rows: rows.size, bytes: 0, oldestCreatedAt: null };
    },
    handedUpTo: () => 0,
    async markHanded() {},
  } as unknown as Outbox;
  return { rows, outbox };
}

function forwarder(broker: FakeBroker, outbox: Outbox, maxInflight: number, refusalBackoffMs: number, onRefused?: (row: OutboxRow) => void): Forwarder {
  const cfg = testConfig(baseYaml({ fleetUrl: `mqtt://127.0.0.1:${broker.port}` }).replace('uplink: { url:', `uplink: { protocol: "5", maxInflight: ${maxInflight}, maxRate: 0, url:`));
  const f = createForwarder({ uplink: cfg.uplink, outbox, log: silentLogger(), clock: Date.now, refusalBackoffMs, onRefused });
  f.start();
  cleanups.push(() => f.stop(200));
  return f;
}

describe('uplink refusals (MQTT 5 PUBACK reason codes)', () => {
  it('a row refused for now while a read is in flight is still sent again', async () => {
    const broker = await startFakeMqtt5Broker({ delayMs: 30, decide: (p, seen) => (p === '{"seq":255}' && seen === 1 ? 0x97 : 0) });
    cleanups.push(() => broker.close());
    const { rows, outbox } = memoryOutbox(600, 100);
    forwarder(broker, outbox, 4, 50);
    await waitFor('every row delivered', () => rows.size === 0, 25_000);
    expect(broker.log.filter((l) => l.payload === '{"seq":255}').map((l) => l.rc)).toEqual([0x97, 0]);
  });

  it('a row refused every time: its backoff grows, then it is a dead letter and the rest flows', async () => {
    const broker = await startFakeMqtt5Broker({ delayMs: 2, decide: (p) => (p === '{"seq":10}' ? 0x97 : 0) });
    cleanups.push(() => broker.close());
    const { rows, outbox } = memoryOutbox(300, 0);
    const refused: number[] = [];
    const f = forwarder(broker, outbox, 20, 10, (row) => void refused.push(row.seq));
    await waitFor('every row delivered or refused', () => rows.size === 0, 20_000);
    expect(refused).toEqual([10]);
    expect(broker.log.filter((l) => l.payload === '{"seq":10}')).toHaveLength(8);
    expect(f.status().delivered).toBe(299);
  });

  it('stays within the broker\'s Receive Maximum', async () => {
    let open = 0;
    let most = 0;
    const broker = await startFakeMqtt5Broker({
      delayMs: 20,
      receiveMaximum: 5,
      decide: () => {
        most = Math.max(most, ++open);
        setTimeout(() => open--, 20);
        return 0;
      },
    });
    cleanups.push(() => broker.close());
    const { rows, outbox } = memoryOutbox(100, 0);
    forwarder(broker, outbox, 100, 10);
    await waitFor('every row delivered', () => rows.size === 0, 20_000);
    expect(most).toBeLessThanOrEqual(5);
  });
});
