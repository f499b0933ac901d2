// A damaged database at start (a power cut on an SD card): the file is kept aside, what can be
// read is salvaged into a fresh database, the agent starts and says what was saved and lost,
// and no message id is ever reused.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, existsSync, openSync, readFileSync, renameSync, statSync, truncateSync, writeSync, closeSync, writeFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { openStoreChecked } from '../../src/store/open-store.js';
import { salvageDatabase } from '../../src/store/salvage.js';
import { dirname, join } from 'node:path';
import { createAgent } from '../../src/agent/agent.js';
import type { Agent } from '../../src/agent/agent-types.js';
import { silentLogger } from '../../src/ops/logger.js';
import { openDatabase } from '../../src/store/sqlite.js';
import { startFleet, seqOf, type Fleet } from '../helpers/fleet.js';
import { testConfig, tempDir } from '../helpers/agent-config.js';
import { connectPublisher } from '../helpers/publisher.js';
import { waitFor } from '../helpers/wait.js';
import { freePort } from '../helpers/ports.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
});

const yaml = (fleetUrl: string) => `
device: { id: salvage-01 }
broker: { host: 127.0.0.1, port: 0 }
sources: [ { type: mqtt, topic: "sensors/#" } ]
pipelines: [ { match: ["**"], window: { type: tumbling, size: 1s } } ]
uplink: { url: "${fleetUrl}", maxRate: 0, reconnect: { min: 100ms, max: 300ms } }
storage: { path: ./outpost.db }
http: { enabled: false }
`;

const T0 = Math.floor((Date.now() - 3_600_000) / 1000) * 1000;
let original: string;
let made: { rows: number; nextSeq: number };

// One database with a real backlog: 3,000 summaries for an uplink that never came, and a few dead letters.
beforeAll(async () => {
  const dir = tempDir();
  const agent = createAgent({ config: testConfig(yaml(`mqtt://127.0.0.1:${await freePort()}`), dir), log: silentLogger() });
  await agent.start();
  const pub = await connectPublisher(agent.brokerPort!);
  for (let i = 0; i < 3000; i++) {
    // one reading per 1 s window per sensor, 10 sensors: each reading closes the sensor's previous window
    pub.publish(`sensors/s${i % 10}`, JSON.stringify({ value: i, ts: T0 + Math.floor(i / 10) * 1000 }), { qos: 1 });
  }
  for (let i = 0; i < 5; i++) pub.publish('sensors/bad', 'not a number', { qos: 1 });
  await pub.endAsync();
  await waitFor('backlog in the outbox', async () => (await agent.health()).backlog.rows >= 2980, 20_000);
  await agent.stop();
  original = join(dir, 'outpost.db');
  const db = await openDatabase(original, { readonly: true });
  made = {
    rows: (await db.get<{ n: number }>('SELECT COUNT(*) AS n FROM outbox'))!.n,
    nextSeq: (await db.get<{ value: number }>("SELECT value FROM meta WHERE key = 'next_seq'"))!.value,
  };
  await db.close();
}, 60_000);

async function startOn(damage: (path: string) => void): Promise<{ agent: Agent; fleet: Fleet; dir: string; damaged: Buffer }> {
  const dir = tempDir();
  const path = join(dir, 'outpost.db');
  copyFileSync(original, path);
  damage(path);
  const damaged = readFileSync(path);
  const fleet = await startFleet();
  cleanups.push(() => fleet.stop());
  const agent = createAgent({ config: testConfig(yaml(fleet.url), dir), log: silentLogger() });
  await agent.start();
  cleanups.push(() => agent.stop());
  return { agent, fleet, dir, damaged };
}

function overwrite(path: string, offset: number, bytes: number): void {
  const fd = openSync(path, 'r+');
  writeSync(fd, Buffer.alloc(bytes, 0xa5), 0, bytes, offset);
  closeSync(fd);
}

