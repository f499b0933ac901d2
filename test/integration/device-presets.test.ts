// Every firmware preset end to end, over real TCP: the firmwares' documented payloads published
// to the embedded broker, exact summaries (sensor ids, counts, values) at the fleet broker.
// Friendly names with spaces and UTF-8 letters go through as MQTT allows; availability is in
// health; an MQTT message that maps onto another source's id is dead-lettered, not mixed in.
import { afterEach, describe, expect, it } from 'vitest';
import type { Fleet } from '../helpers/fleet.js';
import { baseYaml, tempDir } from '../helpers/agent-config.js';
import { connectPublisher } from '../helpers/publisher.js';
import { waitFor } from '../helpers/wait.js';
import { runAgent, runFleet } from '../helpers/running.js';
import { Z2M, TASMOTA, ESPHOME, SHELLY, HA } from '../fixtures/firmware-payloads.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
});

const startAgent = (yaml: string, dir?: string) => runAgent(cleanups, yaml, dir);
const fleet = () => runFleet(cleanups);
const summaries = (f: Fleet) => f.received.filter((r) => r.topic.includes('/summary/'));

// A minute ago on a second boundary, as the firmware would write it (UTC, for timezone: UTC):
// these firmwares stamp as they send, so a time further than limits.maxFutureSkew from the
// receive time would be a wrong clock (and replaced by the receive time).
const T0 = Math.floor((Date.now() - 60_000) / 1000) * 1000;
const localIso = (ms: number) => new Date(ms).toISOString().slice(0, 19);

