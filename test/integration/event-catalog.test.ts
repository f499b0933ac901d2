// The event catalog (src/wire/catalog.ts, from the zod definitions in src/wire/upstream.ts):
// the committed JSON Schemas and AsyncAPI document are the ones the code derives, the AsyncAPI
// document parses with @asyncapi/parser, and every message a running agent really publishes
// (summaries complete, partial and with quantiles, anomalies, availability and stale events,
// health, status online and offline, the daily report) validates against its published JSON Schema (ajv, draft-07).
import { afterEach, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import mqtt from 'mqtt';
import addFormats from 'ajv-formats';
import { Parser } from '@asyncapi/parser';
import { asyncApiDocument, messageJsonSchemas } from '../../src/wire/catalog.js';
import { createAgent } from '../../src/agent/agent.js';
import { silentLogger } from '../../src/ops/logger.js';
import { startFleet } from '../helpers/fleet.js';
import { baseYaml, testConfig } from '../helpers/agent-config.js';
import { connectPublisher } from '../helpers/publisher.js';
import { waitFor } from '../helpers/wait.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
});

describe('the event catalog', () => {
  it('is committed as derived, and the AsyncAPI document parses', async () => {
    expect(JSON.parse(readFileSync('docs/messages.schema.json', 'utf8'))).toEqual(messageJsonSchemas());
    const committed = JSON.parse(readFileSync('docs/asyncapi.json', 'utf8')) as Record<string, unknown>;
    expect(committed).toEqual(asyncApiDocument((committed.info as { version: string }).version));
    const { document, diagnostics } = await new Parser().parse(readFileSync('docs/asyncapi.json', 'utf8'));
    expect(diagnostics.filter((d) => d.severity === 0).map((d) => d.message)).toEqual([]);
    expect(document!.channels().all().map((c) => c.address()).sort()).toEqual(['{prefix}/anomaly/{sensor}', '{prefix}/cmd-result', '{prefix}/cmd/{name}', '{prefix}/daily', '{prefix}/event/{kind}/{subject}', '{prefix}/event/{rule}', '{prefix}/health', '{prefix}/status', '{prefix}/summary/{sensor}']);
  });

  it('every message a running agent publishes validates against its schema', async () => {
    const schemas = messageJsonSchemas();
    const ajv = new Ajv({ allErrors: true, strict: false });
    addFormats.default(ajv);
    const validators = Object.fromEntries(Object.entries(schemas).map(([name, s]) => [name, ajv.compile(s)]));
    const fleet = await startFleet();
    cleanups.push(() => fleet.stop());
    const config = testConfig(
      baseYaml({
        fleetUrl: fleet.url,
        windowSize: '1s',
        // A rule (raised at the anomalous reading, cleared at the next) and a derived sensor.
        extra: `schedules: { health: "* * * * * *", dailySummary: "* * * * * *" }
rules: [ { id: room-hot, when: { sensor: s/room/1, above: 90 }, severity: major, message: too hot } ]
derived: [ { sensor: s/room/diff, expr: "s/room/1 - s/room/0" } ]`,
        // Events too: a device's availability (zigbee2mqtt) and a sensor gone stale.
        sources: '[ { type: mqtt, topic: "sensors/#", prefix: s }, { type: mqtt, preset: zigbee2mqtt, prefix: z } ]',
      })
        .replace('aggregates: [count, min, max, mean, stddev, first, last]', 'aggregates: [count, sum, min, max, mean, stddev, first, last, p50, p90, p95, p99]')
        .replace('  - match: ["**"]', '  - match: ["**"]\n    staleAfter: 1s'),
    );
    const agent = createAgent({ config, log: silentLogger() });
    await agent.start();
    const pub = await connectPublisher(agent.brokerPort!);
    const t0 = Math.floor(Date.now() / 1000) * 1000 - 10_000;
    for (let i = 0; i < 40; i++) await pub.publishAsync(`sensors/room/${i % 2}`, JSON.stringify({ value: i === 25 ? 99 : 20 + (i % 5), ts: t0 + i * 200 }), { qos: 1 });
    await pub.publishAsync('zigbee2mqtt/hall sensor/availability', '{"state":"online"}', { qos: 1 });
    await pub.endAsync();
    // A command (on the fleet broker) and its reply.
    await waitFor('uplink online', async () => (await agent.health()).uplink.state === 'online');
    const operator = await mqtt.connectAsync(fleet.url);
    await operator.publishAsync('outpost/test-01/cmd/ping', JSON.stringify({ v: 1, id: 'catalog-1', args: {}, expiresAt: new Date(Date.now() + 60_000).toISOString(), issuedBy: 'catalog test' }), { qos: 1 });
    await operator.endAsync();
    await waitFor('summaries, an anomaly, events, health and a daily report upstream', () => {
      const kinds = new Set(fleet.received.map((r) => r.topic.split('/')[2]));
      return (
        ['summary', 'anomaly', 'event', 'health', 'daily', 'status', 'cmd', 'cmd-result'].every((k) => kinds.has(k)) &&
        fleet.received.some((r) => r.json?.kind === 'stale') &&
        fleet.received.filter((r) => r.topic === 'outpost/test-01/event/room-hot').length === 2 &&
        fleet.received.some((r) => r.topic === 'outpost/test-01/summary/s/room/diff')
      );
    }, 15_000);
    // A reading in the current window just before the stop: it goes out as a partial summary.
    const last = await connectPublisher(agent.brokerPort!);
    await last.publishAsync('sensors/room/0', JSON.stringify({ value: 21, ts: Date.now() }), { qos: 1 });
    await last.endAsync();
    await agent.stop(); // partial summaries and the "offline" status
    const byKind = new Map<string, number>();
    for (const r of fleet.received) {
      const kind = r.topic.split('/')[2]!;
      const validate = validators[kind];
      expect(validate, `no schema for topic ${r.topic}`).toBeDefined();
      const value = kind === 'status' ? r.payload : r.json;
      const ok = validate!(value);
      expect(ok, `${r.topic}: ${r.payload.slice(0, 300)}\n${JSON.stringify(validate!.errors)}`).toBe(true);
      byKind.set(kind, (byKind.get(kind) ?? 0) + 1);
    }
    expect(fleet.received.some((r) => r.json?.partial === true)).toBe(true);
    expect(fleet.received.filter((r) => r.topic.endsWith('/status')).map((r) => r.payload)).toContain('offline');
    console.log(`event catalog: validated ${JSON.stringify(Object.fromEntries(byKind))}`);
  });
});
