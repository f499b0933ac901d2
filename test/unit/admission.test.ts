import { describe, expect, it } from 'vitest';
import { createAdmission } from '../../src/stream/admission.js';

const NOW = 1_795_428_000_000;
const r = (sensor: string, ts = NOW) => ({ sensor, ts, value: 1, receivedAt: NOW });

describe('admission', () => {
  it('accepts valid ids up to the sensor limit, then refuses new ones but keeps known ones', () => {
    const a = createAdmission({ maxSensorIdLength: 16, maxSensors: 2, maxFutureSkew: 60_000, floor: 0 });
    expect(a.check(r('a/b'), NOW)).toBeUndefined();
    expect(a.check(r('urn:dev:1'), NOW)).toBeUndefined();
    expect(a.check(r('c'), NOW)?.reason).toBe('too-many-sensors');
    expect(a.check(r('a/b'), NOW)).toBeUndefined();
    expect(a.knownSensors()).toBe(2);
  });
  it.each(['temp 1', 'Küche/Fenster', 'living room/sensor', 'датчик/темп', '温度/1', 'shellyplusht-08b61f/temperature:0/tC'])(
    'accepts %j (spaces and any UTF-8 letters, as zigbee2mqtt friendly names have them)',
    (id) => {
      const a = createAdmission({ maxSensorIdLength: 64, maxSensors: 10, maxFutureSkew: 60_000, floor: 0 });
      expect(a.check(r(id), NOW)).toBeUndefined();
    },
  );
  it.each([
    ['a'.repeat(17), 'sensor-id-too-long'],
    ['a//b', 'bad-sensor-id'],
    ['a/+/b', 'bad-sensor-id'],
    ['', 'bad-sensor-id'],
    ['/a', 'bad-sensor-id'],
    ['a/', 'bad-sensor-id'],
    ['a/#', 'bad-sensor-id'],
    ['tab\there', 'bad-sensor-id'],
    ['nul\u0000', 'bad-sensor-id'],
    ['lone\ud800', 'bad-sensor-id'],
    ['bad\uffffname', 'bad-sensor-id'], // a noncharacter: Mosquitto drops the uplink's connection
    ['x\ufdd0', 'bad-sensor-id'],
    ['x\u{10ffff}', 'bad-sensor-id'],
    ['Küche/Füße/Öl', 'sensor-id-too-long'], // 13 characters, 17 bytes: the limit is in bytes
  ])('rejects %j as %s', (id, reason) => {
    const a = createAdmission({ maxSensorIdLength: 16, maxSensors: 10, maxFutureSkew: 60_000, floor: 0 });
    expect(a.check(r(id), NOW)?.reason).toBe(reason);
  });
  it('dead-letters readings stamped further ahead than the allowed skew', () => {
    const a = createAdmission({ maxSensorIdLength: 16, maxSensors: 10, maxFutureSkew: 60_000, floor: 0 });
    expect(a.check(r('s', NOW + 60_000), NOW)).toBeUndefined();
    expect(a.check(r('s', NOW + 60_001), NOW)?.reason).toBe('future-timestamp');
  });
  it('dead-letters timestamps from before this build existed', () => {
    const a = createAdmission({ maxSensorIdLength: 16, maxSensors: 10, maxFutureSkew: 60_000, floor: NOW - 1000 });
    expect(a.check(r('s', NOW - 1001), NOW)?.detail).toMatch(/before this Outpost build existed/);
    expect(a.check(r('s', NOW - 1000), NOW)).toBeUndefined();
  });
});
