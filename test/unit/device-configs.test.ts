import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { loadConfigFile } from '../../src/config/load.js';
import { configJsonSchema } from '../../src/config/json-schema.js';
import { topicMatches } from '../../src/stream/topic-filter.js';

describe('shipped device configs', () => {
  for (const name of ['demo', 'laptop-sim']) {
    it(`${name}.yaml is valid`, () => {
      const r = loadConfigFile(`device-configs/${name}.yaml`);
      expect(r.ok ? [] : r.problems).toEqual([]);
    });
  }

  it('cold-room-rules.yaml is valid: rules of every kind over zigbee2mqtt, Shelly and ESPHome ids, derived sensors, a rule-driven alarm', () => {
    const r = loadConfigFile('device-configs/cold-room-rules.yaml', { resolveSecrets: false });
    expect(r.ok ? [] : r.problems).toEqual([]);
    if (!r.ok) return;
    expect(r.config.rules.map((x) => x.id)).toEqual(['fridge-door-warm', 'pump-dry-run', 'compressor-hot', 'pump-silent']);
    expect(r.config.derived).toHaveLength(3);
    expect(r.config.gpio.alarms[0]).toMatchObject({ sensors: [], rules: ['fridge-*', 'pump-dry-run'] });
  });

  it('pi-greenhouse.yaml is valid, and names the secrets it needs when they are missing', () => {
    const shape = loadConfigFile('device-configs/pi-greenhouse.yaml', { resolveSecrets: false });
    expect(shape.ok ? [] : shape.problems).toEqual([]);
    const r = loadConfigFile('device-configs/pi-greenhouse.yaml', { env: {} });
    expect(r.ok ? [] : r.problems.map((p) => p.path)).toEqual([
      'broker.auth.users[0].password',
      'broker.auth.users[1].password',
      'uplink.password',
    ]);
  });

  it('pi-greenhouse.yaml has auth on, and no sensor node may publish under another node\'s topics', () => {
    const r = loadConfigFile('device-configs/pi-greenhouse.yaml', { resolveSecrets: false });
    if (!r.ok) throw new Error('invalid');
    const users = r.config.broker.auth!.users;
    expect(users.length).toBeGreaterThan(1);
    for (const a of users) {
      for (const b of users) {
        if (a === b) continue;
        const probe = `${b.publish[0]!.replace(/\/#$/, '')}/temp`;
        expect(a.publish.some((f) => topicMatches(f, probe)), `${a.username} may publish ${probe}`).toBe(false);
      }
    }
  });

  it('home-zigbee.yaml and factory-tasmota.yaml are valid, and need only their secrets', () => {
    for (const [name, secrets] of [
      ['home-zigbee', ['uplink.password']],
      ['factory-tasmota', ['broker.auth.users[0].password', 'broker.auth.users[1].password', 'uplink.password']],
    ] as const) {
      const shape = loadConfigFile(`device-configs/${name}.yaml`, { resolveSecrets: false });
      expect(shape.ok ? [] : shape.problems, name).toEqual([]);
      const r = loadConfigFile(`device-configs/${name}.yaml`, { env: {} });
      expect(r.ok ? [] : r.problems.map((p) => p.path), name).toEqual(secrets);
    }
  });

  it('the committed JSON Schema is the one the code derives', () => {
    const committed = JSON.parse(readFileSync('device-configs/outpost.schema.json', 'utf8'));
    expect(committed).toEqual(configJsonSchema());
  });
});
