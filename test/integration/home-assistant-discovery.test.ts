// Home Assistant discovery out: with uplink.homeAssistant.enabled, a retained device-based
// discovery config reaches the fleet broker at connection, names every sensor that sent a
// summary (and its anomaly stream) with unique ids and state topics under the device's prefix,
// uses the device's status as availability, and is published again on Home Assistant's birth.
import { afterEach, describe, expect, it } from 'vitest';
import mqtt from 'mqtt';
import { baseYaml } from '../helpers/agent-config.js';
import { connectPublisher } from '../helpers/publisher.js';
import { waitFor } from '../helpers/wait.js';
import { runAgent, runFleet, type Cleanups } from '../helpers/running.js';

const cleanups: Cleanups = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
});

type Config = { dev: { ids: string[]; name: string }; o: { name: string }; availability_topic: string; cmps: Record<string, { p: string; unique_id: string; state_topic: string; name: string }> };

describe('Home Assistant discovery', () => {
  it('announces the device and its sensors retained, and again when Home Assistant starts', async () => {
    const f = await runFleet(cleanups);
    const agent = await runAgent(cleanups, baseYaml({ fleetUrl: f.url, windowSize: '1s', detectors: '[]' }).replace('uplink: { url:', 'uplink: { homeAssistant: { enabled: true }, url:'));
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
    expect(c.availability_topic).toBe('outpost/test-01/status');
    const cmps = Object.entries(c.cmps);
    for (const [key, cmp] of cmps) {
      expect(key).toMatch(/^[a-zA-Z0-9_-]+$/);
      expect(cmp.p).toBe('sensor');
      expect(cmp.unique_id).toMatch(/^[a-zA-Z0-9_-]+$/);
    }
    expect(new Set(cmps.map(([, x]) => x.unique_id)).size).toBe(cmps.length);
    expect(cmps.map(([, x]) => x.state_topic).sort()).toEqual([
      'outpost/test-01/anomaly/Küche Fenster/temp',
      'outpost/test-01/anomaly/greenhouse/temp1',
      'outpost/test-01/summary/Küche Fenster/temp',
      'outpost/test-01/summary/greenhouse/temp1',
    ]);
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
  });
});
