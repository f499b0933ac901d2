// Each firmware preset against payloads in the shapes the firmware's own documentation shows
// (test/fixtures/firmware-payloads.ts): exact sensor ids, values and timestamps. Decoders are
// built from the config the way the agent builds them (agent/build-sources.ts mqttDecoder).
import { describe, expect, it } from 'vitest';
import { source } from '../../src/config/sources-schema.js';
import { mqttDecoder } from '../../src/agent/build-sources.js';
import type { MqttSourceConfig } from '../../src/config/schema.js';
import type { Decoded } from '../../src/sources/mqtt/topic-decoder.js';
import { Z2M, TASMOTA, ESPHOME, SHELLY, HA } from '../fixtures/firmware-payloads.js';

const NOW = Date.parse('2026-11-29T12:00:00.000Z');
// The documentation's example times are years old: the floor is lowered and the skew allowed
// so they count (a test below checks the skew bound on its own).
const TIME = { floor: 1e11, horizon: 3650 * 86_400_000, skewMs: Infinity };

const decoderOf = (yaml: Record<string, unknown>) => {
  const cfg = source.parse({ type: 'mqtt', ...yaml }) as MqttSourceConfig;
  return mqttDecoder(cfg, 16_384, TIME).decoder;
};
const decode = (d: ReturnType<typeof decoderOf>, topic: string, payload: string): Decoded => d.decode(topic, Buffer.from(payload), NOW);
const values = (r: Decoded) => Object.fromEntries(r.readings.map((x) => [x.sensor, x.value]));
const times = (r: Decoded) => [...new Set(r.readings.map((x) => new Date(x.ts).toISOString()))];

