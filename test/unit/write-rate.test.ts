// The agent's disk-write rate in health: over the last hour of samples, as bytes an hour and a
// projection in GB a day; nothing claimed before a minute of samples or without /proc.
import { describe, expect, it } from 'vitest';
import { createWriteRate, readWriteBytes } from '../../src/ops/write-rate.js';

describe('write rate', () => {
  it('is measured over the last hour of samples and projected to a day', () => {
    let bytes = 0;
    const rate = createWriteRate(() => bytes);
    expect(rate.sample(0)).toEqual({ bytesPerHour: null, projectedGBPerDay: null });
    bytes = 1_000_000;
    expect(rate.sample(30_000)).toEqual({ bytesPerHour: null, projectedGBPerDay: null }); // under a minute
    bytes = 2_000_000;
    expect(rate.sample(60_000)).toEqual({ bytesPerHour: 120_000_000, projectedGBPerDay: 2.88 }); // 2 MB a minute
    // Two hours on, writing 1 MB a minute: the first hour's samples are forgotten.
    for (let t = 120_000; t <= 2 * 3_600_000; t += 60_000) {
      bytes += 1_000_000;
      rate.sample(t);
    }
    expect(rate.sample(2 * 3_600_000 + 1).bytesPerHour).toBeCloseTo(60_000_000, -2); // (1 ms past the last sample)
    expect(createWriteRate(() => null).sample(1e9)).toEqual({ bytesPerHour: null, projectedGBPerDay: null });
  });
  it('reads this process\'s write_bytes from /proc where there is one', () => {
    const b = readWriteBytes();
    expect(b === null || (Number.isInteger(b) && b >= 0)).toBe(true);
  });
});
