// GPIO through onoff (sysfs). Loaded lazily so machines without GPIO, or without the optional
// onoff build, can run every other source.
import type { GpioDriver, GpioInput, Level } from './gpio-driver.js';

export function createOnoffDriver(): GpioDriver {
  return {
    async openInput(pin, opts): Promise<GpioInput> {
      let Gpio: typeof import('onoff').Gpio;
      try {
        ({ Gpio } = await import('onoff'));
      } catch {
        throw new Error('the onoff package is not installed (it builds only on Linux): reinstall with npm install, or set simulate: true on the gpio source');
      }
      if (!Gpio.accessible) {
        throw new Error(`GPIO is not accessible here (no /sys/class/gpio, or no permission): run on a Pi as a member of the gpio group, or set simulate: true on the gpio source for pin ${pin}`);
      }
      const gpio = new Gpio(pin, 'in', opts.edge, { debounceTimeout: opts.debounceMs, activeLow: opts.activeLow });
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
  };
}
