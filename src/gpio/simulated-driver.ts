// A GPIO driver for machines without pins (`simulate: true`): each input toggles at seeded
// random intervals of 2 to 20 seconds, like a door or a float switch; outputs keep their level
// (and log nothing: the agent logs what it drives).
import type { GpioDriver, GpioInput, GpioOutput, Level } from './gpio-driver.js';
import { seededRandom } from '../sources/simulated/signal.js';

export function createSimulatedGpioDriver(seed = 1): GpioDriver {
  return {
    async openInput(pin): Promise<GpioInput> {
      const random = seededRandom(seed + pin);
      let level: Level = 0;
      let timer: NodeJS.Timeout | undefined;
      return {
        read: async () => level,
        watch(onChange) {
          const schedule = () => {
            timer = setTimeout(() => {
              level = level === 0 ? 1 : 0;
              onChange(level);
              schedule();
            }, 2_000 + random() * 18_000);
          };
          schedule();
        },
        close: () => clearTimeout(timer),
      };
    },
    async openOutput(): Promise<GpioOutput> {
      return { write: async () => undefined, close: () => undefined };
    },
  };
}
