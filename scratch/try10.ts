import { evaluate } from './harness.js';
import * as P from './parts.js';
type Feat = () => (t: number, v: number) => number | undefined;
const surprise = (feat: Feat, gamma: number, oneSided = false, minN = 100) => () => {
  const f = feat(); const bins = new Map<number, number>(); let n = 0; const lg = Math.log(gamma);
  const key = (v: number) => (v === 0 ? 0 : Math.sign(v) * (1 + Math.round(Math.log(Math.abs(v) + 1e-12) / lg + 3000)));
  return (t: number, v: number) => {
    const x = f(t, v); if (x === undefined) return 0;
    const b = key(x); let above = 0, below = 0;
    for (const [kk, c] of bins) { if (kk >= b) above += c; if (kk <= b) below += c; }
    const p = n < minN ? 1 : (oneSided ? above : Math.min(above, below)) / n;
    bins.set(b, (bins.get(b) ?? 0) + 1); n++;
    return -Math.log10(Math.max(p, 1 / (n * 10)));
  };
};
const value: Feat = () => (_t, v) => v;
// seasonal residual: v - (slot EWMA of the same time of day), slots of `slotMin` minutes
const seasonal = (slotMin: number, alpha: number): Feat => () => {
  const slots = new Map<number, number>(); let first = NaN;
  return (t, v) => {
    if (Number.isNaN(first)) first = t;
    const slot = Math.floor((t % 86_400_000) / (slotMin * 60_000));
    const prev = slots.get(slot);
    slots.set(slot, prev === undefined ? v : prev + alpha * (v - prev));
    if (prev === undefined || t - first < 86_400_000) return undefined;
    return Math.abs(v - prev);
  };
};
const comb = (parts: Array<() => (t: number, v: number) => number>, k: number, rest: number, weights?: number[]) => () => {
  const ps = parts.map((p) => p()); const q = P.rest(rest, 0.5);
  return (t: number, v: number) => { let s = 0; ps.forEach((p, i) => { s = Math.max(s, p(t, v) * (weights?.[i] ?? 1)); }); return q(Math.min(1, s / k)); };
};
//evaluate("v", comb([surprise(value, 1.1)], 6, 20));
if (false) for (const slot of [5, 30]) for (const a of [0.3, 1]) {
  evaluate(`seasonal only ${slot}m a${a}`, comb([surprise(seasonal(slot, a), 1.1, true)], 6, 20));
  evaluate(`v + seasonal ${slot}m a${a}`, comb([surprise(value, 1.1), surprise(seasonal(slot, a), 1.1, true)], 6, 20));
  evaluate(`v + 0.8 seasonal ${slot}m a${a}`, comb([surprise(value, 1.1), surprise(seasonal(slot, a), 1.1, true)], 6, 20, [1, 0.8]));
}
console.log('--- grid');
for (const slot of [10, 15]) for (const a of [0.1, 0.3, 0.5]) for (const w of [0.8, 0.9]) evaluate(`v + ${w} seasonal ${slot}m a${a}`, comb([surprise(value, 1.1), surprise(seasonal(slot, a), 1.1, true)], 6, 20, [1, w]));
