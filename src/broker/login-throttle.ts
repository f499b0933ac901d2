// Failed logins slow down their source address: after n failures in a row an address is
// refused outright (no password check at all) for min(2^(n-1) s, 60 s). A sensor with a stale
// password in a reconnect loop then costs one scrypt run a minute, not a thread-pool-full of
// them (libuv's pool is also where SQLite's commits run), and guessing is slow.

export interface LoginThrottle {
  /** Milliseconds this address must still wait (0: it may try). */
  wait(address: string, now: number): number;
  /** A failed login; returns the new penalty and whether a burst of failures starts here. */
  failed(address: string, now: number): { penaltyMs: number; burst: boolean };
  succeeded(address: string): void;
}

const MAX_PENALTY_MS = 60_000;

export function createLoginThrottle(maxAddresses = 10_000): LoginThrottle {
  const byAddress = new Map<string, { failures: number; until: number }>();
  return {
    wait(address, now) {
      const s = byAddress.get(address);
      return s ? Math.max(0, s.until - now) : 0;
    },
    failed(address, now) {
      const s = byAddress.get(address) ?? { failures: 0, until: 0 };
      // A failure long after the last penalty ended starts a new burst.
      if (s.failures > 0 && now - s.until > MAX_PENALTY_MS) s.failures = 0;
      s.failures++;
      const penaltyMs = Math.min(1000 * 2 ** (s.failures - 1), MAX_PENALTY_MS);
      s.until = now + penaltyMs;
      byAddress.delete(address);
      byAddress.set(address, s);
      if (byAddress.size > maxAddresses) byAddress.delete(byAddress.keys().next().value!);
      return { penaltyMs, burst: s.failures === 1 };
    },
    succeeded(address) {
      byAddress.delete(address);
    },
  };
}
