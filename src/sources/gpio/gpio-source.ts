// A digital input as a state sensor: one reading (0 or 1) at start and one per debounced edge.
import type { Source, SourceSink, Clock } from '../source.js';
import type { GpioDriver, GpioInput, Edge } from './gpio-driver.js';

export interface GpioSourceOptions {
  pin: number;
  sensor: string;
  edge: Edge;
  debounceMs: number;
  activeLow: boolean;
  driver: GpioDriver;
  clock: Clock;
}

export function createGpioSource(opts: GpioSourceOptions): Source {
  let input: GpioInput | undefined;
  return {
    name: `gpio:${opts.pin}`,
    async start(sink: SourceSink) {
      input = await opts.driver.openInput(opts.pin, opts);
      const emit = (value: number) => {
        const now = opts.clock();
        sink.reading({ sensor: opts.sensor, ts: now, value, receivedAt: now, stamped: true });
      };
      emit(await input.read());
      input.watch(emit);
    },
    async stop() {
      input?.close();
      input = undefined;
    },
  };
}
