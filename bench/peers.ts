// Outpost against its peers on one job, on this machine: 100 sensors publish JSON readings
// {"value","ts"} at QoS 0 to the system's own MQTT broker; 1 s tumbling windows per sensor with
// count, min, max, mean and stddev; one summary per sensor and window to an upstream broker
// (this process, counting). The systems, each its own process, in alternating runs:
// - outpost: the built CLI with the systemd unit's V8 flags, journal and ack-after-commit on
//   (the defaults), windows by event time;
// - nodered: Node-RED 4 installed from npm into .tmp/peers (once), headless, its own broker
//   inside it (node-red-contrib-aedes), `mqtt in` -> a function node keeping the windows ->
//   `mqtt out` (bench/peers/nodered/);
// - ceiling: bench/peers/ceiling.mjs, aedes + windows + mqtt.js in ~90 lines, no storage: what
//   a hand-written Node agent can do at best.
// Each run measures: the first summary after start with 10 sensors already trying to connect
// and publishing at 10 Hz (1 s windows: about half a second of it is waiting for the first
// window to end); flat out (one publisher, batches of 1,000 as fast as the socket takes them,
// 8 s): readings summarized upstream per second from the 3rd to the 8th second, and what was
// lost once everything settled; CPU % of one core and RSS at 20,000 readings/s (paced, 10 s
// measured after 2 s).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { freePort } from '../test/helpers/ports.js';
import { startEmbeddedBroker } from '../src/broker/embedded-broker.js';
import { silentLogger } from '../src/ops/logger.js';
import { CLK_TCK, sample } from './disk-writes.js';
import { UNIT_FLAGS } from './idle.js';

export type PeerSystem = 'outpost' | 'nodered' | 'ceiling';

export interface PeerRun {
  system: PeerSystem;
  firstSummaryMs: number;
  flatOut: { published: number; summarized: number; readingsPerS: number; lost: number; rssMaxMB: number };
  at20k: { cpuPercent: number; rssMB: number; summarized: number; published: number };
}

const NODE_RED = '.tmp/peers/nodered';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Node-RED 4.1.8 and node-red-contrib-aedes 0.6.0 into .tmp/peers (Node-RED 5 needs Node 22). */
export function ensureNodeRed(): string {
  const dir = resolve(NODE_RED);
  if (!existsSync(join(dir, 'node_modules/node-red/red.js'))) {
    mkdirSync(join(dir, 'userdir'), { recursive: true });
    writeFileSync(join(dir, 'package.json'), '{"name":"peers-nodered","private":true}\n');
    writeFileSync(join(dir, 'userdir/package.json'), '{"name":"node-red-project","private":true}\n');
    console.log('installing Node-RED 4.1.8 and node-red-contrib-aedes 0.6.0 into .tmp/peers (once)...');
    execFileSync('npm', ['install', '--no-audit', '--no-fund', 'node-red@4.1.8'], { cwd: dir, stdio: 'inherit' });
    execFileSync('npm', ['install', '--no-audit', '--no-fund', 'node-red-contrib-aedes@0.6.0'], { cwd: join(dir, 'userdir'), stdio: 'inherit' });
  }
  execFileSync(process.execPath, ['bench/peers/nodered/make-flows.cjs', join(dir, 'flows.json')]);
  return dir;
}

