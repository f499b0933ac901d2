// Alarm output pins as an output: a pin goes on with a matching anomaly or raised rule and off
// after its minimum on-time without one (alarm-output.ts); off and released at stop.
import { onceOutput, type Output } from '../output.js';
import { openAlarmOutputs, type AlarmOutputs, type AlarmRule } from './alarm-output.js';
import type { GpioDriver } from '../../gpio/gpio-driver.js';
import type { Logger } from '../../ops/logger.js';

export type AlarmControl = Pick<AlarmOutputs, 'active' | 'release' | 'force' | 'pins'>;

export function gpioAlarmOutput(rules: readonly AlarmRule[], driver: GpioDriver, log: Logger): Output & AlarmControl {
  let pins: AlarmOutputs | undefined;
  const out = onceOutput('gpio-alarms', {
    open: async () => {
      pins = await openAlarmOutputs(rules, driver, log);
    },
    close: async () => pins?.close(),
    health: () => ({ active: pins?.active() ?? [] }),
    onAnomaly: (a) => pins?.onAnomaly(a),
    onEvent: (e) => (e.type === 'rule' ? pins?.onRule(e) : undefined),
  });
  const opened = () => {
    if (!pins) throw new Error('the alarm outputs are not open');
    return pins;
  };
  return { ...out, active: () => pins?.active() ?? [], release: (pin) => opened().release(pin), force: (pin, on, forMs) => opened().force(pin, on, forMs), pins: () => pins?.pins() ?? rules.map((r) => r.pin) };
}
