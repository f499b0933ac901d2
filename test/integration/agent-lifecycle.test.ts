// Starting and stopping around faults: one agent per database, a start that fails keeps its open
// windows (no partial summaries at every failed restart), and a checkpoint asked for before the
// stream exists (the byte budget at boot) is taken later instead of throwing.
import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:net';
import { readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createAgent } from '../../src/agent/agent.js';
import { silentLogger } from '../../src/ops/logger.js';
import { openStore } from '../../src/store/open-store.js';
import { openOutbox } from '../../src/store/outbox.js';
import { createGroupCommit } from '../../src/store/group-commit.js';
import { loadCheckpoint } from '../../src/store/checkpoint.js';
import { startFleet } from '../helpers/fleet.js';
import { baseYaml, tempDir, testConfig } from '../helpers/agent-config.js';
import { connectPublisher } from '../helpers/publisher.js';
import { freePort } from '../helpers/ports.js';
import { waitFor } from '../helpers/wait.js';
import { runCli } from '../helpers/cli.js';
import { upstreamEncoder } from '../../src/wire/render.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
});

const T0 = Date.now() - 5_000;

describe('agent lifecycle', () => {
  it('refuses a second agent on the same database with a clear message; a stale lock is taken over', async () => {
    const fleet = await startFleet();
    cleanups.push(() => fleet.stop());
    const dir = tempDir();
    const yaml = baseYaml({ fleetUrl: fleet.url });
    writeFileSync(join(dir, 'agent.yaml'), yaml);
    const config = testConfig(yaml, dir);
    const first = createAgent({ config, log: silentLogger() });
    cleanups.push(() => first.stop());
    await first.start();
    // A second `outpost run` on the same database: a clear message, a non-zero exit.
    const second = await runCli(['run', '--config', join(dir, 'agent.yaml')]);
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(/another outpost \(pid \d+\) is running on .*outpost\.db: stop it first/);
    // In one process, a second agent on it is refused too.
    await expect(createAgent({ config, log: silentLogger() }).start()).rejects.toThrow(/already runs an agent on/);
    expect((await first.health()).store.writable).toBe(true);
    await first.stop();
    // A lock left by a process that is gone (SIGKILL) does not keep the next one out, nor one
    // from before a reboot whose pid now belongs to another process (here: this one, pid 1's
    // boot id differs), nor a torn one.
    const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    for (const stale of [JSON.stringify({ pid: 999_999_999, boot, start: '1' }), JSON.stringify({ pid: 1, boot: 'an-earlier-boot', start: '1' }), JSON.stringify({ pid: 1, boot, start: 'not-its-start' }), '{"pid":']) {
      writeFileSync(`${config.storage.path}.lock`, stale);
      const old = new Date(Date.now() - 60_000);
      utimesSync(`${config.storage.path}.lock`, old, old); // a torn one is stale only when old
      const next = createAgent({ config, log: silentLogger() });
      await next.start();
      await next.stop();
    }
  });

  it('a start that fails (port taken) sends no partial summaries and keeps the open windows', async () => {
    const fleet = await startFleet();
    cleanups.push(() => fleet.stop());
    const port = await freePort();
    const dir = tempDir();
    const config = testConfig(baseYaml({ fleetUrl: fleet.url, windowSize: '60s' }).replace('port: 0 }', `port: ${port} }`), dir);
    const a = createAgent({ config, log: silentLogger() });
    await a.start();
    const pub = await connectPublisher(port);
    for (let i = 0; i < 5; i++) await pub.publishAsync('sensors/open/t', JSON.stringify({ value: i, ts: T0 + i }), { qos: 1 });
    await pub.endAsync();
    await a.stop({ flushOpenWindows: false }); // as a reload does: the window stays open in the checkpoint
    const blocker: Server = createServer();
    await new Promise<void>((r) => blocker.listen(port, '127.0.0.1', () => r()));
    for (let i = 0; i < 3; i++) {
      const failing = createAgent({ config, log: silentLogger() });
      await expect(failing.start()).rejects.toThrow(/already in use/);
      await failing.stop(); // as the CLI and the demo may: a second stop does nothing
    }
    await new Promise<void>((r) => blocker.close(() => r()));
    await new Promise((r) => setTimeout(r, 300));
    expect(fleet.received.filter((m) => m.json?.partial === true)).toEqual([]);
    // The window is still open: the next good start ends it in one partial summary at its stop.
    const b = createAgent({ config, log: silentLogger() });
    await b.start();
    await b.stop();
    await waitFor('the partial summary upstream', () => fleet.received.some((m) => m.json?.partial === true));
    const partials = fleet.received.filter((m) => m.json?.partial === true && m.json?.sensor === 'open/t');
    expect(partials).toHaveLength(1);
    expect(partials[0]!.json).toMatchObject({ count: 5 });
  });

  it('a checkpoint asked for before the stream exists is taken later, not thrown', async () => {
    const dir = tempDir();
    const db = await openStore(join(dir, 'o.db'));
    cleanups.push(() => db.close());
    const outbox = await openOutbox(db);
    let snapshot: { specs: string; state: string } | undefined = undefined;
    const w = createGroupCommit({ db, outbox, device: 'd', encode: upstreamEncoder('d'), commitIntervalMs: 10, commitReadings: 100, journal: true, snapshot: () => snapshot, clock: Date.now, log: silentLogger(), onQueued: () => undefined });
    w.requestCheckpoint();
    await w.flush();
    expect(await loadCheckpoint(db)).toBeUndefined();
    snapshot = { specs: '[]', state: '{"pipelines":[]}' };
    w.reading('s', Date.now(), 1, Date.now(), false);
    await w.flush();
    expect(await loadCheckpoint(db)).toMatchObject({ specs: '[]' });
    await w.close();
  });

  it('health carries the last seq the fleet acknowledged, across a restart', async () => {
    const fleet = await startFleet();
    cleanups.push(() => fleet.stop());
    const port = await freePort();
    const config = testConfig(baseYaml({ fleetUrl: fleet.url, windowSize: '100ms' }).replace('port: 0 }', `port: ${port} }`), tempDir());
    const a = createAgent({ config, log: silentLogger() });
    await a.start();
    const pub = await connectPublisher(port);
    for (let i = 0; i < 4; i++) await pub.publishAsync('sensors/seq/t', JSON.stringify({ value: i, ts: T0 + i * 100 }), { qos: 1 });
    await pub.endAsync();
    await waitFor('three summaries upstream', () => fleet.ids().length >= 3);
    const first = (await a.health()).uplink.firstSeq; // a new database's ids start at the clock's seed
    expect(first).toBeGreaterThan(1);
    await waitFor('lastSeqSent: the third id', async () => (await a.health()).uplink.lastSeqSent >= first + 2);
    await a.stop(); // the open fourth window goes out as a partial summary: the fourth id
    await waitFor('the partial upstream', () => fleet.ids().length >= 4);
    const b = createAgent({ config, log: silentLogger() });
    cleanups.push(() => b.stop());
    await fleet.stop(); // nothing can be delivered now: the value comes from the outbox
    await b.start();
    await waitFor('lastSeqSent from the outbox', async () => (await b.health()).uplink.lastSeqSent === first + 3);
  });
});
