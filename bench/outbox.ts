// Store-and-forward figures:
// - append: messages a second into the outbox through the group commit's path (seqs reserved,
//   multi-row INSERTs, the counter, one transaction per 2,000 messages as the group commit
//   cuts them under load, synchronous=FULL);
// - drain: a backlog delivered to a local Mosquitto at QoS 1 (PUBACK, then delete) by the real
//   forwarder, unlimited rate;
// - during a 1,000,000-message drain, an anomaly committed every 500 ms must reach a subscriber
//   within 1 s (it overtakes the backlog), and RSS must not grow with the backlog.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { openStore } from '../src/store/open-store.js';
import { openOutbox, type Outbox, type OutboxMessage } from '../src/store/outbox.js';
import { createForwarder } from '../src/outputs/uplink/forwarder.js';
import { parseConfigText } from '../src/config/load.js';
import { silentLogger } from '../src/ops/logger.js';
import type { Database } from '../src/store/sqlite.js';
import { startMosquitto } from '../test/helpers/mosquitto.js';

const PAYLOAD = (seq: number, sensor: string) =>
  `{"v":1,"id":"bench:${seq}","device":"bench","sensor":"${sensor}","window":{"start":"2026-11-24T10:00:00.000Z","end":"2026-11-24T10:01:00.000Z"},"count":60,"min":20.1,"max":22.3,"mean":21.2,"stddev":0.4,"first":20.5,"last":21.9,"late":0}`;

const rssMB = () => Math.round((Number(/VmRSS:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1]) / 1024) * 10) / 10;

async function fill(db: Database, outbox: Outbox, count: number, batch = 2000): Promise<number> {
  const t0 = process.hrtime.bigint();
  for (let done = 0; done < count; done += batch) {
    const n = Math.min(batch, count - done);
    const first = outbox.reserve(n);
    const rows: OutboxMessage[] = [];
    for (let i = 0; i < n; i++) rows.push({ seq: first + i, kind: 'summary', sensor: `s/${(first + i) % 1000}`, payload: PAYLOAD(first + i, `s/${(first + i) % 1000}`), createdAt: Date.now(), sketch: null });
    await db.transaction((tx) => outbox.appendTx(tx, rows, first + n));
    outbox.settle(true);
  }
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

export async function benchOutboxAppend(count = 1_000_000): Promise<{ count: number; perS: number }> {
  const db = await openStore(join(mkdtempSync(join(tmpdir(), 'outpost-outbox-')), 'o.db'));
  const outbox = await openOutbox(db);
  const s = await fill(db, outbox, count);
  await db.close();
  return { count, perS: Math.round(count / s) };
}

export interface DrainResult {
  backlog: number;
  perS: number;
  anomalies: number;
  anomalyLatencyMs: { median: number; max: number };
  rssMB: { atStart: number; max: number; end: number };
}

export async function benchDrain(backlog: number, withAnomalies: boolean, maxInflight = 100): Promise<DrainResult> {
  const fleet = await startMosquitto();
  const dir = mkdtempSync(join(tmpdir(), 'outpost-drain-'));
  const cfg = parseConfigText(`
device: { id: bench }
sources: [ { type: mqtt } ]
pipelines: [ { match: ["**"], window: { type: tumbling, size: 1m } } ]
uplink: { url: "${fleet.url}", maxRate: 0, maxInflight: ${maxInflight} }
`, { dir });
  if (!cfg.ok) throw new Error(JSON.stringify(cfg.problems));
  const db = await openStore(join(dir, 'd.db'));
  const outbox = await openOutbox(db);
  await fill(db, outbox, backlog);

  // The subscriber that stands for the dashboards, timing the anomalies.
  const sub = await mqtt.connectAsync(fleet.url, { reconnectPeriod: 0 });
  const latencies: number[] = [];
  sub.on('message', (_t, payload) => {
    const m = JSON.parse(payload.toString()) as { sentAt: number };
    latencies.push(Date.now() - m.sentAt);
  });
  await sub.subscribeAsync('outpost/bench/anomaly/#', { qos: 1 });

  let delivered = 0;
  const fwd = createForwarder({ uplink: cfg.config.uplink, outbox, log: silentLogger(), clock: Date.now, onDelivered: (n) => (delivered += n) });
  const atStart = rssMB();
  let rssMax = atStart;
  const sampler = setInterval(() => (rssMax = Math.max(rssMax, rssMB())), 250);
  // Live anomalies, committed as the group commit would, every 500 ms during the drain.
  let anomalies = 0;
  const live = withAnomalies
    ? setInterval(() => {
        const seq = outbox.reserve(1);
        const row: OutboxMessage = { seq, kind: 'anomaly', sensor: 'live/boiler', payload: JSON.stringify({ v: 1, id: `bench:${seq}`, sentAt: Date.now() }), createdAt: Date.now(), sketch: null };
        void db.transaction((tx) => outbox.appendTx(tx, [row], seq + 1)).then(() => {
          outbox.settle(true);
          anomalies++;
          fwd.wake(1);
        });
      }, 500)
    : undefined;
  const t0 = Date.now();
  fwd.start();
  while (delivered < backlog + anomalies) await new Promise((r) => setTimeout(r, 50));
  const seconds = (Date.now() - t0) / 1000;
  clearInterval(live);
  clearInterval(sampler);
  await new Promise((r) => setTimeout(r, 500));
  await fwd.stop(1000);
  await sub.endAsync();
  await db.close();
  await fleet.stop();
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    backlog,
    perS: Math.round(backlog / seconds),
    anomalies: latencies.length,
    anomalyLatencyMs: { median: sorted[Math.floor(sorted.length / 2)] ?? 0, max: sorted[sorted.length - 1] ?? 0 },
    rssMB: { atStart, max: rssMax, end: rssMB() },
  };
}
