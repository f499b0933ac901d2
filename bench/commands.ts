// Remote commands through a real Mosquitto: a `ping` round trip fleet -> agent -> fleet (from
// the POST to the reply projected in the fleet's read model; sequential, median and p95), and
// N devices commanded at once (all reply; time until the last reply). The agents run in this
// process (each with its own SQLite store and uplink connection), as do the fleet service.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startMosquitto } from '../test/helpers/mosquitto.js';
import { testConfig } from '../test/helpers/agent-config.js';
import { createAgent } from '../src/agent/agent.js';
import type { Agent } from '../src/agent/agent-types.js';
import { silentLogger } from '../src/ops/logger.js';
import { startFleetService } from '../src/fleet/fleet-service.js';
import { fleetConfigSchema } from '../src/fleet/fleet-config.js';

export interface CommandsBench {
  pingMedianMs: number;
  pingP95Ms: number;
  pings: number;
  devices: number;
  allRepliedMs: number;
  replied: number;
}

const agentYaml = (id: string, url: string) => `
device: { id: ${id} }
broker: { enabled: false }
sources: [ { type: simulated, sensors: [ { id: sim/t, rateHz: 1 } ] } ]
pipelines: [ { match: ["**"], window: { type: tumbling, size: 60s } } ]
uplink: { url: "${url}", reconnect: { min: 100ms, max: 1s } }
storage: { path: ./a.db }
http: { enabled: false }
`;

export async function benchCommands(o: { devices: number; pings: number }): Promise<CommandsBench> {
  const broker = await startMosquitto({ extra: process.env.COMMAND_MOSQUITTO ? process.env.COMMAND_MOSQUITTO.split(';') : [] });
  const dir = mkdtempSync(join(tmpdir(), 'outpost-cmd-bench-'));
  const fleet = await startFleetService(fleetConfigSchema.parse({ broker: { url: broker.url, clientId: 'fleet-bench' }, store: { path: join(dir, 'fleet.db') }, http: { port: 0 } }), silentLogger());
  const agents: Agent[] = [];
  try {
    for (let i = 0; i < o.devices; i++) {
      const id = `bench-${String(i).padStart(3, '0')}`;
      const a = createAgent({ config: testConfig(agentYaml(id, broker.url), mkdtempSync(join(dir, `${id}-`))), log: silentLogger() });
      await a.start();
      agents.push(a);
    }
    const base = `http://127.0.0.1:${fleet.httpPort}`;
    // The fleet knows a device once it has heard from it: its first health (every 15 s).
    const deadline = Date.now() + 60_000;
    while (((await (await fetch(`${base}/api/devices`)).json()) as unknown[]).length < o.devices && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    const send = async (device: string) => ((await (await fetch(`${base}/api/devices/${device}/commands`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"ping"}' })).json()) as { id: string }).id;
    const final = async (ids: string[], timeoutMs: number) => {
      const end = Date.now() + timeoutMs;
      for (;;) {
        const rows = await fleet.store.db.all<{ id: string }>(`SELECT id FROM commands WHERE state = 'done' AND id IN (${ids.map(() => '?').join(',')})`, ids);
        if (rows.length === ids.length || Date.now() > end) return rows.length;
        await new Promise((r) => setTimeout(r, 1));
      }
    };
    const rtts: number[] = [];
    for (let i = 0; i < o.pings; i++) {
      const t = performance.now();
      const id = await send('bench-000');
      await final([id], 10_000);
      rtts.push(performance.now() - t);
    }
    rtts.sort((a, b) => a - b);
    const t = performance.now();
    const ids = await Promise.all(agents.map((_, i) => send(`bench-${String(i).padStart(3, '0')}`)));
    const replied = await final(ids, 60_000);
    const allRepliedMs = performance.now() - t;
    return { pingMedianMs: Math.round(rtts[Math.floor(rtts.length / 2)]! * 10) / 10, pingP95Ms: Math.round(rtts[Math.floor(rtts.length * 0.95)]! * 10) / 10, pings: o.pings, devices: o.devices, allRepliedMs: Math.round(allRepliedMs), replied };
  } finally {
    for (const a of agents) await a.stop().catch(() => undefined);
    await fleet.stop();
    await broker.stop();
  }
}
