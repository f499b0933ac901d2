// What an operator reads: /metrics in Prometheus text format (parsed by a Prometheus text
// parser), /healthz, and the scheduled jobs (health, retention, optimize, the daily report),
// each with its last run and outcome in health.
import { afterEach, describe, expect, it } from 'vitest';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { createAgent } from '../../src/agent/agent.js';
import { silentLogger } from '../../src/ops/logger.js';
import { startFleet } from '../helpers/fleet.js';
import { testConfig } from '../helpers/agent-config.js';
import { connectPublisher } from '../helpers/publisher.js';
import { waitFor } from '../helpers/wait.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
});

interface Family {
  name: string;
  type: string;
  metrics: Array<{ value?: string; labels?: Record<string, string> }>;
}

describe('observability', () => {
  it('serves /metrics a Prometheus parser reads, /healthz, and runs every scheduled job', async () => {
    const fleet = await startFleet();
    cleanups.push(() => fleet.stop());
    const agent = createAgent({
      config: testConfig(`
device: { id: obs-01 }
broker: { host: 127.0.0.1, port: 0 }
sources: [ { type: mqtt, topic: "sensors/#" } ]
pipelines: [ { match: ["**"], window: { type: tumbling, size: 1s }, detectors: [ { type: threshold, max: 40 } ] } ]
uplink: { url: "${fleet.url}" }
storage: { path: ./o.db }
http: { host: 127.0.0.1, port: 0 }
schedules: { health: "* * * * * *", retention: "* * * * * *", optimize: "* * * * * *", dailySummary: "*/2 * * * * *" }
`),
      log: silentLogger(),
    });
    await agent.start();
    cleanups.push(() => agent.stop());
    const pub = await connectPublisher(agent.brokerPort!);
    cleanups.push(() => pub.endAsync());
    for (let i = 0; i < 20; i++) await pub.publishAsync('sensors/room/t', JSON.stringify({ value: i === 10 ? 50 : 20, ts: Date.now() }), { qos: 1 });
    await pub.publishAsync('sensors/room/t', 'not a number', { qos: 1 });
    await waitFor('every job ran', async () => Object.values((await agent.health()).schedules).every((j) => j.runs >= 1 && j.ok === true), 10_000);
    // Reports cover consecutive spans: one made before the readings were committed counts none
    // of them, a later one all. Wait for the reports to have counted every reading.
    const dailies = () => fleet.received.filter((m) => m.topic === 'outpost/obs-01/daily').map((m) => m.json!);
    await waitFor('daily reports counting the readings', () => dailies().reduce((n, d) => n + Number(d.readings), 0) >= 20 && dailies().reduce((n, d) => n + Number(d.deadLetters), 0) >= 1, 10_000);
    const daily = dailies();
    expect(daily.reduce((n, d) => n + Number(d.readings), 0)).toBe(20);
    expect(daily.reduce((n, d) => n + Number(d.anomalies), 0)).toBe(1);
    expect(daily.reduce((n, d) => n + Number(d.deadLetters), 0)).toBe(1);

    const base = `http://127.0.0.1:${agent.httpPort}`;
    const health = await fetch(`${base}/healthz`);
    expect(health.status).toBe(200);
    const text = await (await fetch(`${base}/metrics`)).text();
    const families = new Map((parsePrometheusTextFormat(text) as Family[]).map((f) => [f.name, f]));
    const value = (name: string, labels: Record<string, string> = {}) =>
      Number(families.get(name)?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v))?.value);
    expect(value('outpost_readings_total', { source: 'mqtt:sensors/#' })).toBe(20);
    expect(value('outpost_dead_letters_total', { reason: 'not-a-number' })).toBe(1);
    expect(value('outpost_anomalies_total')).toBe(1);
    expect(value('outpost_summaries_total')).toBeGreaterThanOrEqual(0);
    expect(value('outpost_uplink_connected')).toBe(1);
    for (const name of ['outpost_late_readings_total', 'outpost_outbox_rows', 'outpost_outbox_bytes', 'outpost_outbox_oldest_age_seconds', 'outpost_uplink_drain_rate', 'outpost_disk_written_bytes', 'outpost_nodejs_eventloop_lag_seconds', 'outpost_process_resident_memory_bytes', 'outpost_store_writable', 'outpost_store_file_bytes']) {
      expect(families.has(name), name).toBe(true);
    }
    expect(value('outpost_process_resident_memory_bytes')).toBeGreaterThan(10e6);
  }, 30_000);
});
