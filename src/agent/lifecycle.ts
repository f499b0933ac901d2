// Every long-lived part of the agent is a component: started in the order the agent lists them,
// stopped in reverse (as Telegraf starts outputs first and stops them last, and zigbee2mqtt
// starts and stops its extensions). A component whose start failed half-way is stopped too, so
// its stop() undoes whatever part of start() happened (and does nothing when none did).
import type { Logger } from '../ops/logger.js';

export interface Component {
  /** For logs, e.g. "store", "uplink", "source mqtt:sensors/#". */
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface Lifecycle {
  /** Starts each component in order, once; throws the first failure (stop() then undoes the rest). */
  start(): Promise<void>;
  /**
   * Stops what was started, in reverse, every one of them even when one fails (each failure is
   * logged); throws the first failure once all are stopped. Once: later calls wait for it.
   */
  stop(): Promise<void>;
  /** Names of the components started (or starting), in order. */
  running(): string[];
}

export function createLifecycle(components: readonly Component[], log: Logger): Lifecycle {
  const up: Component[] = [];
  let stopping: Promise<void> | undefined;
  let starting: Promise<void> | undefined;
  const stopAll = async (): Promise<void> => {
    // A stop asked for during start (a signal during a long recovery) waits for the component
    // being started, then stops it and those before it; the rest never start.
    await starting?.catch(() => undefined);
    let first: unknown;
    for (const c of up.reverse()) {
      try {
        await c.stop();
      } catch (err) {
        log.warn({ component: c.name, err: (err as Error)?.message ?? String(err) }, 'component did not stop cleanly');
        first ??= err;
      }
    }
    up.length = 0;
    if (first !== undefined) throw first;
  };
  return {
    start() {
      starting ??= (async () => {
        for (const c of components) {
          if (stopping) throw new Error(`start abandoned at ${c.name}: the agent is stopping`);
          up.push(c);
          await c.start();
        }
      })();
      return starting;
    },
    stop: () => (stopping ??= stopAll()),
    running: () => up.map((c) => c.name),
  };
}
