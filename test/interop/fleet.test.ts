// The fleet side over real TCP: two agents (one in this process with readings we count, one a
// real process with simulated sensors) -> Mosquitto as the fleet broker -> `outpost fleet`.
// The API shows both devices, their sensors and summaries with the exact counts sent; a killed
// agent turns offline through its last will within its keepalive; a fleet-broker outage's
// backlog arrives and leaves no seq gap.
import { afterEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startMosquitto } from '../helpers/mosquitto.js';
import { baseYaml, tempDir } from '../helpers/agent-config.js';
import { runAgent, type Cleanups } from '../helpers/running.js';
import { connectPublisher } from '../helpers/publisher.js';
import { waitFor } from '../helpers/wait.js';
import { freePort } from '../helpers/ports.js';
import { startFleetService } from '../../src/fleet/fleet-service.js';
import { fleetConfigSchema } from '../../src/fleet/fleet-config.js';
import { silentLogger } from '../../src/ops/logger.js';

const cleanups: Cleanups = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
});

// Ten minutes ago on a 10 s boundary: event times in the past, windows closed by a later reading.
const T0 = Math.floor((Date.now() - 600_000) / 10_000) * 10_000;

describe('outpost fleet', () => {
  it('shows two agents, exact summaries, a killed agent offline by its last will, and no gap after an outage', async () => {
    const broker = await startMosquitto();
    cleanups.push(() => broker.stop());
    const dir = tempDir();
    const fleet = await startFleetService(fleetConfigSchema.parse({ broker: { url: broker.url, clientId: 'fleet-test' }, store: { path: join(dir, 'fleet.db') }, http: { port: 0 } }), silentLogger());
    cleanups.push(() => fleet.stop());
    const api = async <T>(path: string): Promise<T> => (await (await fetch(`http://127.0.0.1:${fleet.httpPort}${path}`)).json()) as T;
    type Device = { device: string; status: string; gaps: { missing: number }; sensors?: Array<{ sensor: string; lastSummary: { count: number } }> };

    // Agent a-01, in this process: readings we count.
    const a = await runAgent(cleanups, baseYaml({ fleetUrl: broker.url, detectors: '[ { type: threshold, max: 45 } ]' }).replace('device: { id: test-01 }', 'device: { id: a-01 }'));
    const pub = await connectPublisher(a.brokerPort!);
    cleanups.push(() => pub.endAsync());
    for (let i = 0; i < 10; i++) await pub.publishAsync('sensors/hall/temp', JSON.stringify({ value: 20 + i, ts: T0 + i * 1000 }), { qos: 1 });
    for (let i = 0; i < 4; i++) await pub.publishAsync('sensors/hall/hum', JSON.stringify({ value: 40, ts: T0 + i * 1000 }), { qos: 1 });
    await pub.publishAsync('sensors/hall/temp', JSON.stringify({ value: 50, ts: T0 + 20_000 }), { qos: 1 }); // an anomaly, and closes the first windows
    await pub.publishAsync('sensors/hall/hum', JSON.stringify({ value: 40, ts: T0 + 20_000 }), { qos: 1 });

    // Agent b-01, a real process with simulated sensors and a 2 s keepalive.
    const bDir = tempDir();
    const httpPort = await freePort();
    writeFileSync(join(bDir, 'b.yaml'), `
device: { id: b-01 }
broker: { enabled: false }
sources: [ { type: simulated, sensors: [ { id: sim/t, rateHz: 5 } ] } ]
pipelines: [ { match: ["**"], window: { type: tumbling, size: 1s } } ]
uplink: { url: "${broker.url}", keepalive: 2s }
storage: { path: ./b.db }
http: { host: 127.0.0.1, port: ${httpPort} }
`);
    const b = spawn(process.execPath, ['dist/cli/main.js', 'run', '--config', join(bDir, 'b.yaml')], { stdio: 'ignore' });
    cleanups.push(async () => b.kill('SIGKILL'));

    await waitFor('both devices online', async () => {
      const ds = await api<Device[]>('/api/devices');
      return ds.length === 2 && ds.every((d) => d.status === 'online');
    }, 20_000);
    await waitFor('a-01 summaries', async () => ((await api<Device>('/api/devices/a-01')).sensors ?? []).length === 2, 10_000);
    const temp = await api<Array<{ count: number; mean: number; start: string }>>(`/api/devices/a-01/sensors/${encodeURIComponent('hall/temp')}/summaries?from=${new Date(T0 - 60_000).toISOString()}&to=${new Date(T0 + 10_000).toISOString()}`);
    expect(temp).toEqual([expect.objectContaining({ start: new Date(T0).toISOString(), count: 10, mean: 24.5 })]);
    const hum = await api<Array<{ count: number }>>(`/api/devices/a-01/sensors/${encodeURIComponent('hall/hum')}/summaries?from=${new Date(T0 - 60_000).toISOString()}&to=${new Date(T0 + 10_000).toISOString()}`);
    expect(hum.map((s) => s.count)).toEqual([4]);
    await waitFor('the anomaly', async () => (await api<unknown[]>('/api/anomalies?state=open&device=a-01')).length === 1);

    // SIGKILL: no goodbye, so the broker publishes b-01's last will after 1.5 x its keepalive.
    const killedAt = Date.now();
    b.kill('SIGKILL');
    await waitFor('b-01 offline by its last will', async () => (await api<Device>('/api/devices/b-01')).status === 'offline', 10_000);
    expect(Date.now() - killedAt).toBeLessThan(8_000);

    // An outage of the fleet broker: a-01 keeps summarizing; its backlog arrives after, no gap.
    await broker.stop();
    for (let i = 0; i < 5; i++) await pub.publishAsync('sensors/hall/temp', JSON.stringify({ value: 21, ts: T0 + 30_000 + i * 10_000 }), { qos: 1 });
    await new Promise((r) => setTimeout(r, 1000));
    await broker.start();
    await waitFor('the backlog delivered', async () => {
      const s = await api<Array<{ count: number }>>(`/api/devices/a-01/sensors/${encodeURIComponent('hall/temp')}/summaries?from=${new Date(T0 + 20_000).toISOString()}&to=${new Date(T0 + 80_000).toISOString()}`);
      return s.length >= 5;
    }, 20_000);
    const dev = await api<Device>('/api/devices/a-01');
    expect(dev.gaps.missing).toBe(0);
  });
});