describe('device presets end to end', () => {
  it('zigbee2mqtt, Tasmota, ESPHome, Shelly Gen2 and Home Assistant payloads become exact summaries', async () => {
    const f = await fleet();
    const agent = await startAgent(
      baseYaml({ fleetUrl: f.url, windowSize: '1s', detectors: '[]', sources: `
  - { type: mqtt, preset: zigbee2mqtt, prefix: zigbee }
  - { type: mqtt, preset: tasmota, prefix: tasmota, timezone: UTC }
  - { type: mqtt, preset: esphome, prefix: esphome }
  - { type: mqtt, preset: shelly-gen2, prefix: shelly }
  - { type: mqtt, preset: homeassistant, prefix: ha }` }),
    );
    const pub = await connectPublisher(agent.brokerPort!);
    cleanups.push(() => pub.endAsync());
    const send = (topic: string, payload: string) => pub.publishAsync(topic, payload, { qos: 1 });

    await send('zigbee2mqtt/living room sensor', Z2M.livingRoom.replace('2026-11-29T10:00:00.000Z', new Date(T0).toISOString()));
    await send('zigbee2mqtt/Küche Fenster', Z2M.contact);
    await send('zigbee2mqtt/Küche Fenster/availability', Z2M.availability2x);
    await send('zigbee2mqtt/bridge/state', Z2M.availability2x);
    await send('tele/sonoff-th/SENSOR', TASMOTA.am2301.replace('2019-01-01T00:00:00', localIso(T0)));
    await send('tele/sonoff-th/LWT', TASMOTA.lwtOnline);
    await send('kitchen/sensor/kitchen_temp2/state', ESPHOME.sensor);
    await send('kitchen/binary_sensor/door/state', ESPHOME.binaryOn);
    await send('kitchen/status', ESPHOME.offline);
    await send('shellyplusht-b8d61a8b17cc/events/rpc', SHELLY.plusHtFull.replace('1680962879.62', String(T0 / 1000)));
    await send('homeassistant/sensor/kitchen_temp2/state', HA.number);

    const expected: Record<string, number> = {
      'zigbee/living room sensor/battery': 97,
      'zigbee/living room sensor/humidity': 45.2,
      'zigbee/living room sensor/temperature': 21.3,
      'zigbee/living room sensor/voltage': 3000,
      'zigbee/Küche Fenster/battery': 100,
      'zigbee/Küche Fenster/contact': 0,
      'zigbee/Küche Fenster/temperature': 22,
      'zigbee/Küche Fenster/voltage': 3025,
      'tasmota/sonoff-th/AM2301/Temperature': 24.6,
      'tasmota/sonoff-th/AM2301/Humidity': 58.2,
      'esphome/kitchen/sensor/kitchen_temp2': 21.5,
      'esphome/kitchen/binary_sensor/door': 1,
      'shelly/shellyplusht-b8d61a8b17cc/devicepower:0/battery/V': 0.43,
      'shelly/shellyplusht-b8d61a8b17cc/devicepower:0/battery/percent': 0,
      'shelly/shellyplusht-b8d61a8b17cc/devicepower:0/external/present': 1,
      'shelly/shellyplusht-b8d61a8b17cc/humidity:0/rh': 42.2,
      'shelly/shellyplusht-b8d61a8b17cc/temperature:0/tC': 19.8,
      'shelly/shellyplusht-b8d61a8b17cc/temperature:0/tF': 67.6,
      'ha/sensor.kitchen_temp2': 21.5,
    };
    await waitFor('a summary per sensor', () => new Set(summaries(f).map((s) => s.json!.sensor)).size >= Object.keys(expected).length, 15_000);
    const got = Object.fromEntries(summaries(f).map((s) => [s.json!.sensor as string, s.json!]));
    expect(Object.keys(got).sort()).toEqual(Object.keys(expected).sort());
    for (const [sensor, value] of Object.entries(expected)) {
      expect(got[sensor], sensor).toMatchObject({ count: 1, mean: value, min: value, max: value });
      // The upstream topic carries the id as it is: spaces and UTF-8 letters included.
      expect(summaries(f).some((s) => s.topic === `outpost/test-01/summary/${sensor}`)).toBe(true);
    }
    // Times from the payloads: z2m last_seen, Tasmota's zone-less Time in the configured zone, Shelly params.ts.
    for (const sensor of ['zigbee/living room sensor/temperature', 'tasmota/sonoff-th/AM2301/Temperature', 'shelly/shellyplusht-b8d61a8b17cc/temperature:0/tC']) {
      expect((got[sensor]!.window as { start: string }).start, sensor).toBe(new Date(T0).toISOString());
    }
    const health = await agent.health();
    expect(health.deadLetters.total).toBe(0);
    expect(health.sources['mqtt:zigbee2mqtt']).toMatchObject({ running: true, devices: { 'zigbee/Küche Fenster': 'online' }, ignored: 1 });
    expect(health.sources['mqtt:tasmota']).toMatchObject({ devices: { 'tasmota/sonoff-th': 'online' }, skippedValues: 1 });
    // homeassistant/sensor/kitchen_temp2/state matches ESPHome's +/sensor/+/state too: the more
    // specific statestream filter takes it, ESPHome leaves it (it was averaged into one before).
    expect(health.sources['mqtt:esphome']).toMatchObject({ devices: { 'esphome/kitchen': 'offline' }, leftToOthers: 1 });
  });

  it('an MQTT message that maps onto a simulated sensor is dead-lettered, never mixed into it', async () => {
    const f = await fleet();
    const agent = await startAgent(
      baseYaml({ fleetUrl: f.url, windowSize: '1s', detectors: '[]', sources: `
  - { type: mqtt, topic: "sensors/#" }
  - { type: simulated, sensors: [ { id: sim/x, rateHz: 1 } ] }` }),
    );
    const pub = await connectPublisher(agent.brokerPort!);
    cleanups.push(() => pub.endAsync());
    await pub.publishAsync('sensors/sim/x', '1000', { qos: 1 });
    await pub.publishAsync('sensors/other', '5', { qos: 1 });
    await waitFor('the dead letter', async () => (await agent.health()).deadLetters.byReason['bad-sensor-id'] === 1);
    await waitFor('summaries of sim/x', () => summaries(f).some((s) => s.json!.sensor === 'sim/x') && summaries(f).some((s) => s.json!.sensor === 'other'), 10_000);
    expect(summaries(f).filter((s) => s.json!.sensor === 'sim/x').every((s) => (s.json!.max as number) < 100)).toBe(true);
  });

  it('a device name that cannot be a topic level is dead-lettered, never an event (a noncharacter made Mosquitto drop the uplink)', async () => {
    const f = await fleet();
    const agent = await startAgent(baseYaml({ fleetUrl: f.url, windowSize: '1s', detectors: '[]', sources: '[ { type: mqtt, preset: zigbee2mqtt } ]' }));
    const pub = await connectPublisher(agent.brokerPort!);
    cleanups.push(() => pub.endAsync());
    await pub.publishAsync('zigbee2mqtt/x\uffff/availability', 'online', { qos: 1 });
    await pub.publishAsync(`zigbee2mqtt/${'n'.repeat(200)}/availability`, 'online', { qos: 1 });
    await pub.publishAsync('zigbee2mqtt/hall/availability', 'online', { qos: 1 });
    await waitFor('the good device online', () => f.received.some((r) => r.topic.endsWith('/event/availability/hall')));
    const h = await agent.health();
    expect(h.deadLetters.byReason).toEqual({ 'bad-sensor-id': 1, 'sensor-id-too-long': 1 });
    expect(f.received.filter((r) => r.topic.includes('/event/'))).toHaveLength(1);
  });

  it('availability and staleness are events upstream (class event), once per change, across a restart', async () => {
    const f = await fleet();
    const dir = tempDir();
    const yaml = baseYaml({ fleetUrl: f.url, windowSize: '1s', detectors: '[]', sources: '\n  - { type: mqtt, preset: zigbee2mqtt, prefix: zigbee }\n  - { type: mqtt, topic: "sensors/#", prefix: s }' })
      .replace('  - match: ["**"]', '  - match: ["**"]\n    staleAfter: 2s');
    const events = () => f.received.filter((r) => r.topic.includes('/event/')).map((r): Record<string, unknown> => ({ topic: r.topic, ...r.json }));
    let agent = await startAgent(yaml, dir);
    let pub = await connectPublisher(agent.brokerPort!);
    await pub.publishAsync('zigbee2mqtt/Küche Fenster/availability', Z2M.availability2x, { qos: 1, retain: true });
    await pub.publishAsync('zigbee2mqtt/Küche Fenster/availability', Z2M.availability2x, { qos: 1, retain: true });
    await pub.publishAsync('sensors/pump/flow', '1', { qos: 1 });
    await waitFor('the sensor raised as stale', () => events().some((e) => e.kind === 'stale'), 8_000);
    await pub.publishAsync('zigbee2mqtt/Küche Fenster/availability', Z2M.availability2xOff, { qos: 1, retain: true });
    await waitFor('the device offline', () => events().filter((e) => e.kind === 'availability').length === 2);
    expect(events().filter((e) => e.kind === 'availability')).toEqual([
      expect.objectContaining({ topic: 'outpost/test-01/event/availability/zigbee/Küche Fenster', v: 1, device: 'test-01', subject: 'zigbee/Küche Fenster', state: 'online' }),
      expect.objectContaining({ topic: 'outpost/test-01/event/availability/zigbee/Küche Fenster', subject: 'zigbee/Küche Fenster', state: 'offline', previousSince: expect.any(String) }),
    ]);
    expect(events().find((e) => e.kind === 'stale')).toMatchObject({ topic: 'outpost/test-01/event/stale/s/pump/flow', sensor: 's/pump/flow', state: 'raised', limitS: 2 });
    expect(await agent.health()).toMatchObject({ presence: { staleSensors: 1, stale: ['s/pump/flow'], offlineDevices: 1 } });
    await pub.endAsync();
    await agent.stop();

    // A restart: the same state again is no news; the stale sensor's return clears it.
    agent = await startAgent(yaml, dir);
    pub = await connectPublisher(agent.brokerPort!);
    cleanups.push(() => pub.endAsync());
    const before = events().length;
    await pub.publishAsync('zigbee2mqtt/Küche Fenster/availability', Z2M.availability2xOff, { qos: 1, retain: true });
    await pub.publishAsync('sensors/pump/flow', '2', { qos: 1 });
    await waitFor('the stale sensor cleared', () => events().some((e) => e.kind === 'stale' && e.state === 'cleared'), 8_000);
    await pub.publishAsync('zigbee2mqtt/Küche Fenster/availability', Z2M.availability2x, { qos: 1, retain: true });
    await waitFor('the device online again', () => events().filter((e) => e.kind === 'availability').length === 3);
    const after = events().slice(before);
    expect(after.filter((e) => e.kind === 'availability').map((e) => e.state)).toEqual(['online']);
    expect(after.find((e) => e.kind === 'stale')).toMatchObject({ state: 'cleared', sensor: 's/pump/flow' });
    // Every event has its own id, in the device's one seq sequence.
    const ids = events().map((e) => e.id as string);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
