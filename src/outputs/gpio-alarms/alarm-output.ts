// Alarm outputs: a GPIO pin (a buzzer, a relay, a beacon) driven by anomaly events and raised
// rules. A matching anomaly switches it on; it goes off once `minOnTime` has passed since the
// last matching event, so a short fault still sounds for at least that long and a flapping one
// does not chatter. A matching rule keeps it on while raised, and `minOnTime` after it clears.
import type { Anomaly, RuleEvent } from '../../stream/stream.js';
import type { RuleSeverity } from '../../stream/rules/rule-types.js';
import { compileGlobs } from '../../stream/glob.js';
import type { GpioDriver, GpioOutput } from '../../gpio/gpio-driver.js';
import type { Logger } from '../../ops/logger.js';

export interface AlarmRule {
  pin: number;
  /** Sensor globs whose anomalies drive the pin. */
  sensors: string[];
  /** Only these detectors (all when empty). */
  detectors: string[];
  /** Rule id globs whose raised rules drive the pin (none when absent). */
  rules?: string[];
  /** At least this severity. */
  severity: RuleSeverity;
  /** ms the pin stays on after the last matching event. */
  minOnTime: number;
  activeLow: boolean;
}

export interface AlarmOutputs {
  onAnomaly(a: Anomaly): void;
  /** A rule raised or cleared (also: raised before a restart, replayed as raised at start). */
  onRule(e: Pick<RuleEvent, 'sensor' | 'state' | 'severity'>): void;
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

const RANK: Record<RuleSeverity, number> = { info: 0, warning: 1, major: 2, critical: 3 };

export async function openAlarmOutputs(rules: readonly AlarmRule[], driver: GpioDriver, log: Logger): Promise<AlarmOutputs> {
  const outs = await Promise.all(
    rules.map(async (rule) => ({
      rule,
      matches: compileGlobs(rule.sensors),
      matchesRule: compileGlobs(rule.rules ?? []),
      /** Matching rules raised now: the pin stays on while any is. */
      raised: new Set<string>(),
      pin: await driver.openOutput(rule.pin, rule),
      on: false,
      timer: undefined as NodeJS.Timeout | undefined,
    })),
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
        o.timer = setTimeout(() => {
          if (o.raised.size === 0) set(o, false, `no matching anomaly for ${Math.round(r.minOnTime / 1000)} s`);
        }, r.minOnTime);
      }
    },
    onRule(e) {
      for (const o of outs) {
        if (!o.matchesRule(e.sensor) || RANK[e.severity] < RANK[o.rule.severity]) continue;
        if (e.state === 'raised') {
          o.raised.add(e.sensor);
          clearTimeout(o.timer);
          o.timer = undefined;
          set(o, true, `rule ${e.sensor} raised`);
        } else if (o.raised.delete(e.sensor) && o.raised.size === 0 && o.on) {
          clearTimeout(o.timer);
          o.timer = setTimeout(() => set(o, false, `rule ${e.sensor} cleared ${Math.round(o.rule.minOnTime / 1000)} s ago`), o.rule.minOnTime);
        }
      }
    },
    active: () => outs.filter((o) => o.on).map((o) => o.rule.pin),
    release(pin) {
      const released: number[] = [];
      for (const o of outs) {
        if (pin !== undefined && o.rule.pin !== pin) continue;
        clearTimeout(o.timer);
        if (o.on) released.push(o.rule.pin);
        o.raised.clear(); // until a rule raises again
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
