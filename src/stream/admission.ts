// Checks a parsed reading against the device's limits before it enters the stream: a valid,
// bounded sensor id, a bounded number of distinct sensors, and no timestamps from the future.
import type { Reading } from './reading.js';
import type { Problem } from './rejection.js';
import { sensorIdBytes, sensorIdProblem } from './sensor-id.js';
import { iso } from './iso-time.js';

/**
 * Largest magnitude a reading may have. Far beyond any physical sensor, and small enough that
 * sums and squared deviations of a window's readings (moments.ts) can never overflow to
 * Infinity, which JSON would send upstream as null.
 */
export const MAX_ABS_VALUE = 1e100;

export interface AdmissionLimits {
  maxSensorIdLength: number;
  maxSensors: number;
  /** Milliseconds a reading may be stamped ahead of the agent's clock. */
  maxFutureSkew: number;
  /** Epoch ms before which no timestamp is real (this build's date). */
  floor: number;
  /** A sensor silent this long (ms, by arrival) is forgotten: it no longer counts toward maxSensors. 0: never. */
  sensorIdleTtl?: number;
}

export interface Admission {
  /** `now`: the agent's clock, or Infinity while it is not trusted (no future check then). */
  check(reading: Reading, now: number): Problem | undefined;
  /** What is wrong with `id` as a name that goes into a topic (a sensor, a device), or undefined. */
  checkId(id: string): Problem | undefined;
  knownSensors(): number;
  /** Forgets sensors silent for longer than sensorIdleTtl at `now` (epoch ms); returns how many. */
  forgetIdle(now: number): number;
}

export function createAdmission(limits: AdmissionLimits): Admission {
  // Sensor -> last arrival (receivedAt); forgetIdle scans them all.
  const known = new Map<string, number>();
  const checkId = (id: string): Problem | undefined => {
    const bytes = sensorIdBytes(id);
    if (bytes > limits.maxSensorIdLength) return { reason: 'sensor-id-too-long', detail: `sensor id is ${bytes} bytes (UTF-8); limits.maxSensorIdLength is ${limits.maxSensorIdLength}` };
    const problem = sensorIdProblem(id);
    return problem ? { reason: 'bad-sensor-id', detail: `sensor id ${JSON.stringify(id)} ${problem}` } : undefined;
  };
  return {
    checkId,
    check(r, now) {
      if (!known.has(r.sensor)) {
        const bad = checkId(r.sensor);
        if (bad) return bad;
        if (known.size >= limits.maxSensors) {
          return { reason: 'too-many-sensors', detail: `already tracking limits.maxSensors = ${limits.maxSensors} sensors; ${JSON.stringify(r.sensor)} is one more` };
        }
      }
      if (!Number.isFinite(r.ts) || !Number.isFinite(r.value)) {
        return { reason: 'non-finite', detail: `reading for ${JSON.stringify(r.sensor)} has a non-finite time or value` };
      }
      if (Math.abs(r.value) > MAX_ABS_VALUE) {
        return { reason: 'value-out-of-range', detail: `value ${r.value} is beyond ±${MAX_ABS_VALUE}: no sensor measures that, and window sums would overflow` };
      }
      if (r.ts < limits.floor) {
        return { reason: 'bad-timestamp', detail: `timestamp ${iso(r.ts)} is before this Outpost build existed: the sensor's clock is not set` };
      }
      if (r.ts > now + limits.maxFutureSkew) {
        return { reason: 'future-timestamp', detail: `timestamp ${iso(r.ts)} is ${Math.round((r.ts - now) / 1000)} s ahead of the agent's clock (limits.maxFutureSkew ${limits.maxFutureSkew} ms)` };
      }
      known.set(r.sensor, r.receivedAt);
      return undefined;
    },
    knownSensors: () => known.size,
    forgetIdle(now) {
      const ttl = limits.sensorIdleTtl ?? 0;
      if (ttl <= 0) return 0;
      let n = 0;
      for (const [sensor, last] of known) {
        if (now - last <= ttl) continue;
        known.delete(sensor);
        n++;
      }
      return n;
    },
  };
}