function startSystem(system: PeerSystem, port: number, upstreamPort: number): ChildProcess {
  const env = { ...process.env, MQTT_HOST: '127.0.0.1', MQTT_PORT: String(port), UPSTREAM_HOST: '127.0.0.1', UPSTREAM_PORT: String(upstreamPort), UPSTREAM_QOS: '1' };
  if (system === 'ceiling') return spawn(process.execPath, ['bench/peers/ceiling.mjs'], { env, stdio: 'inherit' });
  if (system === 'nodered') {
    const dir = resolve(NODE_RED);
    return spawn('sh', ['bench/peers/nodered/run-nodered.sh'], { env: { ...env, NODE_RED_DIR: dir, NODE_RED_USER_DIR: join(dir, 'userdir'), NODE_RED_FLOW_FILE: join(dir, 'flows.json') }, stdio: 'inherit' });
  }
  const dir = mkdtempSync(join(tmpdir(), 'outpost-peers-'));
  writeFileSync(join(dir, 'agent.yaml'), `
device: { id: bench }
broker: { host: 127.0.0.1, port: ${port}, maxMessageRate: 0 }
sources: [ { type: mqtt, topic: "sensors/#" } ]
pipelines: [ { match: ["**"], window: { type: tumbling, size: 1s }, aggregates: [count, min, max, mean, stddev] } ]
uplink: { url: "mqtt://127.0.0.1:${upstreamPort}", maxRate: 0 }
storage: { path: ./outpost.db }
http: { enabled: false }
log: { level: warn }
`);
  return spawn(process.execPath, [...UNIT_FLAGS, 'dist/cli/main.js', 'run', '--config', join(dir, 'agent.yaml')], { env, stdio: 'inherit' });
}

/** Sum of `count` in the summaries of the bench's 100 sensors upstream, and when the first summary (any) arrived. */
interface Upstream {
  readonly counted: number;
  firstAt: number | undefined;
  close(): Promise<void>;
  port: number;
}

async function startUpstream(): Promise<Upstream> {
  const broker = await startEmbeddedBroker({ host: '127.0.0.1', port: 0, log: silentLogger(), allowAnonymousWildcards: true });
  const u = {
    counted: 0,
    firstAt: undefined as number | undefined,
    port: broker.port,
    close: () => broker.close(),
  };
  await broker.subscribe('outpost/bench/summary/#', (t, payload) => {
    u.firstAt ??= Date.now();
    if (t.startsWith('outpost/bench/summary/bench/')) u.counted += (JSON.parse(payload.toString()) as { count: number }).count;
  });
  return u;
}

const payload = (i: number) => `{"value":${i % 97},"ts":${Date.now()}}`;

/** One system, started fresh: the three measurements. */
export async function runPeer(system: PeerSystem): Promise<PeerRun> {
  const up = await startUpstream();
  const port = await freePort();
  const started = Date.now();
  const child = startSystem(system, port, up.port);
  const exited = new Promise((r) => child.once('exit', r));
  try {
    // 10 sensors waiting: connecting every 50 ms until the broker takes them, then 10 Hz each.
    const waiting = Array.from({ length: 10 }, (_, i) => {
      const c = mqtt.connect(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 50, connectTimeout: 1000 });
      c.on('error', () => undefined);
      const t = setInterval(() => c.connected && c.publish(`sensors/wait/s${i}`, payload(i), { qos: 0 }), 100);
      return { c, t };
    });
    while (up.firstAt === undefined && Date.now() - started < 30_000) await sleep(5);
    const firstSummaryMs = (up.firstAt ?? NaN) - started;
    for (const w of waiting) clearInterval(w.t);
    await Promise.all(waiting.map((w) => w.c.endAsync()));
    await sleep(1500);

    const pub: MqttClient = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { protocolVersion: 4 });
    const topics = Array.from({ length: 100 }, (_, i) => `sensors/bench/s${i}`);
    const settle = async (target: number, maxMs: number) => {
      const t0 = Date.now();
      while (up.counted < target && Date.now() - t0 < maxMs) await sleep(20);
    };

    // Flat out: batches of 1,000 as fast as the socket takes them, for 8 s; the rate is what
    // reached the upstream broker summarized from the 3rd to the 8th second (steady, and not
    // counting how long a system holds its last summaries before sending them).
    const base = up.counted;
    let published = 0;
    let rssMax = 0;
    const t0 = Date.now();
    let at3: { t: number; n: number } | undefined;
    while (Date.now() - t0 < 8000) {
      if (!at3 && Date.now() - t0 >= 3000) at3 = { t: Date.now(), n: up.counted };
      let last: Promise<void> = Promise.resolve();
      for (let i = 0; i < 1000; i++) {
        const n = published + i;
        last = new Promise<void>((r) => pub.publish(topics[n % 100]!, payload(n), { qos: 0 }, () => r()));
      }
      published += 1000;
      await last;
      if (published % 20_000 === 0) rssMax = Math.max(rssMax, sample(child.pid!).rssMB);
    }
    const at8 = { t: Date.now(), n: up.counted };
    // Until every reading is summarized (or 60 s pass: then what is missing is lost).
    await settle(base + published, 60_000);
    rssMax = Math.max(rssMax, sample(child.pid!).rssMB);
    const summarized = up.counted - base;
    const flatOut = { published, summarized, readingsPerS: Math.round(((at8.n - at3!.n) * 1000) / (at8.t - at3!.t)), lost: published - summarized, rssMaxMB: Math.round(rssMax) };
    await sleep(1500);

    // Paced at 20,000 readings/s: 2 s to settle in, 10 s measured.
    const base20 = up.counted;
    let sent = 0;
    const p0 = Date.now();
    let a: ReturnType<typeof sample> | undefined;
    while (Date.now() - p0 < 12_000) {
      const due = p0 + (sent / 20_000) * 1000;
      if (due > Date.now()) await sleep(due - Date.now());
      if (!a && Date.now() - p0 >= 2000) a = sample(child.pid!);
      for (let i = 0; i < 200; i++) pub.publish(topics[(sent + i) % 100]!, payload(sent + i), { qos: 0 });
      sent += 200;
    }
    const b = sample(child.pid!);
    await settle(base20 + sent, 20_000);
    const at20k = { cpuPercent: Math.round(((b.cpuTicks - a!.cpuTicks) / CLK_TCK / ((b.at - a!.at) / 1000)) * 1000) / 10, rssMB: Math.round(b.rssMB), summarized: up.counted - base20, published: sent };
    await pub.endAsync();
    return { system, firstSummaryMs, flatOut, at20k };
  } finally {
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(killer);
    await up.close();
  }
}

