// The home setup (device-configs/home-zigbee.yaml): zigbee2mqtt publishing to the Pi's own
// Mosquitto, Outpost reading it with the zigbee2mqtt preset. Retained state that Mosquitto
// replays when Outpost (re)subscribes sets availability but is never a reading, so a device
// that went silent cannot look alive; the same availability again after a restart is no event;
// a change is one; readings published while Outpost was down arrive (persistent session).
import { afterEach, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { createAgent } from '../../src/agent/agent.js';
import type { Agent } from '../../src/agent/agent-types.js';
import { silentLogger } from '../../src/ops/logger.js';
import { startFleet } from '../helpers/fleet.js';
import { baseYaml, tempDir, testConfig } from '../helpers/agent-config.js';
import { startMosquitto } from '../helpers/mosquitto.js';
import { waitFor } from '../helpers/wait.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
});

const pub = (port: number, topic: string, payload: string, retain = false) => {
  const r = spawnSync('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(port), '-t', topic, '-q', '1', ...(retain ? ['-r'] : []), '-m', payload]);
  if (r.status !== 0) throw new Error(`mosquitto_pub: ${r.stderr}`);
};

describe('zigbee2mqtt on a real Mosquitto', () => {
  it('retained state sets availability, is never a reading, and makes no second event after a restart', async () => {
    const local = await startMosquitto();
    cleanups.push(() => local.stop());
    const fleet = await startFleet();
    cleanups.push(() => fleet.stop());
    // What zigbee2mqtt left retained before Outpost ever ran: availability and (with retain
    // on in its device options) the last state.
    pub(local.port, 'zigbee2mqtt/Küche Fenster/availability', '{"state":"online"}', true);
    pub(local.port, 'zigbee2mqtt/Küche Fenster', '{"contact":true,"temperature":19.5,"battery":90}', true);
    const config = testConfig(
      baseYaml({ fleetUrl: fleet.url, windowSize: '1s', detectors: '[]', sources: `[ { type: mqtt, preset: zigbee2mqtt, prefix: zigbee, url: "${local.url}" } ]` })
        .replace('broker: { enabled: true, host: 127.0.0.1, port: 0 }', 'broker: { enabled: false }'),
      tempDir(),
    );
    let agent: Agent = createAgent({ config, log: silentLogger() });
    await agent.start();
    cleanups.push(async () => agent.stop());
    const events = () => fleet.received.filter((r) => r.topic.includes('/event/availability/')).map((r) => r.json!);
    const summaries = () => fleet.received.filter((r) => r.topic.includes('/summary/'));
    await waitFor('availability from the retained message', () => events().length === 1, 10_000);
    expect(events()[0]).toMatchObject({ subject: 'zigbee/Küche Fenster', state: 'online' });
    // A live message is a reading.
    pub(local.port, 'zigbee2mqtt/Küche Fenster', '{"contact":false,"temperature":20.5,"battery":90}');
    await waitFor('the live reading summarized', () => summaries().some((s) => s.json!.sensor === 'zigbee/Küche Fenster/temperature'), 10_000);
    const temps = () => summaries().filter((s) => s.json!.sensor === 'zigbee/Küche Fenster/temperature').map((s) => s.json!.mean);
    expect(temps()).toEqual([20.5]); // the retained 19.5 was old state, not a reading
    const health = await agent.health();
    expect(health.sources['mqtt:zigbee2mqtt']).toMatchObject({ devices: { 'zigbee/Küche Fenster': 'online' }, staleSkipped: 2 });

    // Stopped: a reading published meanwhile waits in Mosquitto (persistent session).
    await agent.stop();
    pub(local.port, 'zigbee2mqtt/Küche Fenster', '{"contact":false,"temperature":21.5,"battery":90}');
    agent = createAgent({ config, log: silentLogger() });
    await agent.start();
    await waitFor('the reading sent while Outpost was down', () => temps().includes(21.5), 10_000);
    // The retained availability replayed at the restart is the same state: no second event.
    pub(local.port, 'zigbee2mqtt/Küche Fenster/availability', '{"state":"offline"}', true);
    await waitFor('the offline event', () => events().length === 2, 10_000);
    expect(events().map((e) => e.state)).toEqual(['online', 'offline']);
    expect(temps().filter((t) => t === 19.5)).toEqual([]);
  });
});
