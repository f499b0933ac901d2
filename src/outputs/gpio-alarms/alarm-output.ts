// Alarm outputs: a GPIO pin (a buzzer, a relay, a beacon) driven by anomaly events. A matching
// event switches it on; it goes off once `minOnTime` has passed since the last matching event,
// so a short fault still sounds for at least that long and a flapping one does not chatter.
import type { Anomaly } from '../../stream/stream.js';
import type { Severity } from '../../stream/detectors/detector.js';
import { compileGlobs } from '../../stream/glob.js';
import type { GpioDriver, GpioOutput } from '../../gpio/gpio-driver.js';
import type { Logger } from '../../ops/logger.js';

export interface AlarmRule {
  pin: number;
  /** Sensor globs whose anomalies drive the pin. */
  sensors: string[];
  /** Only these detectors (all when empty). */
  detectors: string[];
  /** At least this severity. */
  severity: Severity;
  /** ms the pin stays on after the last matching event. */
  minOnTime: number;
  activeLow: boolean;
}

export interface AlarmOutputs {
  onAnomaly(a: Anomaly): void;
  /** Which pins are on now (BCM numbers). */
  active(): number[];
  /** Switches pins off (one, or all) until the next matching anomaly; returns those that were on. */
  release(pin?: number): number[];
  /** Drives a pin on or off now; after `forMs`, off again (an anomaly may switch it on sooner). */
  force(pin: number, on: boolean, forMs?: number): void;
  /** The alarm pins. */
  pins(): number[];
  close(): Promise<void>;
}

const RANK: Record<Severity, number> = { info: 0, warning: 1, critical: 2 };

export async function openAlarmOutputs(rules: readonly AlarmRule[], driver: GpioDriver, log: Logger): Promise<AlarmOutputs> {
  const outs = await Promise.all(
    rules.map(async (rule) => ({ rule, matches: compileGlobs(rule.sensors), pin: await driver.openOutput(rule.pin, rule), on: false, timer: undefined as NodeJS.Timeout | undefined })),
  );
  const set = (o: { pin: GpioOutput; on: boolean; rule: AlarmRule }, on: boolean, why: string) => {
    if (o.on === on) return;
    o.on = on;
    o.pin.write(on ? 1 : 0).catch((err: Error) => log.error({ pin: o.rule.pin, err: err.message }, 'alarm output could not be driven'));
    log.info({ pin: o.rule.pin, on }, `alarm output ${on ? 'on' : 'off'}: ${why}`);
  };
  return {
    onAnomaly(a) {
      for (const o of outs) {
        const r = o.rule;
        if (!o.matches(a.sensor) || RANK[a.verdict.severity] < RANK[r.severity] || (r.detectors.length > 0 && !r.detectors.includes(a.verdict.detector))) continue;
        set(o, true, `${a.verdict.detector} on ${a.sensor}: ${a.verdict.message}`);
        clearTimeout(o.timer);
        o.timer = setTimeout(() => set(o, false, `no matching anomaly for ${Math.round(r.minOnTime / 1000)} s`), r.minOnTime);
      }
    },
    active: () => outs.filter((o) => o.on).map((o) => o.rule.pin),
    release(pin) {
      const released: number[] = [];
      for (const o of outs) {
        if (pin !== undefined && o.rule.pin !== pin) continue;
        clearTimeout(o.timer);
        if (o.on) released.push(o.rule.pin);
        set(o, false, 'acknowledged (alarm.ack)');
      }
      return released;
    },
    force(pin, on, forMs) {
      const o = outs.find((x) => x.rule.pin === pin);
      if (!o) throw new Error(`pin ${pin} is not an alarm output (gpio.alarms: ${outs.map((x) => x.rule.pin).join(', ') || 'none'})`);
      clearTimeout(o.timer);
      o.timer = undefined;
      set(o, on, `set by command (gpio.set)${forMs ? ` for ${Math.round(forMs / 1000)} s` : ''}`);
      if (forMs) o.timer = setTimeout(() => set(o, false, 'gpio.set time is up'), forMs);
    },
    pins: () => outs.map((o) => o.rule.pin),
    async close() {
      for (const o of outs) {
        clearTimeout(o.timer);
        if (o.on) await o.pin.write(0).catch(() => undefined);
        o.pin.close();
      }
    },
  };
}
