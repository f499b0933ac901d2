// Outpost under systemd: the unit passes `systemd-analyze verify` without a warning; the
// notify protocol is spoken to a real unix datagram socket (READY=1 once serving, WATCHDOG=1 at
// half of WATCHDOG_USEC, withheld while the pipeline stalls, STOPPING=1 on SIGTERM); SIGHUP
// reloads a good config and keeps the running one on a bad one.
import { afterEach, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createSocket } from 'unix-dgram';
import { start } from '../helpers/cli.js';
import { tempDir } from '../helpers/agent-config.js';
import { startFleet } from '../helpers/fleet.js';
import { freePort } from '../helpers/ports.js';
import { waitFor } from '../helpers/wait.js';
import { connectSdNotify, startWatchdog } from '../../src/ops/sd-notify.js';
import { silentLogger } from '../../src/ops/logger.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
});

/** A real unix datagram socket, as systemd's, recording what arrives and when. */
function notifySocket(): { path: string; got: Array<{ at: number; text: string }> } {
  const path = join(tempDir('outpost-notify-'), 'notify');
  const got: Array<{ at: number; text: string }> = [];
  const socket = createSocket('unix_dgram', (buf) => got.push({ at: Date.now(), text: buf.toString() }));
  socket.bind(path);
  cleanups.push(async () => socket.close());
  return { path, got };
}

