// GPIO with a fake driver (the hardware edge) and fake sysfs trees: BCM pin numbers on Pi 4
// Bookworm and Pi 5 layouts, state inputs, pulse counters, and alarm outputs with a minimum
// on-time.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sysfsNumber } from '../../src/gpio/gpio-chip.js';
import { createGpioSource } from '../../src/sources/gpio/gpio-source.js';
import { openAlarmOutputs } from '../../src/outputs/gpio-alarms/alarm-output.js';
import type { GpioDriver, Level } from '../../src/gpio/gpio-driver.js';
import type { Reading } from '../../src/stream/reading.js';
import type { Anomaly } from '../../src/stream/stream.js';
import { silentLogger } from '../../src/ops/logger.js';
import { tempDir } from '../helpers/agent-config.js';

function fakeSysfs(chips: Array<[label: string, base: number, ngpio: number]>): string {
  const root = tempDir('outpost-sysfs-');
  for (const [label, base, ngpio] of chips) {
    const d = join(root, `gpiochip${base}`);
    mkdirSync(d);
    writeFileSync(join(d, 'label'), `${label}\n`);
    writeFileSync(join(d, 'base'), `${base}\n`);
    writeFileSync(join(d, 'ngpio'), `${ngpio}\n`);
  }
  return root;
}

/** A driver whose pins the test toggles, and which records what outputs were set to. */
function fakeDriver() {
  const watchers = new Map<number, (l: Level) => void>();
  const levels = new Map<number, Level>();
  const writes: Array<[number, Level]> = [];
  const driver: GpioDriver = {
    async openInput(pin) {
      return { read: async () => levels.get(pin) ?? 0, watch: (cb) => void watchers.set(pin, cb), close: () => watchers.delete(pin) };
    },
    async openOutput(pin) {
      return { write: async (l) => void writes.push([pin, l]), close: () => undefined };
    },
  };
  const edge = (pin: number, l: Level) => {
    levels.set(pin, l);
    watchers.get(pin)!(l);
  };
  return { driver, edge, writes };
}

afterEach(() => vi.useRealTimers());

describe('BCM pin numbers to sysfs', () => {
  it('finds the SoC chip by its label: Pi 4 on Bookworm (base 512), Pi 5 (base 571), older (base 0)', () => {
    expect(sysfsNumber(17, fakeSysfs([['pinctrl-bcm2711', 512, 58], ['raspberrypi-exp-gpio', 570, 8]]))).toBe(529);
    expect(sysfsNumber(17, fakeSysfs([['gpio-brcmstb@107d508500', 512, 32], ['pinctrl-rp1', 571, 54], ['gpio-brcmstb@107d517c00', 544, 15]]))).toBe(588);
    expect(sysfsNumber(4, fakeSysfs([['pinctrl-bcm2835', 0, 54]]))).toBe(4);
  });
  it('says what it found when there is no Pi chip, and what to do', () => {
    expect(() => sysfsNumber(17, fakeSysfs([['gpio-mockup-A', 0, 8]]))).toThrow('no Raspberry Pi GPIO chip under');
    expect(() => sysfsNumber(17, fakeSysfs([['gpio-mockup-A', 0, 8]]))).toThrow(/\(chips: gpio-mockup-A \(base 0\)\); set gpio\.simulate: true/);
    expect(() => sysfsNumber(17, '/nonexistent/gpio')).toThrow('/nonexistent/gpio does not exist: this machine has no sysfs GPIO (not a Pi?); set gpio.simulate: true to run without pins');
    expect(() => sysfsNumber(60, fakeSysfs([['pinctrl-rp1', 571, 54]]))).toThrow('pin 60 is not on pinctrl-rp1 (it has 54 GPIOs)');
  });
});