describe('preset zigbee2mqtt', () => {
  const d = decoderOf({ preset: 'zigbee2mqtt' });
  it('subscribes under its base topic', () => expect(d.filters).toEqual(['zigbee2mqtt/#']));
  it('output json: every field of a friendly name with spaces, linkquality left out, last_seen stamps', () => {
    const r = decode(d, 'zigbee2mqtt/living room sensor', Z2M.livingRoom);
    expect(values(r)).toEqual({ 'living room sensor/battery': 97, 'living room sensor/humidity': 45.2, 'living room sensor/temperature': 21.3, 'living room sensor/voltage': 3000 });
    expect(times(r)).toEqual(['2026-11-29T10:00:00.000Z']);
    expect(r.readings.every((x) => !x.stamped)).toBe(true);
    expect(r.problems).toEqual([]);
  });
  it('documented devices: temperature/humidity, motion, a bulb, a contact, an action', () => {
    expect(values(decode(d, 'zigbee2mqtt/0x00158d00018255df', Z2M.tempHumidity))).toEqual({ '0x00158d00018255df/temperature': 27.34, '0x00158d00018255df/humidity': 44.72 });
    expect(values(decode(d, 'zigbee2mqtt/hall/motion', Z2M.occupancy))).toEqual({ 'hall/motion/occupancy': 1 });
    expect(values(decode(d, 'zigbee2mqtt/my_bulb', Z2M.bulb))).toEqual({ 'my_bulb/state': 1, 'my_bulb/brightness': 215, 'my_bulb/color_temp': 325 });
    expect(values(decode(d, 'zigbee2mqtt/Küche Fenster', Z2M.contact))).toEqual({ 'Küche Fenster/battery': 100, 'Küche Fenster/contact': 0, 'Küche Fenster/temperature': 22, 'Küche Fenster/voltage': 3025 });
    const action = decode(d, 'zigbee2mqtt/switch', Z2M.action);
    expect(action.readings).toEqual([]);
    expect(action.skipped).toBe(1);
    expect(action.problems).toEqual([]);
  });
  it('output attribute: the same id as the json field', () => {
    expect(values(decode(d, 'zigbee2mqtt/my_bulb/state', Z2M.attributeState))).toEqual({ 'my_bulb/state': 1 });
    expect(values(decode(d, 'zigbee2mqtt/my_bulb/brightness', '215'))).toEqual({ 'my_bulb/brightness': 215 });
  });
  it('availability: 2.x JSON and 1.x words; bridge topics and /set are not readings', () => {
    expect(decode(d, 'zigbee2mqtt/living room sensor/availability', Z2M.availability2x).availability).toEqual({ device: 'living room sensor', online: true });
    expect(decode(d, 'zigbee2mqtt/living room sensor/availability', Z2M.availability2xOff).availability).toEqual({ device: 'living room sensor', online: false });
    expect(decode(d, 'zigbee2mqtt/kitchen/floor_light/availability', Z2M.availability1x).availability).toEqual({ device: 'kitchen/floor_light', online: false });
    expect(decode(d, 'zigbee2mqtt/bridge/state', Z2M.availability2x)).toMatchObject({ ignored: true, readings: [] });
    expect(decode(d, 'zigbee2mqtt/my_bulb/set', '{"state":"ON"}')).toMatchObject({ ignored: true, readings: [] });
    expect(decode(d, 'zigbee2mqtt/my_bulb/set/state', 'ON')).toMatchObject({ ignored: true, readings: [] });
  });
  it('output attribute obeys exclude and time fields like json output', () => {
    expect(decode(d, 'zigbee2mqtt/hall/linkquality', '99')).toMatchObject({ readings: [] });
    expect(decode(d, 'zigbee2mqtt/hall/last_seen', '1795428000000')).toMatchObject({ readings: [] });
    expect(decode(d, 'zigbee2mqtt/hall/update_available', 'false')).toMatchObject({ readings: [] });
    expect(values(decode(d, 'zigbee2mqtt/hall/temperature', '21.5'))).toEqual({ 'hall/temperature': 21.5 });
  });
  it('a device clock far from the receive time (a wrong zone, a fast clock) is not believed: the receive time stamps', () => {
    const live = mqttDecoder(source.parse({ type: 'mqtt', preset: 'zigbee2mqtt' }) as MqttSourceConfig, 16_384, { ...TIME, skewMs: 300_000 }).decoder;
    const r = decode(live, 'zigbee2mqtt/hall', JSON.stringify({ temperature: 21, last_seen: new Date(NOW + 3_600_000).toISOString() }));
    expect(r.readings[0]).toMatchObject({ ts: NOW, stamped: true });
    expect(r.untimed).toBe(1);
    const ok = decode(live, 'zigbee2mqtt/hall', JSON.stringify({ temperature: 21, last_seen: new Date(NOW - 2_000).toISOString() }));
    expect(ok.readings[0]).toMatchObject({ ts: NOW - 2_000 });
  });
  it('a base topic of its own, and exclude: [] brings linkquality back', () => {
    const own = decoderOf({ preset: 'zigbee2mqtt', base: 'z2m-2', exclude: [] });
    expect(own.filters).toEqual(['z2m-2/#']);
    expect(values(decode(own, 'z2m-2/a', '{"linkquality":120}'))).toEqual({ 'a/linkquality': 120 });
  });
});