describe('a damaged database file at start', () => {
  it('truncated: keeps the file aside, salvages the readable rows, starts, and never reuses an id', async () => {
    const { agent, fleet, damaged } = await startOn((p) => truncateSync(p, Math.floor(statSync(p).size * 0.6)));
    const h = await agent.health();
    const s = h.store.salvage!;
    expect(s).not.toBeNull();
    // Health names the file, not its path (it is served on /status): it lies beside the database.
    expect(s.asideAs).not.toContain('/');
    const aside = join(dirname(agent.config.storage.path), s.asideAs);
    expect(existsSync(aside)).toBe(true);
    expect(readFileSync(aside).equals(damaged)).toBe(true); // left exactly as found
    expect(s.salvaged.outbox).toBeGreaterThan(0);
    expect(s.salvaged.outbox).toBeLessThan(made.rows);
    expect(s.nextSeq).toBeGreaterThanOrEqual(made.nextSeq);
    expect(s.unreadable.outbox).toContainEqual([expect.any(Number), null]); // the lost tail (and a row cut by it, ending in zeros: never sent)
    console.log(`salvage, file cut to 60%: ${s.salvaged.outbox} of ${made.rows} outbox rows, unreadable ${JSON.stringify(s.unreadable)}`);
    await waitFor('salvaged backlog delivered', () => new Set(fleet.ids()).size >= s.salvaged.outbox, 20_000);

    // New messages continue after every id the old file used.
    const pub = await connectPublisher(agent.brokerPort!);
    cleanups.push(() => pub.endAsync());
    pub.publish('sensors/new', JSON.stringify({ value: 1, ts: Date.now() - 5_000 }), { qos: 1 });
    pub.publish('sensors/new', JSON.stringify({ value: 2, ts: Date.now() }), { qos: 1 });
    await waitFor('a new summary', () => fleet.received.some((r) => r.json?.sensor === 'new'), 10_000);
    const fresh = fleet.received.find((r) => r.json?.sensor === 'new')!;
    expect(seqOf(String(fresh.json!.id))).toBeGreaterThanOrEqual(made.nextSeq);
  });

  it('garbled pages: salvages around them', async () => {
    const { agent, fleet } = await startOn((p) => {
      const size = statSync(p).size;
      overwrite(p, Math.floor(size / 3 / 4096) * 4096, 3 * 4096);
    });
    const s = (await agent.health()).store.salvage!;
    expect(s.salvaged.outbox).toBeGreaterThan(made.rows / 2);
    expect(s.salvaged.outbox).toBeLessThan(made.rows);
    expect(Object.keys(s.unreadable)).toContain('outbox');
    console.log(`salvage, 3 garbled pages: ${s.salvaged.outbox} of ${made.rows} outbox rows, unreadable ${JSON.stringify(s.unreadable)}`);
    await waitFor('salvaged backlog delivered', () => new Set(fleet.ids()).size >= s.salvaged.outbox, 20_000);
    // Every salvaged message arrives intact: valid JSON with its own id.
    for (const r of fleet.received.filter((x) => x.topic.includes('/summary/'))) expect(r.json?.id).toMatch(/^salvage-01:\d+$/);
  });

  it('a garbled header: nothing readable, yet ids still move past every one in the old bytes', async () => {
    const { agent } = await startOn((p) => overwrite(p, 0, 100));
    const s = (await agent.health()).store.salvage!;
    expect(s.salvaged.outbox).toBe(0);
    expect(s.unreadable.outbox).toBeDefined();
    expect(s.nextSeq).toBeGreaterThan(made.nextSeq);
    expect((await agent.health()).store.writable).toBe(true);
  });

  it('a damaged b-tree whose keys do not rise (a truncated file seen in CI): salvage ends, it does not loop', async () => {
    // The file made the scan read the same stretch forever (1 GB and growing); kept as found.
    const dir = tempDir();
    const path = join(dir, 'outpost.db');
    writeFileSync(path, gunzipSync(readFileSync('test/fixtures/salvage-keys-loop.db.gz')));
    const t0 = Date.now();
    const opened = await openStoreChecked(path, 'full', silentLogger(), 'salvage-01');
    await opened.db.close();
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(opened.salvage!.salvaged.outbox).toBeGreaterThan(1000);
  }, 20_000);
});

