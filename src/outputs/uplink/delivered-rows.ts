// Acknowledgement bookkeeping: rows the fleet broker acknowledged (or refused for good, once
// their dead letter is kept) are claimed at once, so no read sends them again, and deleted
// from the outbox in batches; a delete that fails (a full or read-only disk) is retried, never
// forgotten. A restart before the delete sends them again: a duplicate, never a loss.
import type { Outbox } from '../../store/outbox.js';
import type { Logger } from '../../ops/logger.js';

const DELETE_BATCH = 500;
const DELETE_DELAY_MS = 100;
const DELETE_RETRY_MS = 1000;

export interface DeliveredRows {
  /** Claimed from now on: reads skip it. */
  claim(seq: number): void;
  /** Undo a claim (a refused row whose dead letter could not be kept). */
  unclaim(seq: number): void;
  /** Claimed and to be deleted (soon, in a batch). */
  done(seq: number): void;
  has(seq: number): boolean;
  /** Every claimed seq not yet deleted. */
  claimed(): Iterable<number>;
  /** Deletes what is waiting now. */
  flush(): Promise<void>;
  /** No more timers (the last flush is the caller's). */
  stop(): void;
}

export function createDeliveredRows(outbox: Outbox, log: Logger): DeliveredRows {
  let waiting: number[] = [];
  const claimed = new Set<number>(); // acknowledged, not yet deleted
  let timer: NodeJS.Timeout | undefined;
  let deleting: Promise<void> = Promise.resolve();
  let failing = false;
  let stopped = false;

  const later = (ms: number) => {
    if (!timer && !stopped) timer = setTimeout(() => void flush(), ms);
  };
  const flush = (): Promise<void> => {
    clearTimeout(timer);
    timer = undefined;
    const batch = waiting;
    waiting = [];
    deleting = deleting.then(
      () =>
        outbox.remove(batch).then(
          () => {
            failing = false;
            for (const seq of batch) claimed.delete(seq);
          },
          (err: Error) => {
            if (!failing) log.warn({ err: err.message, rows: batch.length }, 'could not delete delivered rows from the outbox yet; retrying');
            failing = true;
            for (const seq of batch) waiting.push(seq); // no spread: batches can be large
            later(DELETE_RETRY_MS);
          },
        ),
    );
    return deleting;
  };

  return {
    claim: (seq) => void claimed.add(seq),
    unclaim: (seq) => void claimed.delete(seq),
    done(seq) {
      claimed.add(seq);
      waiting.push(seq);
      if (waiting.length >= DELETE_BATCH) void flush();
      else later(DELETE_DELAY_MS);
    },
    has: (seq) => claimed.has(seq),
    claimed: () => claimed,
    flush,
    stop() {
      stopped = true;
    },
  };
}