describe('preset tasmota', () => {
  const d = decoderOf({ preset: 'tasmota', timezone: 'Europe/Berlin' });
  it('subscribes to SENSOR, STATE and LWT', () => expect(d.filters).toEqual(['tele/+/SENSOR', 'tele/+/STATE', 'tele/+/LWT']));
  it('AM2301: sensor/field ids, zone-less Time read in the configured zone, units skipped', () => {
    const r = decode(d, 'tele/sonoff-th/SENSOR', TASMOTA.am2301);
    expect(values(r)).toEqual({ 'sonoff-th/AM2301/Temperature': 24.6, 'sonoff-th/AM2301/Humidity': 58.2 });
    expect(times(r)).toEqual(['2018-12-31T23:00:00.000Z']);
    expect(r.skipped).toBe(1); // TempUnit "C"
  });
  it('without a timezone the zone-less Time is not guessed: the receive time stamps, counted', () => {
    const r = decode(decoderOf({ preset: 'tasmota' }), 'tele/sonoff-th/SENSOR', TASMOTA.am2301);
    expect(times(r)).toEqual([new Date(NOW).toISOString()]);
    expect(r.readings.every((x) => x.stamped)).toBe(true);
    expect(r.untimed).toBe(1);
  });
  it('BME280, several DS18B20 (their Id left out), a Pow ENERGY line', () => {
    expect(values(decode(d, 'tele/bme/SENSOR', TASMOTA.bme280))).toEqual({ 'bme/BME280/Temperature': 21.7, 'bme/BME280/Humidity': 66.6, 'bme/BME280/Pressure': 988.6 });
    expect(values(decode(d, 'tele/pool/SENSOR', TASMOTA.ds18b20))).toEqual({ 'pool/DS18B20-1/Temperature': 13.3, 'pool/DS18B20-2/Temperature': 1.2, 'pool/DS18B20-3/Temperature': 22.5 });
    expect(values(decode(d, 'tele/pow1/SENSOR', TASMOTA.pow))).toEqual({
      'pow1/ENERGY/Total': 6.294, 'pow1/ENERGY/Yesterday': 5.34, 'pow1/ENERGY/Today': 0.954, 'pow1/ENERGY/Period': 217, 'pow1/ENERGY/Power': 2635,
      'pow1/ENERGY/ApparentPower': 2650, 'pow1/ENERGY/ReactivePower': 282, 'pow1/ENERGY/Factor': 0.99, 'pow1/ENERGY/Voltage': 227, 'pow1/ENERGY/Current': 11.661,
    });
  });
  it('STATE: power as 1/0 and the measurements, not the bookkeeping', () => {
    expect(values(decode(d, 'tele/tasmota/STATE', TASMOTA.state))).toEqual({ 'tasmota/UptimeSec': 66972, 'tasmota/Vcc': 3.423, 'tasmota/POWER': 0, 'tasmota/Wifi/RSSI': 100 });
  });
  it('Time with an offset (SetOption52) needs no zone; switches are state words', () => {
    const r = decode(decoderOf({ preset: 'tasmota' }), 'tele/demo-sensor/SENSOR', TASMOTA.sensorWithOffset);
    expect(values(r)).toEqual({ 'demo-sensor/Switch1': 0, 'demo-sensor/Switch2': 1 });
    expect(times(r)).toEqual(['2021-06-27T13:03:44.000Z']);
  });
  it('LWT is availability', () => {
    expect(decode(d, 'tele/sonoff-th/LWT', TASMOTA.lwtOffline).availability).toEqual({ device: 'sonoff-th', online: false });
    expect(decode(d, 'tele/sonoff-th/LWT', TASMOTA.lwtOnline).availability).toEqual({ device: 'sonoff-th', online: true });
  });
});

describe('preset esphome', () => {
  const d = decoderOf({ preset: 'esphome' });
  it('sensor numbers and binary sensors, ids keep the component; status is availability', () => {
    expect(values(decode(d, 'kitchen/sensor/kitchen_temp2/state', ESPHOME.sensor))).toEqual({ 'kitchen/sensor/kitchen_temp2': 21.5 });
    expect(values(decode(d, 'kitchen/binary_sensor/door/state', ESPHOME.binaryOn))).toEqual({ 'kitchen/binary_sensor/door': 1 });
    expect(values(decode(d, 'kitchen/binary_sensor/door/state', ESPHOME.binaryOff))).toEqual({ 'kitchen/binary_sensor/door': 0 });
    expect(decode(d, 'kitchen/status', ESPHOME.offline).availability).toEqual({ device: 'kitchen', online: false });
  });
  it('exclude matches <component>/<object_id>; Home Assistant\'s birth message and other <x>/status payloads are no device', () => {
    const own = decoderOf({ preset: 'esphome', exclude: ['sensor/*_wifi_signal'] });
    expect(decode(own, 'kitchen/sensor/kitchen_wifi_signal/state', '-60').readings).toEqual([]);
    expect(values(decode(own, 'kitchen/sensor/kitchen_temp2/state', '21.5'))).toEqual({ 'kitchen/sensor/kitchen_temp2': 21.5 });
    expect(decode(d, 'homeassistant/status', 'online')).toMatchObject({ ignored: true });
    expect(decode(d, 'printer/status', '{"job":"idle"}')).toMatchObject({ ignored: true, problems: [] });
  });
  it('does not take Home Assistant statestream topics (the kitchen_temp2 collision)', () => {
    expect(d.filters.some((f) => f.startsWith('homeassistant'))).toBe(false);
    expect(d.filters).toContain('+/sensor/+/state');
  });
});

