// A real agent process for the protocol fuzzer: the built `outpost run`, with the node flags of
// systemd/outpost.service and the shipped broker
// defaults (no auth, 0.0.0.0 replaced by loopback), a fleet broker that records what arrives,
// and the checks made after every round: alive, /healthz 200, a well-behaved sensor's reading
// upstream, memory.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { startFleet, type Fleet } from '../helpers/fleet.js';
import { freePort } from '../helpers/ports.js';
import { tempDir } from '../helpers/agent-config.js';
import { waitFor } from '../helpers/wait.js';
import { afterAll, beforeAll } from 'vitest';

export interface AgentProcess {
  brokerPort: number;
  httpPort: number;
  fleet: Fleet;
  child: ChildProcess;
  log(): string;
  /** Resident set size in MB (from /proc). */
  rssMb(): number;
  /** Throws unless the agent is alive, healthy, and still carries a sensor's reading upstream. */
  check(what: string): Promise<void>;
  stop(): Promise<void>;
}

let probes = 0;

export async function startAgentProcess(): Promise<AgentProcess> {
  const fleet = await startFleet();
  const dir = tempDir('outpost-fuzz-');
  const [brokerPort, httpPort] = [await freePort(), await freePort()];
  const config = join(dir, 'agent.yaml');
  writeFileSync(config, `device: { id: fz }
broker: { host: 127.0.0.1, port: ${brokerPort} }
sources: [ { type: mqtt, topic: "sensors/#", format: auto } ]
pipelines:
  - match: ["probe/**"]
    window: { type: count, size: 1 }
    aggregates: [count, mean]
  - match: ["**"]
    window: { type: tumbling, size: 2s, lateness: 1s }
    aggregates: [count, min, max, mean]
    detectors: [ { type: zscore } ]
uplink: { url: "${fleet.url}", maxRate: 0 }
storage: { path: ./o.db, maxBytes: 16MB }
http: { host: 127.0.0.1, port: ${httpPort} }
`);
  let output = '';
  const child = spawn(process.execPath, ['--max-semi-space-size=2', 'dist/cli/main.js', 'run', '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (d) => (output = (output + d).slice(-200_000)));
  child.stderr!.on('data', (d) => (output = (output + d).slice(-200_000)));
  const healthz = async () => {
    try {
      return (await fetch(`http://127.0.0.1:${httpPort}/healthz`, { signal: AbortSignal.timeout(2000) })).status;
    } catch {
      return 0;
    }
  };
  await waitFor('the agent serving', async () => (await healthz()) === 200, 20_000);
  const p: AgentProcess = {
    brokerPort,
    httpPort,
    fleet,
    child,
    log: () => output,
    rssMb() {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
      return Number(m![1]) / 1024;
    },
    async check(what) {
      const dead = () => (child.exitCode !== null || child.signalCode !== null ? `the agent died (${child.exitCode ?? child.signalCode}) after ${what}:\n${output.slice(-3000)}` : undefined);
      if (dead()) throw new Error(dead());
      const status = await healthz();
      if (status !== 200) throw new Error(`/healthz answered ${status} after ${what}`);
      const sensor = `probe/p${++probes}`;
      const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${brokerPort}`, { reconnectPeriod: 0, connectTimeout: 5000 });
      try {
        await c.publishAsync(`sensors/${sensor}`, '21.5', { qos: 1 });
      } finally {
        await c.endAsync(true);
      }
      await waitFor(`a sensor's reading upstream after ${what}`, () => fleet.received.some((r) => r.topic === `outpost/fz/summary/${sensor}`), 10_000);
      if (dead()) throw new Error(dead());
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      await fleet.stop();
    },
  };
  return p;
}

/**
 * One agent process for the whole test file: started (and checked) before its tests, stopped
 * after them; `idleMb` is its RSS once started, before any test ran.
 */
export function agentProcessPerFile(): { readonly agent: AgentProcess; readonly idleMb: number } {
  const suite = { agent: undefined as unknown as AgentProcess, idleMb: 0 };
  beforeAll(async () => {
    suite.agent = await startAgentProcess();
    await suite.agent.check('start');
    suite.idleMb = suite.agent.rssMb();
  }, 30_000);
  afterAll(async () => suite.agent?.stop());
  return suite;
}
