// Power cuts, simulated for real: the agent's database lives on a FUSE file system
// (test/powercut/powercut-fs.py) that keeps every write not yet fsync'ed in memory only. A cut
// is SIGKILL to the agent, then every unsynced write dropped (as a power cut drops the page
// cache), an unmount and a fresh mount; then the agent starts again on what the "disk" kept.
// While a sensor publishes at QoS 1, many times. Afterwards: the file never needed salvage,
// every acknowledged reading is in the summaries, no window twice, ids contiguous
// (test/helpers/crash-verdict.ts). With storage.synchronous: normal this test fails (tried:
// ids reused after a cut).
import { afterAll, describe, expect, it } from 'vitest';
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/agent-config.js';
import { crashAgentYaml, crashRun, onePerSensor } from '../helpers/crash-run.js';
import { crashVerdict } from '../helpers/crash-verdict.js';
import { mountPowerCutFs, powerCutMissing } from '../helpers/powercut-fs.js';
import { seededRandom } from '../../src/sources/simulated/signal.js';

const CUTS = 20;
const WINDOW_MS = 500;
const SENSORS = ['pc/a', 'pc/b', 'pc/c', 'pc/d'];
const missing = powerCutMissing();
if (missing) console.error(`\n!!! POWER-CUT TEST NOT RUN: ${missing}. It needs /dev/fuse, fuse3 and python3-fusepy (.ci/run installs the packages).\n`);

const cleanups: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
});

describe('power cuts (a FUSE file system that drops unsynced writes)', () => {
  it.skipIf(missing !== undefined)(`loses no acknowledged reading and needs no salvage over ${CUTS} cuts`, async () => {
    const disk = tempDir();
    const backing = join(disk, 'backing');
    const mnt = join(disk, 'mnt');
    mkdirSync(backing);
    mkdirSync(mnt);
    const fs = await mountPowerCutFs(backing, mnt);
    cleanups.push(() => fs.unmount());
    const reports: string[] = [];
    const random = seededRandom(1959);
    const run = await crashRun({
      yaml: (port, fleetUrl) => crashAgentYaml({ device: 'power-01', port, fleetUrl, windowMs: WINDOW_MS, storage: `path: ${join(mnt, 'outpost.db')}, checkpointInterval: 1s` }),
      publishers: 1,
      turnMs: 10,
      turn: onePerSensor(SENSORS, random),
      // The power cut: the agent is already dead; drop what the disk had not synced, remount.
      afterKill: async () => {
        reports.push(await fs.cut());
        await fs.remount();
      },
      cleanups,
    });
    for (let i = 0; i < CUTS; i++) await run.instance(i, 400 + Math.floor(random() * 1200), true);
    expect((await run.finish(CUTS, 1000, 2 * WINDOW_MS + 1500)).code).toBe(0);

    expect(run.killed.size).toBe(CUTS);
    // The cuts really dropped data: most of them caught writes that were not yet fsync'ed.
    const dropped = reports.map((r) => Number(/dropped (\d+) bytes/.exec(r)?.[1] ?? 0));
    expect(dropped.filter((n) => n > 0).length, `cut reports: ${reports.join(' | ')}`).toBeGreaterThan(CUTS / 2);
    // The file opened without salvage every time: nothing set aside, no "damaged" in any log.
    expect(readdirSync(backing).filter((f) => f.includes('.corrupt-'))).toEqual([]);
    expect(run.outputs.filter((o) => /damaged|salvag/i.test(o))).toEqual([]);
    const v = crashVerdict(run.fleet.received, run.sent, run.killed, WINDOW_MS);
    expect(v.exact).toBeGreaterThan(20);
    console.log(`power-cut test: ${CUTS} cuts (${dropped.filter((n) => n > 0).length} dropped unsynced writes, median ${[...dropped].sort((a, b) => a - b)[CUTS >> 1]} bytes), ${run.sent.length} readings sent, ${v.acked} acknowledged (all in the summaries), ${v.unacked} unacknowledged at a cut (${v.unackedKept} kept), ${v.summaries} summaries (${v.exact} exact, ${v.withRisk} with unacknowledged readings), ${v.duplicates} duplicate deliveries`);
  }, 300_000);
});
