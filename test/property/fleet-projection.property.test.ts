// The fleet's read model is a projection of its log: generated message sets of one device
// (summaries with partial, complete, merged and replayed versions of windows, anomalies, stale
// raised and cleared, health), delivered in any order and any number of times, give the same
// projections; a rebuild from the log gives them byte for byte; and seq gaps are exactly the ids
// never delivered.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { openFleetStore, type FleetStore } from '../../src/fleet/fleet-store.js';
import { PROJECTION_TABLES } from '../../src/fleet/fleet-schema.js';
import { readMessage } from '../../src/fleet/read-message.js';
import { gapsOf } from '../../src/fleet/fleet-queries.js';
import type { LogEntry } from '../../src/fleet/projection.js';
import { fuzzParams } from '../helpers/fuzz.js';

const T0 = Date.parse('2026-11-29T10:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();
const DEV = 'dev-1';

/** One message per seq, in the wire shapes (validated by readMessage as the service does). */
const message = fc.oneof(
  fc.record({ k: fc.constant('summary' as const), sensor: fc.constantFrom('a/t', 'b/h'), w: fc.integer({ min: 0, max: 5 }), partial: fc.boolean(), merged: fc.boolean(), replayed: fc.boolean(), mean: fc.integer({ min: 0, max: 100 }) }),
  fc.record({ k: fc.constant('anomaly' as const), sensor: fc.constantFrom('a/t', 'b/h'), at: fc.integer({ min: 0, max: 300 }) }),
  fc.record({ k: fc.constant('stale' as const), sensor: fc.constantFrom('a/t', 'b/h'), at: fc.integer({ min: 0, max: 300 }), raised: fc.boolean() }),
  fc.record({ k: fc.constant('health' as const), at: fc.integer({ min: 0, max: 300 }) }),
);

function render(m: fc.Arbitrary<unknown> extends never ? never : Record<string, unknown>, seq: number): { topic: string; payload: string } {
  const id = `${DEV}:${seq}`;
  const base = `outpost/${DEV}`;
  switch (m.k) {
    case 'summary': {
      const start = T0 + (m.w as number) * 60_000 * (m.merged ? 2 : 1);
      const end = start + 60_000 * (m.merged ? 2 : 1);
      const mean = m.mean as number;
      return { topic: `${base}/summary/${m.sensor}`, payload: JSON.stringify({ v: 1, id, device: DEV, sensor: m.sensor, window: { start: iso(start), end: iso(end) }, count: 3, min: mean - 1, max: mean + 1, mean, late: 0, ...(m.partial ? { partial: true } : {}), ...(m.merged ? { merged: 2 } : {}), ...(m.replayed ? { replayed: true } : {}) }) };
    }
    case 'anomaly':
      return { topic: `${base}/anomaly/${m.sensor}`, payload: JSON.stringify({ v: 1, id, device: DEV, sensor: m.sensor, ts: iso(T0 + (m.at as number) * 1000), value: 9, detector: 'threshold', severity: 'critical', score: 1, message: 'x', evidence: {} }) };
    case 'stale':
      return { topic: `${base}/event/stale/${m.sensor}`, payload: JSON.stringify({ v: 1, id, device: DEV, ts: iso(T0 + (m.at as number) * 1000), kind: 'stale', sensor: m.sensor, state: m.raised ? 'raised' : 'cleared', silentForS: 61, limitS: 60, lastSeen: iso(T0) }) };
    default:
      return { topic: `${base}/health`, payload: JSON.stringify({ v: 1, device: DEV, ts: iso(T0 + (m.at as number) * 1000), uptimeS: 1 }) };
  }
}

async function dump(store: FleetStore): Promise<string> {
  const out: Record<string, unknown> = {};
  for (const t of PROJECTION_TABLES) out[t] = (await store.db.all(`SELECT * FROM ${t}`)).map((r) => JSON.stringify(r)).sort();
  return JSON.stringify(out);
}

function entries(msgs: Array<Record<string, unknown>>): LogEntry[] {
  return msgs.flatMap((m, i) => {
    const { topic, payload } = render(m, 1000 + i);
    const r = readMessage(['outpost/+'], topic, payload, T0);
    // health is a looser shape in this generator: take it as the service would, or not at all
    return 'entry' in r ? [r.entry] : [];
  });
}

describe('fleet projections (generated)', () => {
  it('any order and any duplication of a device\'s messages give the same read model; rebuild reproduces it', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(message, { minLength: 1, maxLength: 25 }), fc.integer(), async (msgs, seed) => {
        const all = entries(msgs as Array<Record<string, unknown>>);
        // another order, with some deliveries twice
        const shuffled = fc.sample(fc.shuffledSubarray(all, { minLength: all.length, maxLength: all.length }), { seed, numRuns: 1 })[0]!;
        const twice = [...shuffled, ...shuffled.filter((_, i) => (i + seed) % 3 === 0)];
        const a = await openFleetStore(':memory:');
        const b = await openFleetStore(':memory:');
        try {
          for (const e of all) await a.accept([e]);
          for (const e of twice) await b.accept([e]);
          const da = await dump(a);
          expect(await dump(b)).toBe(da);
          await a.rebuild();
          expect(await dump(a)).toBe(da);
        } finally {
          await a.close();
          await b.close();
        }
      }),
      fuzzParams(60),
    );
  });

  it('retention keeps the projections a rebuild would make (last seen aside: it is the latest time of what is kept; a window\'s versions count is an upper bound until the next rebuild)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(message, { minLength: 1, maxLength: 25 }), fc.array(fc.boolean(), { minLength: 25, maxLength: 25 }), async (msgs, old) => {
        const all = entries(msgs as Array<Record<string, unknown>>).map((e, i) => ({ ...e, receivedAt: old[i] ? T0 - 40 * 86_400_000 : T0 }));
        const store = await openFleetStore(':memory:');
        try {
          await store.accept(all);
          // an acknowledgement of the first open alert, if any
          const open = await store.db.get<{ id: string }>("SELECT id FROM alerts WHERE state = 'open' ORDER BY id LIMIT 1");
          if (open) await store.accept([{ key: `ack:${open.id}`, kind: 'ack', device: null, seq: null, prefix: 'fleet', payload: JSON.stringify({ id: open.id, by: 'x' }), receivedAt: T0 - 35 * 86_400_000 }]);
          await store.retain(T0 - 30 * 86_400_000);
          const noLastSeen = async () => (await dump(store)).replace(/\\"last_seen\\":\d+/g, '').replace(/\\"versions\\":\d+/g, '');
          // Retention does not recount a window's versions (a losing version that expired still
          // counts): it may only say more than a rebuild, which is all its use needs (a window
          // with one version is never looked at again).
          const versions = async () => new Map((await store.db.all<{ device: string; sensor: string; start: number; end: number; versions: number }>('SELECT device, sensor, start, end, versions FROM summaries')).map((r) => [`${r.device} ${r.sensor} ${r.start} ${r.end}`, r.versions]));
          const kept = await noLastSeen();
          const counted = await versions();
          await store.rebuild();
          expect(await noLastSeen()).toBe(kept);
          for (const [w, n] of await versions()) expect(counted.get(w), w).toBeGreaterThanOrEqual(n);
        } finally {
          await store.close();
        }
      }),
      fuzzParams(60),
    );
  });

  it('a backfill never replaces what the device sent live, whatever arrives first', async () => {
    const w = { k: 'summary', sensor: 'a/t', w: 2, merged: false, partial: false };
    const [live, replayed] = entries([{ ...w, replayed: false, mean: 5 }, { ...w, replayed: true, mean: 6 }]); // replayed has the higher seq
    for (const order of [[live!, replayed!], [replayed!, live!]]) {
      const store = await openFleetStore(':memory:');
      try {
        for (const e of order) await store.accept([e]);
        expect(JSON.parse((await store.db.get<{ payload: string }>('SELECT payload FROM summaries'))!.payload).mean).toBe(5);
      } finally {
        await store.close();
      }
    }
  });

  it('commands: issue, sent and replies in any order and any number of times give the same row; a reply from another device is no answer', async () => {
    const cmd = (device: string): LogEntry => ({ key: 'cmd:c1', kind: 'command', device, seq: null, prefix: `outpost/${device}`, payload: JSON.stringify({ id: 'c1', name: 'replay', args: {}, expiresAt: iso(T0 + 600_000), issuedBy: 'ops', at: iso(T0), closesGap: [5, 6] }), receivedAt: T0 });
    const sent: LogEntry = { key: 'cmd-sent:c1', kind: 'command-sent', device: DEV, seq: null, prefix: `outpost/${DEV}`, payload: JSON.stringify({ id: 'c1', name: 'replay', at: iso(T0) }), receivedAt: T0 + 1 };
    const reply = (device: string, seq: number, status: string, extra: Record<string, unknown> = {}) => {
      const r = readMessage(['outpost/+'], `outpost/${device}/cmd-result`, JSON.stringify({ v: 1, id: 'c1', msgId: `${device}:${seq}`, device, name: 'replay', status, ts: iso(T0 + seq), ...extra }), T0 + seq);
      if (!('entry' in r)) throw new Error(JSON.stringify(r));
      return r.entry;
    };
    const all = [cmd(DEV), sent, reply(DEV, 10, 'accepted'), reply(DEV, 11, 'done', { result: { readings: 3, summaries: 2 } }), reply(DEV, 12, 'done', { result: { readings: 3, summaries: 2 }, duplicate: true }), reply('dev-2', 13, 'failed', { error: 'forged' })];
    await fc.assert(
      fc.asyncProperty(fc.shuffledSubarray(all, { minLength: all.length, maxLength: all.length }), async (order) => {
        const store = await openFleetStore(':memory:');
        try {
          for (const e of [...order, order[0]!]) await store.accept([e]);
          const row = await store.db.get<{ state: string; issued_by: string; replies: string }>('SELECT state, issued_by, replies FROM commands WHERE device = ?', [DEV]);
          expect(row).toMatchObject({ state: 'done', issued_by: 'ops' });
          expect(JSON.parse(row!.replies)).toHaveLength(3);
          // The other device's "reply" is a row of its own: it answers nothing for dev-1.
          expect(await store.db.get('SELECT state FROM commands WHERE device = ?', ['dev-2'])).toEqual({ state: 'failed' });
          expect(await store.db.all('SELECT first, last FROM backfills')).toEqual([{ first: 5, last: 6 }]);
        } finally {
          await store.close();
        }
      }),
      fuzzParams(40),
    );
  });

  it('a summary window keeps its complete version over a partial one whatever arrives first, and gaps are the ids never delivered', async () => {
    const store = await openFleetStore(':memory:');
    try {
      const w = { k: 'summary', sensor: 'a/t', w: 1, merged: false, replayed: false, mean: 5 };
      const [partial, complete] = entries([{ ...w, partial: true }, { ...w, partial: false, mean: 7 }]);
      await store.accept([complete!, partial!]);
      const row = await store.db.get<{ partial: number; payload: string }>('SELECT partial, payload FROM summaries');
      expect(row!.partial).toBe(0);
      expect(JSON.parse(row!.payload).mean).toBe(7);
      const many = entries(Array.from({ length: 10 }, (_, i) => ({ k: 'anomaly', sensor: 'a/t', at: i })));
      await store.accept(many.filter((_, i) => i !== 3 && i !== 4 && i !== 7));
      expect(await gapsOf(store.db, DEV)).toEqual({ missing: 3, ranges: [[1003, 1004], [1007, 1007]] });
      await store.accept(many);
      expect(await gapsOf(store.db, DEV)).toEqual({ missing: 0, ranges: [] });
    } finally {
      await store.close();
    }
  });
});
