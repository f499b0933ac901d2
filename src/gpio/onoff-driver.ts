// GPIO through onoff (sysfs), with BCM pin numbers mapped to the chip's sysfs numbers
// (gpio-chip.ts). Loaded lazily so machines without GPIO, or without the optional onoff build,
// can run every other source.
import type { GpioDriver, GpioInput, GpioOutput, Level } from './gpio-driver.js';
import { sysfsNumber } from './gpio-chip.js';

export function createOnoffDriver(sysfs = '/sys/class/gpio'): GpioDriver {
  const load = async (pin: number) => {
    let Gpio: typeof import('onoff').Gpio;
    try {
      ({ Gpio } = await import('onoff'));
    } catch {
      throw new Error('the onoff package is not installed (it builds only on Linux): reinstall with npm install, or set gpio.simulate: true');
    }
    if (!Gpio.accessible) {
      throw new Error(`GPIO is not accessible here (no ${sysfs}, or no permission): run on a Pi as a member of the gpio group, or set gpio.simulate: true (pin ${pin})`);
    }
    return { Gpio, number: sysfsNumber(pin, sysfs) };
  };
  return {
    async openInput(pin, opts): Promise<GpioInput> {
      const { Gpio, number } = await load(pin);
      const gpio = new Gpio(number, 'in', opts.edge, { debounceTimeout: opts.debounceMs, activeLow: opts.activeLow });
      return {
        read: async () => (await gpio.read()) as Level,
        watch(onChange) {
          gpio.watch((err, value) => {
            if (!err) onChange(value as Level);
          });
        },
        close: () => gpio.unexport(),
      };
    },
    async openOutput(pin, opts): Promise<GpioOutput> {
      const { Gpio, number } = await load(pin);
      const gpio = new Gpio(number, 'low', 'none', { activeLow: opts.activeLow });
      return {
        write: async (level) => gpio.write(level),
        close: () => gpio.unexport(),
      };
    },
  };
}
