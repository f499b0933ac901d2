// A digital input, as a state or as a pulse counter.
// - state: one reading (0 or 1) at start and one per debounced edge (a door, a float switch);
// - counter: pulses on the chosen edge (rain gauge tips, flow or energy meter impulses) are
//   counted, and every `interval` two readings go out: `<sensor>` = pulses x scale in that
//   interval (a window's `sum` is then pulses per window), and `<sensor>/rate` = that per second.
import type { Source, SourceSink, Clock } from '../source.js';
import type { GpioDriver, GpioInput, Edge } from './gpio-driver.js';

export interface GpioSourceOptions {
  pin: number;
  sensor: string;
  edge: Edge;
  debounceMs: number;
  activeLow: boolean;
  mode: 'state' | 'counter';
  /** counter: ms between readings. */
  interval: number;
  /** counter: units per pulse (0.2794 mm of rain per tip, 1 Wh per impulse, ...). */
  scale: number;
  driver: GpioDriver;
  clock: Clock;
}

export function createGpioSource(opts: GpioSourceOptions): Source {
  let input: GpioInput | undefined;
  let timer: NodeJS.Timeout | undefined;
  return {
    name: `gpio:${opts.pin}`,
    async start(sink: SourceSink) {
      input = await opts.driver.openInput(opts.pin, opts);
      const emit = (sensor: string, value: number) => {
        const now = opts.clock();
        sink.reading({ sensor, ts: now, value, receivedAt: now, stamped: true });
      };
      if (opts.mode === 'state') {
        emit(opts.sensor, await input.read());
        input.watch((level) => emit(opts.sensor, level));
        return;
      }
      let pulses = 0;
      input.watch((level) => {
        if (level === 1) pulses++; // a pulse is its rising edge, whatever edges are watched
      });
      timer = setInterval(() => {
        const amount = pulses * opts.scale;
        pulses = 0;
        emit(opts.sensor, amount);
        emit(`${opts.sensor}/rate`, amount / (opts.interval / 1000));
      }, opts.interval);
    },
    async stop() {
      clearInterval(timer);
      input?.close();
      input = undefined;
    },
  };
}
