// The contract every output keeps, beside the sources' (sources/source.ts). An output carries
// what the agent emits out of the process: upstream to the fleet broker (uplink/), to pins
// (gpio-alarms/); the next ones (Home Assistant discovery, a Sparkplug B edge node, command
// replies) go in a folder of their own here. The agent wires them explicitly (no
// self-registration by import), starts them before any input and stops them after every input
// (as Telegraf does), so whatever got in can still get out.
import type { Anomaly, StreamEvent, Summary } from '../stream/stream.js';

export interface Output {
  /** For logs and health, e.g. "uplink", "gpio-alarms". */
  readonly name: string;
  start(): Promise<void>;
  /**
   * Flushes what it can within `timeoutMs` (in-flight messages, a pin's final state) and lets go
   * of its resources. Idempotent: a second stop, or a stop without a start, does nothing.
   */
  stop(timeoutMs: number): Promise<void>;
  /** JSON-safe state for health and /status. */
  health(): Record<string, unknown>;
  /** Each anomaly as it is emitted, for outputs that act on anomalies. */
  onAnomaly?(a: Anomaly): void;
  /** Each summary as it is emitted, for outputs that follow the sensors (discovery). */
  onSummary?(s: Summary): void;
  /** Each event (staleness, availability, rules) as it is emitted. */
  onEvent?(e: StreamEvent): void;
}

/** start() and stop() made idempotent around an output's own open and close. */
export function onceOutput(
  name: string,
  o: { open(): Promise<void>; close(timeoutMs: number): Promise<void>; health(): Record<string, unknown>; onAnomaly?(a: Anomaly): void; onSummary?(s: Summary): void; onEvent?(e: StreamEvent): void },
): Output {
  let state: 'new' | 'started' | 'stopped' = 'new';
  return {
    name,
    async start() {
      if (state !== 'new') return;
      state = 'started';
      await o.open();
    },
    async stop(timeoutMs) {
      const was = state;
      state = 'stopped';
      if (was === 'started') await o.close(timeoutMs);
    },
    health: () => ({ ...o.health(), running: state === 'started' }),
    ...(o.onAnomaly && { onAnomaly: (a: Anomaly) => (state === 'started' ? o.onAnomaly!(a) : undefined) }),
    ...(o.onSummary && { onSummary: (s: Summary) => (state === 'started' ? o.onSummary!(s) : undefined) }),
    ...(o.onEvent && { onEvent: (e: StreamEvent) => (state === 'started' ? o.onEvent!(e) : undefined) }),
  };
}
