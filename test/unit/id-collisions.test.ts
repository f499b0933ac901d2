// Sensor ids that cannot collide: the config refuses two MQTT sources whose ids could be the
// same (naming both), a prefix separates them, and topic filters are ordered by specificity so
// one message goes to one source.
import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/config/load.js';
import { idSpacesOverlap, mqttIdSpace } from '../../src/config/id-spaces.js';
import { compareSpecificity } from '../../src/stream/topic-filter.js';

const config = (sources: string) =>
  parseConfigText(
    `
device: { id: d1 }
sources:
${sources}
pipelines: [ { match: ["**"], window: { type: tumbling, size: 10s } } ]
uplink: { url: "mqtt://127.0.0.1:1883" }
`,
    { dir: '/tmp' },
  );
const problems = (sources: string) => {
  const r = config(sources);
  return r.ok ? [] : r.problems.map((p) => `${p.path}: ${p.message}`);
};

describe('sensor id collisions', () => {
  it('refuses the two sources of the issue (esphome-node/# and homeassistant/# both give sensor/kitchen_temp2/state), naming both', () => {
    const p = problems(`  - { type: mqtt, topic: "esphome-node/#" }\n  - { type: mqtt, topic: "homeassistant/#" }`);
    expect(p).toHaveLength(1);
    expect(p[0]).toMatch(/^sources\[1\]: .*sources\[0\].*prefix/);
  });
  it('takes them with prefixes that differ; one prefix is not enough while the other source can produce any id', () => {
    expect(problems(`  - { type: mqtt, topic: "esphome-node/#" }\n  - { type: mqtt, topic: "homeassistant/#", prefix: ha }`)).toHaveLength(1);
    expect(problems(`  - { type: mqtt, topic: "esphome-node/#", prefix: esphome }\n  - { type: mqtt, topic: "homeassistant/#", prefix: ha }`)).toEqual([]);
  });
  it('refuses two presets whose ids overlap, takes them with prefixes', () => {
    expect(problems(`  - { type: mqtt, preset: zigbee2mqtt }\n  - { type: mqtt, preset: esphome }`)[0]).toMatch(/sources\[1\].*sources\[0\]/);
    expect(problems(`  - { type: mqtt, preset: zigbee2mqtt, prefix: zigbee }\n  - { type: mqtt, preset: esphome, prefix: esphome }`)).toEqual([]);
  });
  it('takes zigbee2mqtt beside Home Assistant (ids of two levels and more vs entity ids of one), and refuses a base with empty levels', () => {
    expect(problems(`  - { type: mqtt, preset: zigbee2mqtt }\n  - { type: mqtt, preset: homeassistant }`)).toEqual([]);
    expect(problems(`  - { type: mqtt, preset: zigbee2mqtt, base: "z/" }`)[0]).toMatch(/sources\[0\]\.base: has an empty level/);
  });
  it('keeps the design example: an MQTT source beside GPIO and simulated sensors (their ids are reserved at run time)', () => {
    expect(problems(`  - { type: mqtt, topic: "sensors/#" }\n  - { type: gpio, pin: 17, sensor: door/open, simulate: true }\n  - { type: simulated, sensors: [ { id: sim/temp1 } ] }`)).toEqual([]);
  });
  it('refuses a preset with a topic or a format of its own, and a base without a preset', () => {
    expect(problems(`  - { type: mqtt, preset: tasmota, topic: "tele/#" }`)[0]).toMatch(/sources\[0\]\.topic: is set by preset tasmota/);
    expect(problems(`  - { type: mqtt, preset: tasmota, format: json }`)[0]).toMatch(/sources\[0\]\.format/);
    expect(problems(`  - { type: mqtt, base: x }`)[0]).toMatch(/sources\[0\]\.base: needs a preset/);
    expect(problems(`  - { type: mqtt, preset: tasmota, timezone: Mars/Olympus }`)[0]).toMatch(/sources\[0\]\.timezone: is not an IANA time zone/);
  });
  it('id spaces: literal prefixes stripped, levels added by SenML and fields, prefixes put in front', () => {
    expect(mqttIdSpace({ topic: 'sensors/#' })).toBe('#');
    expect(mqttIdSpace({ topic: 'a/+/temp', format: 'number' })).toBe('+/temp');
    expect(mqttIdSpace({ topic: 'a/+/temp' })).toBe('+/temp/#');
    expect(mqttIdSpace({ preset: 'tasmota', prefix: 'barn' })).toBe('barn/+/+/#');
    expect(idSpacesOverlap('+/temp', 'x/temp')).toBe(true);
    expect(idSpacesOverlap('+/temp', '+/hum')).toBe(false);
    expect(idSpacesOverlap('a/#', 'a')).toBe(true);
    expect(idSpacesOverlap('a/+', 'a')).toBe(false);
  });
  it('orders filters by specificity: literal over "+" over "#"', () => {
    expect(compareSpecificity('homeassistant/+/+/state', '+/sensor/+/state')).toBeLessThan(0);
    expect(compareSpecificity('sensors/#', 'sensors/greenhouse/#')).toBeGreaterThan(0);
    expect(compareSpecificity('a/+', 'a/+')).toBe(0);
    expect(compareSpecificity('kitchen/status', 'kitchen/status/#')).toBeLessThan(0);
  });
});
