// A token bucket: at most `ratePerS` takes a second on average, bursts up to one second's worth.
// `ratePerS` 0 means unlimited.
export interface TokenBucket {
  /** Takes one token: true, or false and nothing taken. */
  take(now: number): boolean;
  /** Milliseconds until the next token, from `now`. */
  waitMs(now: number): number;
}

export function createTokenBucket(ratePerS: number, now: number): TokenBucket {
  if (ratePerS <= 0) return { take: () => true, waitMs: () => 0 };
  const capacity = Math.max(1, ratePerS);
  let tokens = capacity;
  let at = now;
  const refill = (t: number) => {
    tokens = Math.min(capacity, tokens + ((t - at) * ratePerS) / 1000);
    at = t;
  };
  return {
    take(t) {
      refill(t);
      if (tokens < 1) return false;
      tokens -= 1;
      return true;
    },
    waitMs(t) {
      refill(t);
      return tokens >= 1 ? 0 : Math.ceil(((1 - tokens) * 1000) / ratePerS);
    },
  };
}
