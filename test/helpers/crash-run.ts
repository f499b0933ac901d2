// The shared loop of the crash tests (SIGKILL, SIGKILL at the design rate, power cut): a real
// agent process on one database, QoS 1 publishers, and a kill from a timer while they publish,
// so readings are in flight (received, not yet committed or acknowledged) when it dies. Then a
// last instance that stops cleanly once every window has closed. What was sent, and which
// instances were killed, go to crashVerdict().
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { start, type Finished } from './cli.js';
import { tempDir } from './agent-config.js';
import { startFleet, type Fleet } from './fleet.js';
import { freePort } from './ports.js';
import { waitFor } from './wait.js';
import type { Sent } from './crash-verdict.js';

export interface CrashRunOptions {
  /** The agent's YAML, given the broker port and the fleet URL (storage.path relative to the run's dir). */
  yaml: (port: number, fleetUrl: string) => string;
  publishers: number;
  /** One publishing turn: publish what is due, push each reading to `sent`, set ackedAt on its PUBACK. */
  turn: (t: { clients: MqttClient[]; instance: number; startedAt: number; sent: Sent[] }) => void;
  turnMs: number;
  /** After a killed instance has exited (the power-cut test drops unsynced writes here). */
  afterKill?: () => Promise<void>;
  cleanups: Array<() => Promise<unknown>>;
}

export interface CrashRun {
  fleet: Fleet;
  dir: string;
  sent: Sent[];
  killed: Set<number>;
  /** Milliseconds spent publishing, over all instances. */
  publishingMs: number;
  /** Each instance's stderr, in order. */
  outputs: string[];
  /** Runs one instance for `lifeMs`; killed with SIGKILL at its end when `kill`. */
  instance(n: number, lifeMs: number, kill: boolean): Promise<void>;
  /** The last instance: publishes for `lifeMs`, waits `settleMs` for windows to close, stops with SIGTERM. */
  finish(n: number, lifeMs: number, settleMs: number): Promise<Finished>;
}

export async function crashRun(o: CrashRunOptions): Promise<CrashRun> {
  const fleet = await startFleet();
  o.cleanups.push(() => fleet.stop());
  const dir = tempDir();
  const port = await freePort();
  const config = join(dir, 'agent.yaml');
  writeFileSync(config, o.yaml(port, fleet.url));

  const launch = async (n: number, lifeMs: number, kill: boolean) => {
    const agent = start(['run', '--config', config]);
    o.cleanups.push(async () => agent.child.kill('SIGKILL'));
    const clients: MqttClient[] = [];
    await waitFor('agent accepting connections', async () => {
      if (agent.child.exitCode !== null) throw new Error(`agent exited (${agent.child.exitCode}): ${agent.output().slice(-2000)}`);
      const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0, connectTimeout: 500 }).catch(() => undefined);
      if (c) clients.push(c);
      return c !== undefined;
    }, 30_000).catch((err: Error) => {
      throw new Error(`${err.message}; the agent said: ${agent.output().slice(-2000)}`);
    });
    for (let p = 1; p < o.publishers; p++) clients.push(await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0 }));
    for (const c of clients) c.on('error', () => undefined);
    let dead = false;
    if (kill) {
      setTimeout(() => {
        dead = true;
        run.killed.add(n);
        agent.child.kill('SIGKILL');
      }, lifeMs);
    }
    const startedAt = Date.now();
    while (!dead && clients.every((c) => c.connected) && (kill || Date.now() - startedAt < lifeMs)) {
      o.turn({ clients, instance: n, startedAt, sent: run.sent });
      await new Promise((r) => setTimeout(r, o.turnMs));
    }
    run.publishingMs += Date.now() - startedAt;
    return { agent, clients };
  };

  const run: CrashRun = {
    fleet,
    dir,
    sent: [],
    killed: new Set(),
    publishingMs: 0,
    outputs: [],
    async instance(n, lifeMs, kill) {
      const { agent, clients } = await launch(n, lifeMs, kill);
      if (!kill) return;
      run.outputs.push((await agent.done).stderr);
      for (const c of clients) c.end(true);
      await o.afterKill?.();
    },
    async finish(n, lifeMs, settleMs) {
      const { agent, clients } = await launch(n, lifeMs, false);
      for (const c of clients) await c.endAsync();
      await new Promise((r) => setTimeout(r, settleMs));
      agent.child.kill('SIGTERM');
      const done = await agent.done;
      run.outputs.push(done.stderr);
      return done;
    },
  };
  return run;
}

/** The crash tests' agent: one tumbling-window pipeline over everything, the embedded broker, no HTTP. */
export function crashAgentYaml(o: { device: string; port: number; fleetUrl: string; windowMs: number; storage: string; detectors?: string }): string {
  return `
device: { id: ${o.device} }
broker: { host: 127.0.0.1, port: ${o.port} }
sources: [ { type: mqtt, topic: "sensors/#" } ]
pipelines:
  - match: ["**"]
    window: { type: tumbling, size: ${o.windowMs}ms }
    aggregates: [count, min, max, mean, stddev, first, last]
    detectors: ${o.detectors ?? '[]'}
uplink: { url: "${o.fleetUrl}", reconnect: { min: 100ms, max: 300ms } }
storage: { ${o.storage} }
http: { enabled: false }
log: { level: warn }
`;
}

/** A turn that publishes one reading (0..99, event time now) per sensor on `sensors/<sensor>` from the first client. */
export function onePerSensor(sensors: readonly string[], random: () => number): CrashRunOptions['turn'] {
  let order = 0;
  return ({ clients, instance, sent }) => {
    for (const sensor of sensors) {
      const s: Sent = { sensor, ts: Date.now(), value: Math.floor(random() * 100), order: order++, instance };
      sent.push(s);
      clients[0]!.publish(`sensors/${sensor}`, JSON.stringify({ value: s.value, ts: s.ts }), { qos: 1 }, (err) => {
        if (!err) s.ackedAt = Date.now();
      });
    }
  };
}
