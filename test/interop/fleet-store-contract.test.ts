// One contract suite run against every fleet store: SQLite and a real PostgreSQL (a temporary
// cluster, test/helpers/postgres.ts). The same messages, accepted in any order, in batches of any
// size, with redeliveries, give the same read model (what the API answers), the same after a
// rebuild from the log, and the same after retention. And the two stores agree with each other.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { openFleetStore, type FleetStore } from '../../src/fleet/fleet-store.js';
import { readMessage } from '../../src/fleet/read-message.js';
import type { LogEntry } from '../../src/fleet/projection.js';
import { getDevice, listAlerts, listDeadLetters, listDevices, sensorSummaries } from '../../src/fleet/fleet-queries.js';
import { listCommands } from '../../src/fleet/command-queries.js';
import { tempDir } from '../helpers/agent-config.js';
import { startPostgres, type Postgres } from '../helpers/postgres.js';
import { healthMessage } from '../helpers/fleet-fixtures.js';

const T = Date.parse('2026-11-29T10:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();
const NOW = T + 3_600_000;

/** A device's hour: what real agents send, as the fleet reads it off the topics. */
function messages(): LogEntry[] {
  const out: LogEntry[] = [];
  const add = (topic: string, body: Record<string, unknown> | string, at = T) => {
    const r = readMessage(['outpost/+'], topic, typeof body === 'string' ? body : JSON.stringify(body), at);
    if (!('entry' in r)) throw new Error(`fixture ${topic}: ${JSON.stringify(r)}`);
    out.push(r.entry);
  };
  for (const d of ['d-1', 'd-2']) {
    const p = `outpost/${d}`;
    let seq = 100;
    const w = (i: number) => ({ start: iso(T + i * 60_000), end: iso(T + (i + 1) * 60_000) });
    for (let i = 0; i < 4; i++) add(`${p}/summary/a/t`, { v: 1, id: `${d}:${seq++}`, device: d, sensor: 'a/t', window: w(i), count: 10 + i, mean: 20 + i, late: 0 });
    // A partial, then the complete one of the same window; a replayed backfill of another.
    add(`${p}/summary/b/h`, { v: 1, id: `${d}:${seq++}`, device: d, sensor: 'b/h', window: w(0), count: 3, mean: 50, late: 0, partial: true });
    add(`${p}/summary/b/h`, { v: 1, id: `${d}:${seq++}`, device: d, sensor: 'b/h', window: w(0), count: 9, mean: 51, late: 0 });
    add(`${p}/summary/b/h`, { v: 1, id: `${d}:${seq++}`, device: d, sensor: 'b/h', window: w(0), count: 9, mean: 99, late: 0, replayed: true });
    seq += 2; // a gap of two
    add(`${p}/anomaly/a/t`, { v: 1, id: `${d}:${seq++}`, device: d, sensor: 'a/t', ts: iso(T + 30_000), value: 48, detector: 'threshold', severity: 'critical', score: 1, message: 'above 45', evidence: { max: 45 } });
    add(`${p}/event/stale/b/h`, { v: 1, id: `${d}:${seq++}`, device: d, kind: 'stale', ts: iso(T + 200_000), sensor: 'b/h', state: 'raised', silentForS: 181, limitS: 180, lastSeen: iso(T + 19_000) });
    add(`${p}/event/stale/b/h`, { v: 1, id: `${d}:${seq++}`, device: d, kind: 'stale', ts: iso(T + 300_000), sensor: 'b/h', state: 'cleared', silentForS: 281, limitS: 180, lastSeen: iso(T + 19_000) });
    add(`${p}/event/availability/z/lamp`, { v: 1, id: `${d}:${seq++}`, device: d, kind: 'availability', ts: iso(T + 100_000), subject: 'z/lamp', state: 'offline' });
    add(`${p}/event/fridge-warm`, { v: 1, id: `${d}:${seq++}`, device: d, kind: 'rule', ts: iso(T + 400_000), rule: 'fridge-warm', state: 'raised', severity: 'major', since: iso(T + 100_000), heldS: 300, values: { 'a/t': 9 } });
    add(`${p}/event/fridge-warm`, { v: 1, id: `${d}:${seq++}`, device: d, kind: 'rule', ts: iso(T + 500_000), rule: 'fridge-warm', state: 'cleared', severity: 'major', since: iso(T + 100_000), heldS: 400, raisedAt: iso(T + 400_000), values: { 'a/t': 7 } });
    // Two health reports, the older one arriving last.
    for (const [i, rows] of [[1, 7], [0, 5]] as const) add(`${p}/health`, healthMessage(d, T + i * 15_000, rows));
    add(`${p}/status`, 'online');
    add(`${p}/cmd-result`, { v: 1, id: `c-${d}`, msgId: `${d}:${seq++}`, device: d, name: 'ping', status: 'done', result: { pong: true }, ts: iso(T + 60_000) });
    out.push({ key: `cmd:c-${d}`, kind: 'command', device: d, seq: null, prefix: p, payload: JSON.stringify({ id: `c-${d}`, name: 'ping', args: {}, expiresAt: iso(NOW + 600_000), issuedBy: 'ops', at: iso(T + 50_000) }), receivedAt: T + 50_000 });
    out.push({ key: `cmd-sent:c-${d}`, kind: 'command-sent', device: d, seq: null, prefix: p, payload: JSON.stringify({ id: `c-${d}`, name: 'ping', at: iso(T + 50_001) }), receivedAt: T + 50_001 });
  }
  out.push({ key: `ack:d-1:109:${T + 1}`, kind: 'ack', device: null, seq: null, prefix: 'fleet', payload: JSON.stringify({ id: 'd-1:109', by: 'ops' }), receivedAt: T + 1 });
  return out;
}
const ALL = messages();

/** Everything the API shows, from a store. */
async function readModel(store: FleetStore) {
  const db = store.db;
  return {
    devices: await listDevices(db),
    d1: await getDevice(db, 'd-1'),
    alerts: (await listAlerts(db, undefined, undefined)).sort((a, b) => a.id.localeCompare(b.id)),
    summaries: await sensorSummaries(db, 'd-1', 'b/h', T - 60_000, NOW, 500),
    at: await sensorSummaries(db, 'd-2', 'a/t', T, NOW, 2),
    commands: await listCommands(db, {}, NOW),
    deadLetters: (await listDeadLetters(db)).total,
  };
}

type Place = Parameters<typeof openFleetStore>[0];
/** `place` makes a new empty store's address; `open` a new store, or another handle on `at`. */
type Backend = { name: string; place(): Promise<Place>; open(at?: Place): Promise<FleetStore> };
let pgServer: Postgres | undefined;
let dbCount = 0;
const backend = (name: string, place: () => Promise<Place>): Backend => ({ name, place, open: async (at) => openFleetStore(at ?? (await place())) });
const backends: Backend[] = [
  backend('sqlite', async () => join(tempDir(), 'fleet.db')),
  backend('postgres', async () => ({ type: 'postgres', url: await pgServer!.database(`fleet${dbCount++}`), retention: 0 })),
];

beforeAll(async () => {
  pgServer = await startPostgres();
}, 120_000);
afterAll(async () => {
  await pgServer?.stop();
});

const expected = { value: undefined as Awaited<ReturnType<typeof readModel>> | undefined };

describe.each(backends)('fleet store contract: $name', (backend) => {
  it('projects what a user sees: complete over partial, live over backfill, gaps, alerts and their clears, latest health, commands', async () => {
    const store = await backend.open();
    try {
      await store.accept(ALL);
      const m = await readModel(store);
      const d1 = m.devices.find((d) => d.device === 'd-1')!;
      expect(d1).toMatchObject({ prefix: 'outpost/d-1', status: 'online', openAnomalies: 1 /* the lamp offline */, gaps: { missing: 2, ranges: [[107, 108]] }, backlog: { rows: 7 } });
      expect(m.summaries).toEqual([expect.objectContaining({ count: 9, mean: 51 })]);
      expect(m.alerts.map((a) => [a.device, a.kind, a.subject, a.state])).toEqual([
        ['d-1', 'anomaly', 'a/t', 'acknowledged'],
        ['d-1', 'stale', 'b/h', 'cleared'],
        ['d-1', 'availability', 'z/lamp', 'open'],
        ['d-1', 'rule', 'fridge-warm', 'cleared'],
        ['d-2', 'anomaly', 'a/t', 'open'],
        ['d-2', 'stale', 'b/h', 'cleared'],
        ['d-2', 'availability', 'z/lamp', 'open'],
        ['d-2', 'rule', 'fridge-warm', 'cleared'],
      ]);
      expect(m.commands.map((c) => [c.device, c.id, c.state])).toEqual(expect.arrayContaining([['d-1', 'c-d-1', 'done'], ['d-2', 'c-d-2', 'done']]));
      expect(m.at).toHaveLength(2); // downsampled to two points
      // A rebuild from the log gives the same; so does accepting everything again (redelivery).
      expect(await store.rebuild()).toBe(ALL.length);
      expect(await readModel(store)).toEqual(m);
      expect(await store.accept(ALL)).toEqual([]);
      expect(await readModel(store)).toEqual(m);
      if (expected.value === undefined) expected.value = m;
      else expect(m).toEqual(expected.value); // the other store gave the same
    } finally {
      await store.close();
    }
  }, 60_000);

  it('any order of arrival and any batching gives the same read model', async () => {
    const all = ALL;
    const reference = await backend.open();
    await reference.accept(all);
    const want = await readModel(reference);
    await reference.close();
    await fc.assert(
      fc.asyncProperty(fc.shuffledSubarray(all, { minLength: all.length }), fc.array(fc.integer({ min: 1, max: 12 }), { minLength: 1, maxLength: 20 }), fc.nat(all.length - 1), async (order, sizes, dup) => {
        const store = await backend.open();
        try {
          const stream = [...order, order[dup]!]; // one redelivery
          for (let i = 0, k = 0; i < stream.length; k++) {
            const n = sizes[k % sizes.length]!;
            await store.accept(stream.slice(i, i + n));
            i += n;
          }
          const got = await readModel(store);
          // Acknowledgement state depends on whether the ack came after its anomaly: compare the rest.
          const norm = (x: typeof got) => ({ ...x, alerts: x.alerts.map((a) => ({ ...a, state: a.state === 'acknowledged' ? 'open' : a.state, ackedBy: null, ackedAt: null })), devices: x.devices.map((d) => ({ ...d, openAnomalies: 0 })), d1: { ...x.d1!, openAnomalies: 0 } });
          expect(norm(got)).toEqual(norm(want));
        } finally {
          await store.close();
        }
      }),
      { numRuns: backend.name === 'postgres' ? 8 : 25 },
    );
  }, 120_000);

  it('several instances opening a new store at once all start (one makes the schema, the others find it)', async () => {
    const at = await backend.place();
    const stores = await Promise.all([backend.open(at), backend.open(at), backend.open(at)]);
    try {
      await stores[1]!.accept(ALL);
      expect((await readModel(stores[2]!)).devices.map((d) => d.device)).toEqual(['d-1', 'd-2']);
    } finally {
      for (const x of stores) await x.close();
    }
  }, 60_000);

  it('two instances rebuilding at once, while a third accepts, give the read model of one rebuild of the log', async () => {
    // What makes order matter: a second, later reply to a command (the first final one stands,
    // and the list keeps their order) and an acknowledgement of a staleness alert before its
    // clear (an acknowledgement takes only an open alert); these arrive while both rebuild.
    const clear = ALL.find((e) => e.key === 'd-1:111')!;
    expect(clear.payload).toMatch(/"state":"cleared"/);
    const reply = readMessage(['outpost/+'], 'outpost/d-1/cmd-result', JSON.stringify({ v: 1, id: 'c-d-1', msgId: 'd-1:200', device: 'd-1', name: 'ping', status: 'failed', error: 'late twin', ts: iso(T + 61_000) }), T + 61_000);
    if (!('entry' in reply)) throw new Error('fixture');
    const ack = { key: `ack:d-1:110:${T + 2}`, kind: 'ack', device: null, seq: null, prefix: 'fleet', payload: JSON.stringify({ id: 'd-1:110', by: 'ops' }), receivedAt: T + 2 } satisfies LogEntry;
    const first = ALL.filter((e) => e !== clear);
    const rest = [ack, reply.entry, clear];
    const reference = await backend.open();
    await reference.accept(first);
    for (const e of rest) await reference.accept([e]); // one at a time: a batch puts acknowledgements last
    await reference.rebuild();
    const want = await readModel(reference);
    await reference.close();
    expect(want.commands.find((c) => c.device === 'd-1')).toMatchObject({ state: 'done', replies: [expect.objectContaining({ status: 'done' }), expect.objectContaining({ status: 'failed' })] });
    expect(want.alerts.find((a) => a.id === 'd-1:110'), JSON.stringify(want.alerts.find((a) => a.id === 'd-1:110'))).toMatchObject({ state: 'cleared', ackedBy: 'ops' });
    for (let round = 0; round < (backend.name === 'postgres' ? 6 : 3); round++) {
      const at = await backend.place();
      const [a, b, c] = [await backend.open(at), await backend.open(at), await backend.open(at)];
      try {
        await a.accept(first);
        await Promise.all([a.rebuild(), b.rebuild(), (async () => {
          for (const e of rest) await c.accept([e]);
        })()]);
        expect(await readModel(a)).toEqual(want);
        expect(await readModel(b)).toEqual(want);
      } finally {
        for (const x of [a, b, c]) await x.close();
      }
    }
  }, 120_000);

  it('retention: a window whose kept version expired shows the version the log still has; one with no version left goes', async () => {
    const d = 'd-9';
    const w = (i: number) => ({ start: iso(T + i * 60_000), end: iso(T + (i + 1) * 60_000) });
    const entry = (body: Record<string, unknown>, at: number) => {
      const r = readMessage(['outpost/+'], `outpost/${d}/summary/x/t`, JSON.stringify({ v: 1, device: d, sensor: 'x/t', late: 0, ...body }), at);
      if (!('entry' in r)) throw new Error('fixture');
      return r.entry;
    };
    const store = await backend.open();
    try {
      await store.accept([
        entry({ id: `${d}:1`, window: w(0), count: 9, mean: 10 }, T), // the live version, old
        entry({ id: `${d}:2`, window: w(1), count: 9, mean: 20 }, T), // the only version, old
        entry({ id: `${d}:3`, window: w(0), count: 9, mean: 11, replayed: true }, NOW), // a backfill's copy, recent
      ]);
      const before = await sensorSummaries(store.db, d, 'x/t', T - 60_000, NOW, 500);
      expect(before.map((x) => x.mean)).toEqual([10, 20]); // live over backfill
      await store.retain(T + 1_800_000);
      const after = await sensorSummaries(store.db, d, 'x/t', T - 60_000, NOW, 500);
      expect(after.map((x) => x.mean)).toEqual([11]);
      await store.rebuild();
      expect(await sensorSummaries(store.db, d, 'x/t', T - 60_000, NOW, 500)).toEqual(after);
    } finally {
      await store.close();
    }
  }, 60_000);

  it('retention keeps what says how things stand, and a rebuild after it agrees', async () => {
    const store = await backend.open();
    try {
      await store.accept(ALL);
      await store.retain(T + 3_600_000);
      const after = await readModel(store);
      expect(after.devices.map((d) => d.device)).toEqual(['d-1', 'd-2']); // latest health and status kept
      expect(after.alerts.filter((a) => a.kind !== 'anomaly').length).toBe(6); // events kept
      await store.rebuild();
      expect(await readModel(store)).toEqual(after);
    } finally {
      await store.close();
    }
  }, 60_000);
});