describe('preset shelly-gen2', () => {
  const d = decoderOf({ preset: 'shelly-gen2' });
  it('NotifyStatus: merged onto the last known status, every field a reading, stamped with its own params.ts (epoch seconds)', () => {
    const own = decoderOf({ preset: 'shelly-gen2' });
    const r = decode(own, 'shellypro4pm-f008d1d8b8b8/events/rpc', SHELLY.switchOutput);
    expect(values(r)).toEqual({ 'shellypro4pm-f008d1d8b8b8/switch:0/output': 1 });
    expect(r.readings[0]!.ts).toBe(1631186545040);
    // Only the cloud changed (left out): the relay's output is still known, at this notification's time.
    const cloud = decode(own, 'shellypro4pm-f008d1d8b8b8/events/rpc', SHELLY.cloud);
    expect(values(cloud)).toEqual({ 'shellypro4pm-f008d1d8b8b8/switch:0/output': 1 });
    expect(cloud.readings[0]!.ts).toBe(1624348482250);
    // A key that disappeared comes as null; a full status replaces what was known.
    const gone = decode(own, 'shellypro4pm-f008d1d8b8b8/events/rpc', '{"method":"NotifyStatus","params":{"ts":1631186546,"switch:0":{"apower":12.5,"output":null}}}');
    expect(values(gone)).toEqual({ 'shellypro4pm-f008d1d8b8b8/switch:0/apower': 12.5 });
    const full = decode(own, 'shellypro4pm-f008d1d8b8b8/events/rpc', '{"method":"NotifyFullStatus","params":{"ts":1631186547,"switch:1":{"output":false}}}');
    expect(values(full)).toEqual({ 'shellypro4pm-f008d1d8b8b8/switch:1/output': 0 });
  });
  it('NotifyFullStatus of a Plus H&T: temperature:0.tC, humidity:0.rh, devicepower:0.battery.percent', () => {
    const r = decode(d, 'shellyplusht-b8d61a8b17cc/events/rpc', SHELLY.plusHtFull);
    const id = 'shellyplusht-b8d61a8b17cc';
    expect(values(r)).toEqual({
      [`${id}/devicepower:0/battery/V`]: 0.43, [`${id}/devicepower:0/battery/percent`]: 0, [`${id}/devicepower:0/external/present`]: 1,
      [`${id}/humidity:0/rh`]: 42.2, [`${id}/temperature:0/tC`]: 19.8, [`${id}/temperature:0/tF`]: 67.6,
    });
    expect(times(r)).toEqual(['2023-04-08T14:07:59.620Z']);
  });
  it('a notification nested past the depth limit is a dead letter, not a crash', () => {
    const deep = `{"method":"NotifyStatus","params":{"a":${'['.repeat(5000)}${']'.repeat(5000)}}}`;
    expect(decode(d, 'x/events/rpc', deep).problems[0]).toMatchObject({ reason: 'bad-json' });
    expect(decode(d, 'x/events/rpc', '\u00ff').problems).toEqual([]);
  });
  it('status/<component> gives the same ids; online is availability; other methods are not readings', () => {
    expect(values(decode(d, 'shellyplusht-b8d61a8b17cc/status/temperature:0', SHELLY.statusTemperature))).toEqual({ 'shellyplusht-b8d61a8b17cc/temperature:0/tC': 19.8, 'shellyplusht-b8d61a8b17cc/temperature:0/tF': 67.6 });
    expect(decode(d, 'shellyplusht-b8d61a8b17cc/online', SHELLY.offline).availability).toEqual({ device: 'shellyplusht-b8d61a8b17cc', online: false });
    expect(decode(d, 'x/events/rpc', '{"method":"NotifyEvent","params":{"ts":1,"events":[]}}')).toMatchObject({ ignored: true });
  });
});

