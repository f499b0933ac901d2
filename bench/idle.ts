// The agent at idle over minutes, not one: 10 simulated sensors at 1 Hz, 1 s windows (a summary
// per sensor a second), the journal and ack-after-commit on (defaults), the systemd unit's V8
// flags. The soak is the same at 100 sensors x 10 Hz (1,000 readings/s) for an hour. Samples its CPU time, RSS and bytes written from /proc every 10 s after a 20 s warm-up,
// and reports CPU % of one core over the whole run and per minute, RSS (first, median, last,
// max: flat or growing?) and disk writes per hour. `env` adds environment variables (e.g.
// MALLOC_ARENA_MAX=2), `flags` replaces the V8 flags.
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFleet } from '../test/helpers/fleet.js';
import { CLK_TCK, sample } from './disk-writes.js';

export interface IdleResult {
  label: string;
  minutes: number;
  cpuPercent: number;
  cpuPerMinute: number[];
  rssMB: { first: number; median: number; last: number; max: number };
  /** Every sample, MB. */
  rss: number[];
  writeMBPerHour: number;
}

export const UNIT_FLAGS = ['--max-semi-space-size=2'];

export async function benchIdle(o: { label: string; minutes: number; flags?: string[]; env?: Record<string, string>; sensors?: number; rateHz?: number }): Promise<IdleResult> {
  const fleet = await startFleet();
  const dir = mkdtempSync(join(tmpdir(), 'outpost-idle-'));
  const sensors = Array.from({ length: o.sensors ?? 10 }, (_, i) => `{ id: room/t${i}, rateHz: ${o.rateHz ?? 1} }`).join(', ');
  writeFileSync(join(dir, 'agent.yaml'), `
device: { id: idle }
broker: { enabled: false }
sources: [ { type: simulated, sensors: [ ${sensors} ] } ]
pipelines: [ { match: ["**"], window: { type: tumbling, size: 1s } } ]
uplink: { url: "${fleet.url}" }
storage: { path: ./outpost.db }
http: { enabled: false }
log: { level: warn }
`);
  const agent = spawn(process.execPath, [...(o.flags ?? UNIT_FLAGS), 'dist/cli/main.js', 'run', '--config', join(dir, 'agent.yaml')], { stdio: 'inherit', env: { ...process.env, ...o.env } });
  await new Promise((r) => setTimeout(r, 20_000));
  const samples = [sample(agent.pid!)];
  const end = Date.now() + o.minutes * 60_000;
  while (Date.now() < end) {
    await new Promise((r) => setTimeout(r, 10_000));
    samples.push(sample(agent.pid!));
  }
  agent.kill('SIGTERM');
  await new Promise((r) => agent.once('exit', r));
  await fleet.stop();
  const [a, b] = [samples[0]!, samples.at(-1)!];
  const seconds = (b.at - a.at) / 1000;
  const cpu = (x: typeof a, y: typeof a) => Math.round(((y.cpuTicks - x.cpuTicks) / CLK_TCK / ((y.at - x.at) / 1000)) * 1000) / 10;
  const perMinute: number[] = [];
  for (let i = 6; i < samples.length; i += 6) perMinute.push(cpu(samples[i - 6]!, samples[i]!));
  const rss = samples.map((s) => s.rssMB);
  const r1 = (x: number) => Math.round(x * 10) / 10;
  return {
    label: o.label,
    minutes: o.minutes,
    cpuPercent: cpu(a, b),
    cpuPerMinute: perMinute,
    rss: rss.map(r1),
    rssMB: { first: r1(rss[0]!), median: r1([...rss].sort((x, y) => x - y)[Math.floor(rss.length / 2)]!), last: r1(rss.at(-1)!), max: r1(Math.max(...rss)) },
    writeMBPerHour: Math.round((((b.written - a.written) / seconds) * 3600) / 1e6 * 10) / 10,
  };
}
