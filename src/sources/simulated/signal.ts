// Deterministic simulated sensor signals: a base shape plus gaussian noise plus scheduled
// anomalies. Same seed and config -> the same values, sample for sample, on every machine.
// Pure: sample k is at k / rateHz seconds after the simulator's start.
import type { SimulatedSensorConfig } from '../../config/schema.js';

type SignalConfig = Omit<SimulatedSensorConfig, 'id'>;

export interface Signal {
  /** The next sample's value, or undefined for a sample lost to a dropout anomaly. */
  next(): number | undefined;
  /** Seconds since start of the sample `next()` will produce. */
  time(): number;
}

/** mulberry32: small, fast, good enough for test signals. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function hashSeed(seed: number, id: string): number {
  let h = seed ^ 0x811c9dc5;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 16777619);
  return h >>> 0;
}

export function createSignal(cfg: SignalConfig, seed: number): Signal {
  const random = seededRandom(seed);
  const gauss = () => {
    // Box-Muller; 1 - u keeps log() away from 0.
    const u = 1 - random();
    const v = random();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  };
  const dt = 1 / cfg.rateHz;
  const periodS = cfg.period / 1000;
  let k = 0;
  let walk = cfg.base;
  const stuckAt = new Map<number, number>(); // anomaly index -> frozen value

  const shape = (t: number): number => {
    switch (cfg.shape) {
      case 'sine':
        return cfg.base + cfg.amplitude * Math.sin((2 * Math.PI * t) / periodS);
      case 'step':
        return cfg.base + (Math.floor(t / (periodS / 2)) % 2 === 0 ? 0 : cfg.amplitude);
      case 'random-walk':
        // Ornstein-Uhlenbeck: wanders by about `amplitude`, pulled back to base over a period.
        walk += ((cfg.base - walk) * dt) / periodS + cfg.amplitude * Math.sqrt((2 * dt) / periodS) * gauss();
        return walk;
    }
  };

  /** Seconds into the current occurrence of an anomaly, or -1 when it is not active at t. */
  const activeFor = (a: SignalConfig['anomalies'][number], t: number): number => {
    const at = a.at / 1000;
    if (t < at) return -1;
    const span = Math.max(a.duration / 1000, dt);
    const since = a.every ? (t - at) % (a.every / 1000) : t - at;
    return since < span - 1e-9 ? since : -1;
  };

  return {
    time: () => k * dt,
    next() {
      const t = k * dt;
      k++;
      let value = shape(t) + (cfg.noise > 0 ? cfg.noise * gauss() : 0);
      let dropped = false;
      cfg.anomalies.forEach((a, i) => {
        const since = activeFor(a, t);
        if (since < 0) {
          stuckAt.delete(i);
          return;
        }
        if (a.type === 'spike') value += a.magnitude;
        else if (a.type === 'drift') value += a.magnitude * since;
        else if (a.type === 'dropout') dropped = true;
        else {
          if (!stuckAt.has(i)) stuckAt.set(i, value);
          value = stuckAt.get(i)!;
        }
      });
      return dropped ? undefined : value;
    },
  };
}
