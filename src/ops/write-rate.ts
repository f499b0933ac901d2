// The agent's own disk writes, from /proc/self/io (write_bytes: what this process caused to be
// written to storage, the SD card's wear): a rate over the last hour of samples, and what it
// makes in a day. Sampled with every health report; null where /proc has no such file.
import { readFileSync } from 'node:fs';

export interface WriteRate {
  /** Bytes written per hour over the samples of the last hour (at least a minute of them). */
  bytesPerHour: number | null;
  /** The same, as GB (10^9 bytes) a day. */
  projectedGBPerDay: number | null;
}

export function readWriteBytes(): number | null {
  try {
    const m = /^write_bytes:\s+(\d+)$/m.exec(readFileSync('/proc/self/io', 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

const WINDOW_MS = 3_600_000;
const MIN_SPAN_MS = 60_000;

export function createWriteRate(read: () => number | null = readWriteBytes): { sample(now: number): WriteRate } {
  const samples: Array<[number, number]> = [];
  return {
    sample(now) {
      const bytes = read();
      if (bytes === null) return { bytesPerHour: null, projectedGBPerDay: null };
      samples.push([now, bytes]);
      while (samples.length > 2 && now - samples[0]![0] > WINDOW_MS) samples.shift();
      const [t0, b0] = samples[0]!;
      if (now - t0 < MIN_SPAN_MS) return { bytesPerHour: null, projectedGBPerDay: null };
      const perMs = (bytes - b0) / (now - t0);
      return { bytesPerHour: Math.round(perMs * 3_600_000), projectedGBPerDay: Math.round(perMs * 86_400_000 / 1e6) / 1000 };
    },
  };
}
