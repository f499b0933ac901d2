// The machine's clocks: wall (may jump), monotonic (never does) and systemd-timesyncd's flag.
import { existsSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

// systemd-timesyncd creates this file once the clock has been synchronized since boot.
const TIMESYNC_DIR = '/run/systemd/timesync';
const TIMESYNC_FLAG = `${TIMESYNC_DIR}/synchronized`;

export interface SystemClock {
  wall(): number;
  mono(): number;
  /** null when this machine has no systemd-timesyncd to ask. */
  synchronized(): boolean | null;
}

export const systemClock: SystemClock = {
  wall: () => Date.now(),
  mono: () => performance.now(),
  // Only timesyncd keeps this flag; with another time service (or none) there is nothing to ask.
  synchronized: () => (existsSync(TIMESYNC_DIR) ? existsSync(TIMESYNC_FLAG) : null),
};
