// The byte budget merges old summaries to make room, but never a row that may have reached the
// fleet broker without its PUBACK reaching us: a consumer would then see one window under two
// ids (readings counted twice) or drop the merged row as a duplicate of the one it has
// (readings vanish). The uplink marks, durably and before sending, how far it has handed rows
// over; the mark survives a reconnect and a restart. Real SQLite outbox, real forwarder, an
// MQTT 5 broker that never answers.
import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { openStore } from '../../src/store/open-store.js';
import { openOutbox, HANDED_STRIDE, type Outbox } from '../../src/store/outbox.js';
import { mergePass } from '../../src/store/outbox-compaction.js';
import { summaryMerger } from '../../src/wire/merge-stored.js';
import { createForwarder } from '../../src/outputs/uplink/forwarder.js';
import { renderBody, wrapBody } from '../../src/wire/render.js';
import { silentLogger } from '../../src/ops/logger.js';
import type { Database } from '../../src/store/sqlite.js';
import { baseYaml, testConfig, tempDir } from '../helpers/agent-config.js';
import { startFakeMqtt5Broker } from '../helpers/fake-mqtt5-broker.js';
import { waitFor } from '../helpers/wait.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

const T0 = Date.parse('2026-11-29T00:00:00Z');
const ROWS = HANDED_STRIDE + 2_000;

async function backlog(db: Database, outbox: Outbox): Promise<number> {
  const first = outbox.reserve(ROWS);
  const rows = Array.from({ length: ROWS }, (_, i) => {
    const seq = first + i;
    const body = renderBody('m-01', { kind: 'summary', sensor: 's', start: T0 + i * 1000, end: T0 + (i + 1) * 1000, count: 1, values: { count: 1, mean: i }, late: 0, partial: false });
    return { seq, kind: 'summary' as const, sensor: 's', payload: wrapBody('m-01', seq, body), createdAt: T0, sketch: null };
  });
  await db.transaction((tx) => outbox.appendTx(tx, rows, first + ROWS));
  outbox.settle(true);
  return first;
}

const payloads = async (db: Database) => new Map((await db.all<{ seq: number; payload: string }>('SELECT seq, payload FROM outbox')).map((r) => [r.seq, r.payload]));

describe('merging and the uplink', () => {
  it('never merges a row handed to the uplink without its PUBACK, across a reconnect and a restart', async () => {
    const path = join(tempDir(), 'outpost.db');
    let db = await openStore(path);
    let outbox = await openOutbox(db);
    const first = await backlog(db, outbox);
    const before = await payloads(db);

    const broker = await startFakeMqtt5Broker({ delayMs: 1e9, decide: () => 0 }); // never answers
    cleanups.push(() => broker.close());
    const cfg = testConfig(baseYaml({ fleetUrl: `mqtt://127.0.0.1:${broker.port}` }).replace('uplink: { url:', 'uplink: { protocol: "5", maxInflight: 5, maxRate: 0, url:'));
    const f = createForwarder({ uplink: cfg.uplink, outbox, log: silentLogger(), clock: Date.now });
    f.start();
    const sent = () => broker.log.filter((l) => l.payload.includes('"window"'));
    await waitFor('five rows in flight, unanswered', () => sent().length >= 5);
    const handed = sent().map((l) => (JSON.parse(l.payload) as { id: string }).id);
    expect(handed[0]).toBe(`m-01:${first}`);
    await f.stop(100); // the connection goes, nothing acknowledged; and the stop is not held up by the silent broker
    broker.close();

    // Compaction after the disconnect: the five sent rows (and all the uplink had read) stay as they are.
    const merge = (claimed: () => number) => mergePass(db, outbox, summaryMerger('m-01'), claimed, 0, ROWS);
    const one = await merge(() => f.claimed('summary'));
    expect(one.merged).toBeGreaterThan(0); // rows past the mark still merge
    let now = await payloads(db);
    for (let seq = first; seq < first + 5; seq++) expect(now.get(seq), `row ${seq} was sent and must stay as sent`).toBe(before.get(seq));

    // A restart: the mark comes back from the database.
    await db.close();
    db = await openStore(path);
    outbox = await openOutbox(db);
    expect(outbox.handedUpTo('summary')).toBeGreaterThanOrEqual(first + 4);
    await merge(() => outbox.handedUpTo('summary'));
    now = await payloads(db);
    for (let seq = first; seq <= outbox.handedUpTo('summary') && seq < first + ROWS; seq++) expect(now.get(seq)).toBe(before.get(seq));
    await db.close();
  });
});