describe('preset homeassistant (statestream)', () => {
  const d = decoderOf({ preset: 'homeassistant' });
  it('raw states by entity id; unavailable is skipped; a {"state"} object gives its state', () => {
    expect(values(decode(d, 'homeassistant/sensor/kitchen_temp2/state', HA.number))).toEqual({ 'sensor.kitchen_temp2': 21.5 });
    expect(values(decode(d, 'homeassistant/binary_sensor/door/state', HA.on))).toEqual({ 'binary_sensor.door': 1 });
    expect(decode(d, 'homeassistant/sensor/kitchen_temp2/state', HA.unavailable)).toMatchObject({ readings: [], skipped: 1 });
    expect(values(decode(d, 'homeassistant/sensor/kitchen_temp2/state', HA.stateObject))).toEqual({ 'sensor.kitchen_temp2': 21.5 });
  });
});

describe('preset homeassistant include/exclude', () => {
  it('match the entity id', () => {
    const d = decoderOf({ preset: 'homeassistant', exclude: ['sensor.*_battery'] });
    expect(decode(d, 'homeassistant/sensor/phone_battery/state', '80')).toMatchObject({ ignored: true, readings: [] });
    expect(values(decode(d, 'homeassistant/sensor/kitchen_temp2/state', '21.5'))).toEqual({ 'sensor.kitchen_temp2': 21.5 });
  });
});

describe('format: fields without a preset', () => {
  it('a key with "/" (two spellings of one id) or a noncharacter is one problem; the other fields count', () => {
    const d = decoderOf({ topic: 'plant/#', format: 'fields' });
    const r = decode(d, 'plant/p', '{"a/b":1,"a":{"b":2},"bad\\uffff":3,"ok":4}');
    expect(values(r)).toEqual({ 'p/a/b': 2, 'p/ok': 4 });
    expect(r.problems).toEqual([{ reason: 'bad-sensor-id', detail: expect.stringContaining('and 1 more') }]);
  });
  it('at most 1,000 readings from one message, then one problem', () => {
    const d = decoderOf({ topic: 'plant/#', format: 'fields' });
    const r = decode(d, 'plant/p', JSON.stringify(new Array(8000).fill(0)));
    expect(r.readings).toHaveLength(1000);
    expect(r.problems).toEqual([{ reason: 'bad-format', detail: '8000 fields with values in one message: the first 1000 were taken' }]);
  });
  it('numeric strings, include and exclude globs, a states map', () => {
    const d = decoderOf({ topic: 'plant/#', format: 'fields', include: ['line1/**', 'mode'], exclude: ['**/raw'], states: { heat: 2, idle: 0 } });
    const r = decode(d, 'plant/press3', '{"line1":{"current":"2.5","raw":7,"phase":[1,2]},"mode":"heat","other":5}');
    expect(values(r)).toEqual({ 'press3/line1/current': 2.5, 'press3/line1/phase/0': 1, 'press3/line1/phase/1': 2, 'press3/mode': 2 });
  });
  it('the same value rules for bare payloads in the default format', () => {
    const d = decoderOf({ topic: 'sensors/#' });
    expect(values(decode(d, 'sensors/h', '"45.2"'))).toEqual({ h: 45.2 });
    expect(values(decode(d, 'sensors/door', 'open'))).toEqual({ door: 1 });
    expect(values(decode(d, 'sensors/door', 'false'))).toEqual({ door: 0 });
    expect(decode(d, 'sensors/door', 'ajar').problems[0]!.reason).toBe('not-a-number');
  });
});