describe('ids after a database is lost', () => {
  const seqsOf = async (path: string) => {
    const db = await openDatabase(path, { readonly: true });
    const r = await db.get<{ next: number; seed: number | null }>("SELECT (SELECT value FROM meta WHERE key = 'next_seq') AS next, (SELECT value FROM meta WHERE key = 'seq_seed') AS seed");
    await db.close();
    return r!;
  };

  it('a new, a 0-byte, a 100-byte and a garbage file all start past every id the lost one used', async () => {
    // The lost database: made at T, it used ids up to made.nextSeq - 1 ... and more.
    const T = Date.parse('2026-11-29T10:00:00Z');
    const dir = tempDir();
    const first = join(dir, 'first.db');
    const a = await openStoreChecked(first, 'full', silentLogger(), 'salvage-01', T);
    const seed = (await seqsOf(first)).next;
    expect(seed).toBeGreaterThan(1);
    // It sends a million ids an hour for a day (far above any real device).
    await a.db.run("UPDATE meta SET value = value + 24000000 WHERE key = 'next_seq'");
    await a.db.close();
    const usedUpTo = (await seqsOf(first)).next - 1;
    const later = T + 86_400_000;
    const cases: Record<string, (p: string) => void> = {
      'rm (a new file)': () => undefined,
      '0 bytes': (p) => writeFileSync(p, ''),
      '100 bytes of the old file': (p) => writeFileSync(p, readFileSync(first).subarray(0, 100)),
      garbage: (p) => writeFileSync(p, Buffer.alloc(64 * 1024, 0x5a)),
    };
    for (const [name, make] of Object.entries(cases)) {
      const path = join(dir, `${name.replace(/\W+/g, '-')}.db`);
      make(path);
      const opened = await openStoreChecked(path, 'full', silentLogger(), 'salvage-01', later);
      await opened.db.close();
      const { next, seed: recorded } = await seqsOf(path);
      expect(next, name).toBeGreaterThan(usedUpTo);
      expect(recorded, `${name}: the seed is recorded (health.uplink.firstSeq)`).toBe(next);
    }
  });

  it('salvage builds the new file beside the damaged one: dying half way leaves the damaged file in place', async () => {
    const dir = tempDir();
    const path = join(dir, 'outpost.db');
    copyFileSync(original, path);
    truncateSync(path, Math.floor(statSync(path).size * 0.6));
    const damaged = readFileSync(path);
    // The disk fills while the new file is written.
    await expect(
      salvageDatabase(path, 'salvage-01', async () => {
        throw Object.assign(new Error('SQLITE_FULL: database or disk is full'), { code: 'SQLITE_FULL' });
      }, silentLogger()),
    ).rejects.toThrow(/SQLITE_FULL/);
    expect(readFileSync(path).equals(damaged), 'the damaged file is where it was, untouched').toBe(true);
    // The next start salvages it, and its ids move on.
    const opened = await openStoreChecked(path, 'full', silentLogger(), 'salvage-01');
    await opened.db.close();
    expect(opened.salvage!.salvaged.outbox).toBeGreaterThan(0);
    expect(opened.salvage!.nextSeq).toBeGreaterThanOrEqual(made.nextSeq);
    expect(existsSync(`${path}.salvage-new`)).toBe(false);
  });

  it('an impossible id in the damaged bytes (a forged one in a dead letter) does not push the counter past safe integers', async () => {
    const dir = tempDir();
    const path = join(dir, 'outpost.db');
    copyFileSync(original, path);
    const db = await openDatabase(path);
    await db.run("INSERT INTO dead_letters (received_at, source, topic, reason, detail, payload) VALUES (1, 'mqtt:sensors/#', 'sensors/x', 'bad-payload', 'x', ?)", [Buffer.from('{"id":"salvage-01:99999999999999999999","v":1}')]);
    await db.close();
    truncateSync(path, Math.floor(statSync(path).size * 0.7));
    const opened = await openStoreChecked(path, 'full', silentLogger(), 'salvage-01');
    await opened.db.close();
    expect(Number.isSafeInteger(opened.salvage!.nextSeq)).toBe(true);
    expect(opened.salvage!.nextSeq).toBeGreaterThanOrEqual(made.nextSeq);
  });

  it('a salvage that died between its two renames is finished at the next start, not thrown away', async () => {
    const dir = tempDir();
    const path = join(dir, 'outpost.db');
    copyFileSync(original, path);
    truncateSync(path, Math.floor(statSync(path).size * 0.6));
    const first = await openStoreChecked(path, 'full', silentLogger(), 'salvage-01');
    await first.db.close();
    // As if the process died after moving the damaged file aside and before moving the new one in.
    renameSync(path, `${path}.salvage-new`);
    const again = await openStoreChecked(path, 'full', silentLogger(), 'salvage-01');
    expect(again.salvage).toBeUndefined();
    const rows = (await again.db.get<{ n: number }>('SELECT COUNT(*) AS n FROM outbox'))!.n;
    await again.db.close();
    expect(rows).toBe(first.salvage!.salvaged.outbox);
  });
});

