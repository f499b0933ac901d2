// Whether the wall clock can be believed. A Pi has no real-time clock: it may boot at 1970 or
// at a stale saved time and jump when NTP syncs. Pure: the caller passes wall time, monotonic
// time and what systemd-timesyncd says.
//
// Policy:
// - a wall time before `floor` (this build's date) is never real: invalid, whatever else;
// - synchronized !== false (synced, or no time service to ask) and not before floor: trusted;
// - timesyncd says not synchronized: untrusted for `syncTimeoutMs` after start, then trusted
//   anyway (a device with no network must still stamp readings), with the state saying so;
// - a change of (wall - monotonic) by more than `jumpToleranceMs` between two checks is a jump.

export type ClockState = 'trusted' | 'unsynchronized' | 'invalid';

export interface ClockObservation {
  wall: number;
  mono: number;
  /** systemd-timesyncd's flag; null when there is no such service to ask. */
  synchronized: boolean | null;
}

export interface ClockStatus {
  state: ClockState;
  synchronized: boolean | null;
  /** Trusted only because the sync timeout passed. */
  unsyncedFallback: boolean;
  jumps: number;
  /** Size of the most recent jump in ms (positive: forward), or null. */
  lastJumpMs: number | null;
}

export interface ClockTrust {
  /** Returns the status and, when the clock jumped since the last call, the jump in ms. */
  observe(o: ClockObservation): ClockStatus & { jump: number };
  status(): ClockStatus;
}

export function createClockTrust({ floor, syncTimeoutMs, jumpToleranceMs = 2000 }: { floor: number; syncTimeoutMs: number; jumpToleranceMs?: number }): ClockTrust {
  let startMono: number | undefined;
  let offset: number | undefined; // wall - mono at the last check
  let status: ClockStatus = { state: 'invalid', synchronized: null, unsyncedFallback: false, jumps: 0, lastJumpMs: null };
  return {
    observe({ wall, mono, synchronized }) {
      startMono ??= mono;
      let jump = 0;
      const d = wall - mono;
      if (offset !== undefined && Math.abs(d - offset) > jumpToleranceMs) jump = d - offset;
      offset = d;
      const waitedOut = mono - startMono >= syncTimeoutMs;
      const state: ClockState = wall < floor ? 'invalid' : synchronized === false && !waitedOut ? 'unsynchronized' : 'trusted';
      status = {
        state,
        synchronized,
        unsyncedFallback: state === 'trusted' && synchronized === false,
        jumps: status.jumps + (jump !== 0 ? 1 : 0),
        lastJumpMs: jump !== 0 ? jump : status.lastJumpMs,
      };
      return { ...status, jump };
    },
    status: () => status,
  };
}
