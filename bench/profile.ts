// `npm run bench -- profile`: a CPU profile of the agent flat out (the end-to-end ingest bench:
// 100 sensors, JSON over MQTT, journal on), written to .tmp/profile/*.cpuprofile (open it in
// Chrome DevTools or speedscope), and a summary of the functions with the most self time, so
// anyone can repeat the measurement behind a change to the hot path.
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { benchIngest } from './ingest.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Self time per function (name, file:line), largest first, as shares of all samples. */
export function selfTimes(p: Profile, top = 20): Array<{ share: number; fn: string; where: string }> {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  let total = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const n = byId.get(p.samples[i]!)!;
    const where = n.callFrame.url ? `${n.callFrame.url.replace(/^.*\/(node_modules|dist)\//, '$1/')}:${n.callFrame.lineNumber + 1}` : '';
    const key = `${n.callFrame.functionName || '(anonymous)'}\t${where}`;
    const dt = p.timeDeltas[i] ?? 0;
    self.set(key, (self.get(key) ?? 0) + dt);
    total += dt;
  }
  return [...self]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([k, v]) => {
      const [fn, where] = k.split('\t');
      return { share: v / total, fn: fn!, where: where! };
    });
}

export async function benchProfile(seconds = 10): Promise<{ file: string; summary: string; ratePerS: number }> {
  const dir = resolve('.tmp/profile');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const r = await benchIngest({ sensors: 100, seconds, nodeFlags: ['--cpu-prof', `--cpu-prof-dir=${dir}`] });
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error(`no profile written in ${dir} (did the agent exit cleanly?)`);
  const rows = selfTimes(JSON.parse(readFileSync(join(dir, file), 'utf8')) as Profile);
  const summary = [
    `agent flat out: ${r.ratePerS.toLocaleString('en')} readings/s (100 sensors, JSON over MQTT, journal on, ${seconds} s; profiling slows it)`,
    '| self time | function | where |',
    '|---|---|---|',
    ...rows.map((x) => `| ${(x.share * 100).toFixed(1)}% | ${x.fn} | ${x.where} |`),
  ].join('\n');
  writeFileSync(join(dir, 'summary.md'), `${summary}\n`);
  return { file: join(dir, file), summary, ratePerS: r.ratePerS };
}
