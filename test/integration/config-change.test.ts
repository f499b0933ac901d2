// Restarting with a changed pipeline: the changed one's open windows go out partial and it
// starts empty; an unchanged one keeps its windows across the restart.
import { afterEach, describe, expect, it } from 'vitest';
import { createAgent } from '../../src/agent/agent.js';
import type { Agent } from '../../src/agent/agent-types.js';
import { silentLogger } from '../../src/ops/logger.js';
import { startFleet } from '../helpers/fleet.js';
import { testConfig, tempDir } from '../helpers/agent-config.js';
import { connectPublisher } from '../helpers/publisher.js';
import { waitFor } from '../helpers/wait.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
});

const T0 = Math.floor((Date.now() - 3_600_000) / 600_000) * 600_000;

const yaml = (fleetUrl: string, changedSize: string) => `
device: { id: cfg-01 }
broker: { host: 127.0.0.1, port: 0 }
sources: [ { type: mqtt, topic: "sensors/#" } ]
pipelines:
  - { name: changing, match: ["a/*"], window: { type: tumbling, size: ${changedSize} } }
  - { name: steady, match: ["b/*"], window: { type: tumbling, size: 10m } }
uplink: { url: "${fleetUrl}" }
storage: { path: ./outpost.db }
http: { enabled: false }
`;

describe('a changed config across a restart', () => {
  it('flushes the changed pipeline, keeps the unchanged one', async () => {
    const fleet = await startFleet();
    cleanups.push(() => fleet.stop());
    const dir = tempDir();
    const run = async (size: string, from: number, n: number): Promise<Agent> => {
      const agent = createAgent({ config: testConfig(yaml(fleet.url, size), dir), log: silentLogger() });
      await agent.start();
      const pub = await connectPublisher(agent.brokerPort!);
      for (let i = 0; i < n; i++) {
        for (const s of ['a/1', 'b/1']) await pub.publishAsync(`sensors/${s}`, JSON.stringify({ value: from + i, ts: T0 + (from + i) * 1000 }), { qos: 1 });
      }
      await pub.endAsync();
      return agent;
    };
    const first = await run('10m', 0, 30);
    await first.stop(); // partial summaries for a/1 and b/1; windows checkpointed
    const second = await run('1m', 30, 90); // a/* now has 1-minute windows
    cleanups.push(() => second.stop());
    // b/1's 10-minute window is still open; close it with a reading in the next window
    const pub = await connectPublisher(second.brokerPort!);
    await pub.publishAsync('sensors/b/1', JSON.stringify({ value: 0, ts: T0 + 600_000 }), { qos: 1 });
    await pub.endAsync();
    await waitFor('b/1 complete summary', () => fleet.received.some((m) => m.json?.sensor === 'b/1' && !m.json.partial));

    const summaries = fleet.received.filter((m) => m.topic.includes('/summary/')).map((m) => m.json!);
    const b = summaries.filter((s) => s.sensor === 'b/1');
    // steady: one partial at the stop (30 readings), then the complete window across both runs
    expect(b.map((s) => [s.count, s.partial ?? false])).toEqual([[30, true], [120, false]]);
    const a = summaries.filter((s) => s.sensor === 'a/1');
    // changing: partial at the stop, and not again at the hand-over (the same window under a
    // second id would count its readings twice); then 1-minute windows from the second run's
    // readings only (the first run's 30 were already sent, partial)
    expect(a.slice(0, 1).map((s) => [s.count, s.partial])).toEqual([[30, true]]);
    expect(a.slice(1).every((s) => !s.partial && Date.parse(String((s.window as { end: string }).end)) - Date.parse(String((s.window as { start: string }).start)) === 60_000)).toBe(true);
    expect(a.slice(1).reduce((n, s) => n + Number(s.count), 0)).toBeLessThanOrEqual(90);
    expect(a.length).toBeGreaterThan(1);
  });
});