const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;

/** `rounds` alternating runs of each system; the table and the ratios, medians. */
export async function benchPeers(rounds = 3, systems: PeerSystem[] = ['outpost', 'nodered', 'ceiling']): Promise<PeerRun[]> {
  if (systems.includes('nodered')) ensureNodeRed();
  const runs: PeerRun[] = [];
  for (let r = 0; r < rounds; r++) {
    for (const s of systems) {
      const run = await runPeer(s);
      console.log(JSON.stringify(run));
      runs.push(run);
    }
  }
  console.log(`\npeers: 100 sensors, JSON at QoS 0, 1 s windows (count/min/max/mean/stddev), summaries upstream at QoS 1; ${rounds} alternating runs, medians`);
  console.log('| system | flat out: readings/s summarized | lost | RSS max MB | CPU % of a core at 20,000/s | RSS MB at 20,000/s | first summary after start, ms |\n|---|---|---|---|---|---|---|');
  const m = new Map<PeerSystem, { rate: number; cpu: number }>();
  for (const s of systems) {
    const mine = runs.filter((x) => x.system === s);
    const row = { rate: median(mine.map((x) => x.flatOut.readingsPerS)), cpu: median(mine.map((x) => x.at20k.cpuPercent)) };
    m.set(s, row);
    console.log(`| ${s} | ${row.rate.toLocaleString('en')} | ${mine.map((x) => x.flatOut.lost).join(', ')} | ${median(mine.map((x) => x.flatOut.rssMaxMB))} | ${row.cpu} | ${median(mine.map((x) => x.at20k.rssMB))} | ${median(mine.map((x) => x.firstSummaryMs))} |`);
  }
  const o = m.get('outpost');
  if (o) {
    for (const s of systems.filter((x) => x !== 'outpost')) {
      const p = m.get(s)!;
      console.log(`outpost / ${s}: throughput ${(o.rate / p.rate).toFixed(2)}x, CPU at 20,000/s ${(o.cpu / p.cpu).toFixed(2)}x`);
    }
  }
  return runs;
}
