// docs/grafana/outpost-fleet.json, the Grafana dashboard on the fleet's PostgreSQL read model:
// valid JSON of a dashboard whose every panel and variable query runs, with Grafana's macros
// and variables filled in as Grafana would, against the schema the fleet creates (a real
// PostgreSQL with a device's messages in it), and returns the columns its panel shows.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { openFleetStore } from '../../src/fleet/fleet-store.js';
import { readMessage } from '../../src/fleet/read-message.js';
import { usePostgres } from '../helpers/postgres.js';
import { healthMessage } from '../helpers/fleet-fixtures.js';

const cluster = usePostgres({ beforeAll, afterAll });

interface Target {
  rawSql: string;
  format: string;
  datasource: { type: string };
}
interface Dashboard {
  title: string;
  panels: Array<{ title: string; type: string; targets: Target[] }>;
  templating: { list: Array<{ name: string; query: string }> };
}

describe('the Grafana dashboard', () => {
  it('is a dashboard on the PostgreSQL data source whose every query runs against the fleet schema', async () => {
    const dash = JSON.parse(readFileSync('docs/grafana/outpost-fleet.json', 'utf8')) as Dashboard;
    expect(dash.title).toBe('Outpost fleet');
    expect(dash.panels.length).toBeGreaterThanOrEqual(5);
    const url = await cluster.get().database('grafana');
    const store = await openFleetStore({ type: 'postgres', url, retention: 0 });
    const now = Date.now();
    const at = (ms: number) => new Date(ms).toISOString();
    const msgs: Array<[string, Record<string, unknown>]> = [
      ['outpost/gh-1/summary/air/t', { v: 1, id: 'gh-1:1', device: 'gh-1', sensor: 'air/t', window: { start: at(now - 120_000), end: at(now - 60_000) }, count: 60, min: 19, max: 23, mean: 21, late: 0 }],
      ['outpost/gh-1/anomaly/air/t', { v: 1, id: 'gh-1:2', device: 'gh-1', sensor: 'air/t', ts: at(now - 90_000), value: 48, detector: 'threshold', severity: 'critical', score: 1, message: 'above 45', evidence: {} }],
      ['outpost/gh-1/health', healthMessage('gh-1', now - 10_000, 12)],
      ['outpost/gh-1/event/door-warm', { v: 1, id: 'gh-1:3', device: 'gh-1', kind: 'rule', ts: at(now - 80_000), rule: 'door-warm', state: 'raised', severity: 'major', since: at(now - 380_000), heldS: 300, values: { 'air/t': 9 } }],
    ];
    await store.accept(msgs.map(([topic, body]) => {
      const r = readMessage(['outpost/+'], topic, JSON.stringify(body), now);
      if (!('entry' in r)) throw new Error(JSON.stringify(r));
      return r.entry;
    }));
    await store.close();

    const fill = (sql: string) =>
      sql
        .replace(/\$__unixEpochFrom\(\)/g, String(Math.floor((now - 86_400_000) / 1000)))
        .replace(/\$__unixEpochTo\(\)/g, String(Math.ceil(now / 1000)))
        .replace(/\$device/g, 'gh-1')
        .replace(/\$sensor/g, 'air/t');
    const db = new pg.Client({ connectionString: url });
    await db.connect();
    try {
      for (const v of dash.templating.list) {
        const r = await db.query(fill(v.query));
        expect(r.rows.length, v.name).toBeGreaterThan(0);
      }
      for (const p of dash.panels) {
        for (const t of p.targets) {
          expect(t.datasource.type).toBe('grafana-postgresql-datasource');
          const r = await db.query(fill(t.rawSql)).catch((err: Error) => {
            throw new Error(`panel "${p.title}": ${err.message}`);
          });
          expect(r.rows.length, p.title).toBeGreaterThan(0);
          if (t.format === 'time_series') expect(r.fields[0]!.name, p.title).toBe('time');
        }
      }
    } finally {
      await db.end();
    }
  }, 60_000);
});