describe('systemd', () => {
  /** `systemd-analyze verify` on a unit (ExecStart pointed at this machine's node when /usr/bin/node is not it). */
  const verify = (path: string) => {
    const which = spawnSync('sh', ['-c', 'command -v systemd-analyze']);
    if (which.status !== 0) throw new Error('systemd-analyze is not installed: apt-get install systemd (.ci/run does this)');
    let unit = readFileSync(path, 'utf8');
    if (!existsSync('/usr/bin/node')) unit = unit.replace('/usr/bin/node ', `${process.execPath} `);
    const file = join(tempDir(), path.split('/').pop()!);
    writeFileSync(file, unit);
    const r = spawnSync('systemd-analyze', ['verify', file], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    return unit;
  };

  it('the unit passes systemd-analyze verify with nothing on stderr', () => {
    const unit = verify('systemd/outpost.service');
    expect(unit).toMatch(/^Type=notify$/m);
    expect(unit).toMatch(/^WatchdogSec=\d+$/m);
    expect(unit).toMatch(/^RestartPreventExitStatus=78$/m);
  });

  it('the fleet service\'s unit passes systemd-analyze verify with nothing on stderr', () => {
    const unit = verify('systemd/outpost-fleet.service');
    expect(unit).toMatch(/^RestartPreventExitStatus=78$/m);
    expect(unit).toMatch(/ fleet --config /);
  });

  it('feeds the watchdog only while the pipeline progresses', async () => {
    const sock = notifySocket();
    const notify = (await connectSdNotify({ NOTIFY_SOCKET: sock.path }, silentLogger()))!;
    cleanups.push(async () => notify.close());
    let progressing = true;
    const stop = startWatchdog({ notify, env: { WATCHDOG_USEC: '200000' }, progressing: () => progressing, log: silentLogger() })!;
    cleanups.push(async () => stop());
    await new Promise((r) => setTimeout(r, 1000));
    const fed = sock.got.filter((m) => m.text === 'WATCHDOG=1').length;
    expect(fed).toBeGreaterThanOrEqual(7); // every 100 ms
    expect(fed).toBeLessThanOrEqual(11);
    progressing = false; // a stalled pipeline: the timer still runs, the watchdog is not fed
    await new Promise((r) => setTimeout(r, 150));
    const atStall = sock.got.length;
    await new Promise((r) => setTimeout(r, 800));
    expect(sock.got.length).toBe(atStall);
    progressing = true;
    await waitFor('fed again', () => sock.got.length > atStall, 1000);
  });

  it('says READY=1 once serving, feeds the watchdog, says STOPPING=1 on SIGTERM', async () => {
    const sock = notifySocket();
    const fleet = await startFleet();
    cleanups.push(() => fleet.stop());
    const dir = tempDir();
    const port = await freePort();
    writeFileSync(join(dir, 'a.yaml'), `
device: { id: sd-01 }
broker: { host: 127.0.0.1, port: ${port} }
sources: [ { type: simulated, sensors: [ { id: sim/a, rateHz: 10 } ] } ]
pipelines: [ { match: ["**"], window: { type: tumbling, size: 1s } } ]
uplink: { url: "${fleet.url}" }
storage: { path: ./o.db }
http: { enabled: false }
`);
    const p = start(['run', '--config', join(dir, 'a.yaml')], { NOTIFY_SOCKET: sock.path, WATCHDOG_USEC: '400000' });
    cleanups.push(async () => p.child.kill('SIGKILL'));
    await waitFor('READY=1', () => sock.got.some((m) => m.text.startsWith('READY=1')), 15_000);
    const ready = sock.got.find((m) => m.text.startsWith('READY=1'))!;
    expect(ready.text).toContain(`MAINPID=${p.child.pid}`);
    expect(ready.text).toContain('STATUS=serving sd-01');
    // serving when it says so: the local broker answers
    expect(spawnSync('sh', ['-c', `exec 3<>/dev/tcp/127.0.0.1/${port}`], { shell: '/bin/bash' }).status).toBe(0);
    await new Promise((r) => setTimeout(r, 2000));
    const fed = sock.got.filter((m) => m.text === 'WATCHDOG=1' && m.at > ready.at).length;
    expect(fed).toBeGreaterThanOrEqual(7); // every 200 ms
    p.child.kill('SIGTERM');
    expect((await p.done).code).toBe(0);
    expect(sock.got.map((m) => m.text)).toContain('STOPPING=1');
  });

  it('SIGHUP: a good config is applied, a bad one is refused and the running one stays', async () => {
    const fleet = await startFleet();
    cleanups.push(() => fleet.stop());
    const dir = tempDir();
    const cfg = join(dir, 'a.yaml');
    const yaml = (sensor: string, extra = '') => `
device: { id: hup-01 }
broker: { enabled: false }
sources: [ { type: simulated, sensors: [ { id: ${sensor}, rateHz: 20 } ] } ]
pipelines: [ { match: ["**"], window: { type: tumbling, size: 500ms } } ]
uplink: { url: "${fleet.url}" }
storage: { path: ./o.db }
http: { enabled: false }
${extra}`;
    writeFileSync(cfg, yaml('sim/before'));
    const p = start(['run', '--config', cfg]);
    cleanups.push(async () => p.child.kill('SIGKILL'));
    await waitFor('summaries of the first config', () => fleet.received.some((m) => m.json?.sensor === 'sim/before'), 15_000);

    writeFileSync(cfg, yaml('sim/broken', 'pipelines: oops'));
    p.child.kill('SIGHUP');
    await waitFor('the refusal logged', () => p.output().includes('SIGHUP: the new config has problems; keeping the running one'), 10_000);
    const seen = fleet.received.length;
    await waitFor('still running the first config', () => fleet.received.length > seen + 2, 10_000);

    writeFileSync(cfg, yaml('sim/after'));
    p.child.kill('SIGHUP');
    await waitFor('summaries of the new config', () => fleet.received.some((m) => m.json?.sensor === 'sim/after'), 15_000);
    p.child.kill('SIGTERM');
    const r = await p.done;
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('SIGHUP: config checked; restarting the pipeline on it');
    // ids go on rising across the reload: the outbox and its counter were kept
    const seqs = fleet.ids().map((id) => Number(id.split(':')[1]));
    expect(new Set(seqs).size).toBe(seqs.length);
  }, 60_000);
});
