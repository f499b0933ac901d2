// Backpressure from the group commit to ingest: past a high-water mark of waiting entries,
// ready() hands out one promise that resolves once the backlog is below half of it (sources
// that can slow their producer, MQTT by holding PUBACKs, wait on it). While the store fails,
// held data is bounded and shed instead, so ingest never stalls on a dead disk.
export interface Backpressure {
  /** undefined while keeping up; else resolves once caught up. `kick` starts a commit. */
  ready(waiting: number, failing: boolean, kick: () => void): Promise<void> | undefined;
  /** After each commit (or failure): releases the waiters once caught up. */
  check(waiting: number, failing: boolean): void;
}

export function createBackpressure(highWater: number): Backpressure {
  let caughtUp: Promise<void> | undefined;
  let release: (() => void) | undefined;
  return {
    ready(waiting, failing, kick) {
      if (failing) return undefined;
      if (caughtUp) return caughtUp;
      if (waiting < highWater) return undefined;
      caughtUp = new Promise<void>((resolve) => (release = resolve));
      kick();
      return caughtUp;
    },
    check(waiting, failing) {
      if (release && (failing || waiting < highWater / 2)) {
        release();
        release = undefined;
        caughtUp = undefined;
      }
    },
  };
}
