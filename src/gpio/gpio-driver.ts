// The hardware edge: the only GPIO code that touches the machine is in onoff-driver.ts.
// Tests and laptops use other implementations of this interface. Pins are BCM numbers.

export type Edge = 'none' | 'rising' | 'falling' | 'both';
export type Level = 0 | 1;

export interface GpioInput {
  read(): Promise<Level>;
  /** Calls back with the new level after each (debounced) edge. */
  watch(onChange: (level: Level) => void): void;
  close(): void;
}

export interface GpioOutput {
  write(level: Level): Promise<void>;
  close(): void;
}

export interface GpioDriver {
  openInput(pin: number, opts: { edge: Edge; debounceMs: number; activeLow: boolean }): Promise<GpioInput>;
  openOutput(pin: number, opts: { activeLow: boolean }): Promise<GpioOutput>;
}
