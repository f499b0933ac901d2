// A digital input, as a state or as a pulse counter. Debounce and edge selection are done here,
// not by the driver, so every driver (onoff, the simulator, a test's fake) behaves alike: a
// change counts once the level has held for `debounceMs`; `edge` picks which settled changes
// count (rising: to 1, falling: to 0, both).
// - state: one reading (0 or 1) at start and one per debounced edge (a door, a float switch);
// - counter: pulses on the chosen edge (rain gauge tips, flow or energy meter impulses) are
//   counted, and every `interval` two readings go out: `<sensor>` = pulses x scale in that
//   interval (a window's `sum` is then pulses per window), and `<sensor>/rate` = that per second.
import type { Source, SourceSink, Clock } from '../source.js';
import type { GpioDriver, GpioInput, Edge, Level } from '../../gpio/gpio-driver.js';

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
  let settle: NodeJS.Timeout | undefined;
  return {
    name: `gpio:${opts.pin}`,
    async start(sink: SourceSink) {
      // The driver reports every change; this source debounces and selects edges.
      input = await opts.driver.openInput(opts.pin, { ...opts, edge: 'both', debounceMs: 0 });
      const emit = (sensor: string, value: number) => {
        const now = opts.clock();
        sink.reading({ sensor, ts: now, value, receivedAt: now, stamped: true });
      };
      let level: Level = await input.read();
      let pending: Level = level;
      const counts = (to: Level) => opts.edge === 'both' || (opts.edge === 'rising' && to === 1) || (opts.edge === 'falling' && to === 0);
      let pulses = 0;
      const accept = () => {
        if (pending === level) return;
        level = pending;
        if (opts.mode === 'counter') {
          if (level === 1) pulses++; // a pulse is its rising edge
        } else if (counts(level)) emit(opts.sensor, level);
      };
      input.watch((l) => {
        pending = l;
        clearTimeout(settle);
        if (opts.debounceMs > 0) settle = setTimeout(accept, opts.debounceMs);
        else accept();
      });
      if (opts.mode === 'state') {
        emit(opts.sensor, level);
        return;
      }
      timer = setInterval(() => {
        const amount = pulses * opts.scale;
        pulses = 0;
        emit(opts.sensor, amount);
        emit(`${opts.sensor}/rate`, amount / (opts.interval / 1000));
      }, opts.interval);
    },
    async stop() {
      clearInterval(timer);
      clearTimeout(settle);
      input?.close();
      input = undefined;
    },
    health: () => ({ running: input !== undefined, pin: opts.pin, mode: opts.mode }),
  };
}