describe('gpio source (fake driver)', () => {
  const sink = (got: Reading[]) => ({ reading: (r: Reading) => void got.push(r), reject: () => undefined, ready: () => undefined, durable: () => Promise.resolve(), availability: () => undefined });

  const source = (f: ReturnType<typeof fakeDriver>, o: Partial<Parameters<typeof createGpioSource>[0]>) =>
    createGpioSource({ pin: 17, sensor: 'door/open', edge: 'both', debounceMs: 20, activeLow: false, mode: 'state', interval: 10_000, scale: 1, driver: f.driver, clock: () => Date.now(), ...o });

  it('state: one reading at start and one per settled edge; contact bounce is ignored', async () => {
    vi.useFakeTimers({ now: 1000 });
    const f = fakeDriver();
    const got: Reading[] = [];
    const s = source(f, {});
    await s.start(sink(got));
    vi.advanceTimersByTime(1000);
    for (const l of [1, 0, 1, 0, 1] as Level[]) {
      f.edge(17, l); // a bouncing contact: 5 changes within 4 ms
      vi.advanceTimersByTime(1);
    }
    vi.advanceTimersByTime(30);
    f.edge(17, 0);
    vi.advanceTimersByTime(5);
    f.edge(17, 1); // back before it settled: no change at all
    vi.advanceTimersByTime(30);
    f.edge(17, 0);
    vi.advanceTimersByTime(30);
    expect(got.map((r) => [r.sensor, r.ts, r.value])).toEqual([['door/open', 1000, 0], ['door/open', 2024, 1], ['door/open', 2090, 0]]);
    await s.stop();
  });

  it('state: edge selection keeps only rising (or falling) changes', async () => {
    vi.useFakeTimers();
    const f = fakeDriver();
    const got: Reading[] = [];
    const s = source(f, { edge: 'rising', debounceMs: 0 });
    await s.start(sink(got));
    for (const l of [1, 0, 1, 0] as Level[]) f.edge(17, l);
    expect(got.map((r) => r.value)).toEqual([0, 1, 1]); // the state at start, then the two rises
    await s.stop();
  });

  it('counter: pulses x scale per interval, and the rate per second', async () => {
    vi.useFakeTimers();
    const f = fakeDriver();
    const got: Reading[] = [];
    const s = createGpioSource({ pin: 5, sensor: 'rain/mm', edge: 'both', debounceMs: 5, activeLow: false, mode: 'counter', interval: 10_000, scale: 0.2794, driver: f.driver, clock: () => Date.now() });
    await s.start(sink(got));
    for (let i = 0; i < 3; i++) {
      f.edge(5, 1); // three tips; falling edges are not pulses
      vi.advanceTimersByTime(10);
      f.edge(5, 0);
      vi.advanceTimersByTime(10);
    }
    vi.advanceTimersByTime(10_000);
    vi.advanceTimersByTime(10_000);
    expect(got.map((r) => [r.sensor, Number(r.value.toFixed(5))])).toEqual([
      ['rain/mm', 0.8382],
      ['rain/mm/rate', 0.08382],
      ['rain/mm', 0],
      ['rain/mm/rate', 0],
    ]);
    await s.stop();
  });
});

describe('alarm outputs', () => {
  const anomaly = (sensor: string, severity: 'warning' | 'critical', detector = 'threshold'): Anomaly => ({
    kind: 'anomaly', sensor, ts: 0, value: 50, verdict: { detector, severity, score: 1, message: 'value 50 is above the maximum 45', evidence: {} },
  });

  it('switches on at a matching anomaly and off only after the minimum on-time since the last one', async () => {
    vi.useFakeTimers();
    const f = fakeDriver();
    const alarms = await openAlarmOutputs([{ pin: 26, sensors: ['freezer/*'], detectors: [], severity: 'critical', minOnTime: 30_000, activeLow: false }], f.driver, silentLogger());
    alarms.onAnomaly(anomaly('greenhouse/t1', 'critical')); // not its sensors
    alarms.onAnomaly(anomaly('freezer/t1', 'warning')); // below its severity
    expect(f.writes).toEqual([]);
    alarms.onAnomaly(anomaly('freezer/t1', 'critical'));
    expect(f.writes).toEqual([[26, 1]]);
    expect(alarms.active()).toEqual([26]);
    vi.advanceTimersByTime(20_000);
    alarms.onAnomaly(anomaly('freezer/t2', 'critical')); // extends: still on, no chatter
    vi.advanceTimersByTime(20_000);
    expect(f.writes).toEqual([[26, 1]]);
    vi.advanceTimersByTime(10_000);
    expect(f.writes).toEqual([[26, 1], [26, 0]]);
    expect(alarms.active()).toEqual([]);
    await alarms.close();
  });

  it('a matching raised rule keeps the pin on while raised (an anomaly\'s timer does not switch it off), and minOnTime after it clears', async () => {
    vi.useFakeTimers();
    const f = fakeDriver();
    const alarms = await openAlarmOutputs([{ pin: 5, sensors: ['**'], detectors: [], rules: ['fridge-*'], severity: 'major', minOnTime: 30_000, activeLow: false }], f.driver, silentLogger());
    alarms.onRule({ sensor: 'pump-dry', state: 'raised', severity: 'critical' }); // not its rules
    alarms.onRule({ sensor: 'fridge-warm', state: 'raised', severity: 'warning' }); // below its severity
    expect(f.writes).toEqual([]);
    alarms.onRule({ sensor: 'fridge-warm', state: 'raised', severity: 'major' });
    alarms.onAnomaly(anomaly('freezer/t1', 'critical'));
    vi.advanceTimersByTime(120_000); // the anomaly's on-time is long over; the rule is still raised
    expect(f.writes).toEqual([[5, 1]]);
    alarms.onRule({ sensor: 'fridge-warm', state: 'cleared', severity: 'major' });
    vi.advanceTimersByTime(29_000);
    expect(alarms.active()).toEqual([5]);
    vi.advanceTimersByTime(1_000);
    expect(f.writes).toEqual([[5, 1], [5, 0]]);
    alarms.onRule({ sensor: 'fridge-door', state: 'raised', severity: 'critical' });
    expect(alarms.release()).toEqual([5]); // alarm.ack: off until a rule raises again
    vi.advanceTimersByTime(60_000);
    expect(f.writes).toEqual([[5, 1], [5, 0], [5, 1], [5, 0]]);
    await alarms.close();
  });
});
