// What the agent costs the SD card, and the knobs that trade write volume for what a power cut
// may lose: the agent runs as its own process (the built CLI) with simulated sensors, and the
// bytes it caused to be written to storage are read from /proc/<pid>/io (write_bytes) over a
// measured interval after a warm-up, with its CPU time (/proc/<pid>/stat) and RSS.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFleet } from '../test/helpers/fleet.js';

export interface DiskWriteResult {
  label: string;
  readingsPerS: number;
  writeMBPerHour: number;
  cpuPercent: number;
  rssMB: number;
}

export const CLK_TCK = 100;

export function sample(pid: number) {
  const io = readFileSync(`/proc/${pid}/io`, 'utf8');
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return {
    written: Number(/write_bytes:\s+(\d+)/.exec(io)![1]),
    cpuTicks: Number(stat[11]) + Number(stat[12]), // utime + stime
    rssMB: Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024,
    at: Date.now(),
  };
}

export async function benchDiskWrites(o: { label: string; sensors: number; rateHz: number; storage?: string; window?: string; warmS?: number; measureS?: number }): Promise<DiskWriteResult> {
  const fleet = await startFleet();
  const dir = mkdtempSync(join(tmpdir(), 'outpost-disk-'));
  const sensors = Array.from({ length: o.sensors }, (_, i) => `{ id: room/t${i}, rateHz: ${o.rateHz} }`).join(', ');
  writeFileSync(join(dir, 'agent.yaml'), `
device: { id: disk }
broker: { enabled: false }
sources: [ { type: simulated, sensors: [ ${sensors} ] } ]
pipelines: [ { match: ["**"], window: { type: tumbling, size: ${o.window ?? '60s'} }, detectors: [ { type: zscore, threshold: 6 } ] } ]
uplink: { url: "${fleet.url}" }
storage: { path: ./outpost.db${o.storage ? `, ${o.storage}` : ''} }
http: { enabled: false }
log: { level: warn }
`);
  const agent = spawn(process.execPath, ['--max-semi-space-size=2', 'dist/cli/main.js', 'run', '--config', join(dir, 'agent.yaml')], { stdio: 'inherit' });
  await new Promise((r) => setTimeout(r, (o.warmS ?? 10) * 1000));
  const a = sample(agent.pid!);
  await new Promise((r) => setTimeout(r, (o.measureS ?? 30) * 1000));
  const b = sample(agent.pid!);
  agent.kill('SIGTERM');
  await new Promise((r) => agent.once('exit', r));
  await fleet.stop();
  const seconds = (b.at - a.at) / 1000;
  return {
    label: o.label,
    readingsPerS: o.sensors * o.rateHz,
    writeMBPerHour: Math.round((((b.written - a.written) / seconds) * 3600) / 1e6 * 10) / 10,
    cpuPercent: Math.round(((b.cpuTicks - a.cpuTicks) / CLK_TCK / seconds) * 1000) / 10,
    rssMB: Math.round(b.rssMB * 10) / 10,
  };
}
