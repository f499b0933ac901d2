// Home Assistant discovery out: with uplink.homeAssistant.enabled, a retained device-based
// discovery config reaches the fleet broker at connection, names every sensor that sent a
// summary (and its anomaly stream) with unique ids and state topics under the device's prefix,
// uses the device's status as availability, and is published again on Home Assistant's birth.
import { afterEach, describe, expect, it } from 'vitest';
import mqtt from 'mqtt';
import { baseYaml, tempDir } from '../helpers/agent-config.js';
import { discoveryConfig } from '../../src/outputs/home-assistant/discovery.js';
import { connectPublisher } from '../helpers/publisher.js';
import { waitFor } from '../helpers/wait.js';
import { runAgent, runFleet, type Cleanups } from '../helpers/running.js';

const cleanups: Cleanups = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
});

// Abbreviated keys, as Home Assistant documents them (uniq_id = unique_id, stat_t = state_topic, avty_t = availability_topic).
type Config = { dev: { ids: string[]; name: string }; o: { name: string }; avty_t: string; cmps: Record<string, { p: string; uniq_id: string; stat_t: string; name: string }> };

describe('Home Assistant discovery', () => {
  it('announces the device and its sensors retained, again when Home Assistant starts, and all of them at once after a restart', async () => {
    const f = await runFleet(cleanups);
    const dir = tempDir();
    const agent = await runAgent(cleanups, baseYaml({ fleetUrl: f.url, windowSize: '1s', detectors: '[]' }).replace('uplink: { url:', 'uplink: { homeAssistant: { enabled: true }, url:'), dir);
    const configs = () => f.received.filter((r) => r.topic.startsWith('homeassistant/device/') && r.topic.endsWith('/config'));
    await waitFor('the first announcement', () => configs().length >= 1);
    const pub = await connectPublisher(agent.brokerPort!);
    cleanups.push(() => pub.endAsync());
    await pub.publishAsync('sensors/greenhouse/temp1', '21.5', { qos: 1 });
    await pub.publishAsync('sensors/Küche Fenster/temp', '19', { qos: 1 });
    await waitFor('an announcement with both sensors', () => Object.keys((configs().at(-1)?.json as Config | undefined)?.cmps ?? {}).length === 4, 10_000);
    const last = configs().at(-1)!;
    const c = last.json as Config;
    // The documented required keys: device (ids, name) and origin (name) at the root; a platform
    // and a unique id per component.
    expect(c.dev.ids).toEqual(['outpost_test-01']);
    expect(c.dev.name).toBe('Outpost test-01');
    expect(c.o.name).toBe('outpost');
    expect(c.avty_t).toBe('~/status');
    const cmps = Object.entries(c.cmps);
    for (const [key, cmp] of cmps) {
      expect(key).toMatch(/^[a-zA-Z0-9_-]+$/);
      expect(cmp.p).toBe('sensor');
      expect(cmp.uniq_id).toMatch(/^[a-zA-Z0-9_-]+$/);
    }
    expect(new Set(cmps.map(([, x]) => x.uniq_id)).size).toBe(cmps.length);
    // "~" is the device's prefix, set at the root: Home Assistant expands it.
    expect((c as unknown as { '~': string })['~']).toBe('outpost/test-01');
    expect(cmps.map(([, x]) => x.stat_t).sort()).toEqual(['~/anomaly/Küche Fenster/temp', '~/anomaly/greenhouse/temp1', '~/summary/Küche Fenster/temp', '~/summary/greenhouse/temp1']);
    expect(last.topic).toMatch(/^homeassistant\/device\/outpost_test-01_[0-9a-f]{6}\/config$/);

    // Retained: a Home Assistant that subscribes later gets it.
    const late = await mqtt.connectAsync(f.url, { protocolVersion: 4, reconnectPeriod: 0 });
    cleanups.push(() => late.endAsync());
    const retained = new Promise<{ retain: boolean; payload: string }>((resolve) => late.on('message', (_t, payload, packet) => resolve({ retain: packet.retain, payload: payload.toString() })));
    await late.subscribeAsync(last.topic, { qos: 1 });
    expect(await retained).toEqual({ retain: true, payload: last.payload });

    // Home Assistant's birth message: announced again.
    const before = configs().length;
    await late.publishAsync('homeassistant/status', 'online', { qos: 1 });
    await waitFor('an announcement after the birth message', () => configs().length > before, 10_000);

    // A restart announces every sensor the stream knows from its checkpoint, not an empty device.
    await agent.stop();
    const afterStop = configs().length;
    await runAgent(cleanups, baseYaml({ fleetUrl: f.url, windowSize: '1s', detectors: '[]' }).replace('uplink: { url:', 'uplink: { homeAssistant: { enabled: true }, url:'), dir);
    await waitFor('the announcement after the restart', () => configs().length > afterStop, 10_000);
    expect(Object.keys((configs()[afterStop]!.json as Config).cmps)).toHaveLength(4);
  });

  it('stays under a 128 KB packet (AWS IoT Core) with 200 sensors', () => {
    // 30-character ids: the size grows with them (about 300 bytes a sensor plus four times its id).
    const sensors = Array.from({ length: 200 }, (_, i) => `greenhouse/bench ${i}/temperature`);
    const bytes = Buffer.byteLength(JSON.stringify(discoveryConfig({ device: 'greenhouse-01', topicPrefix: 'outpost/greenhouse-01', sensors, version: '0.1.0' })));
    expect(bytes).toBeLessThan(128 * 1024);
  });
});
