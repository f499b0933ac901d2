import { evaluate } from './harness.js';
import * as P from './parts.js';
type Feat = () => (v: number) => number | undefined;
const surprise = (feat: Feat, gamma: number, oneSided = false, decay = 0) => () => {
  const f = feat(); const bins = new Map<number, number>(); let n = 0; const lg = Math.log(gamma);
  const key = (v: number) => (v === 0 ? 0 : Math.sign(v) * (1 + Math.round(Math.log(Math.abs(v) + 1e-12) / lg + 3000)));
  return (v: number) => {
    const x = f(v); if (x === undefined) return 0;
    const b = key(x); let above = 0, below = 0;
    for (const [kk, c] of bins) { if (kk >= b) above += c; if (kk <= b) below += c; }
    const p = n < 100 ? 1 : (oneSided ? above : Math.min(above, below)) / n;
    if (decay > 0 && (n % 100) === 0) { for (const [kk, c] of bins) bins.set(kk, c * (1 - decay) ** 100); n *= (1 - decay) ** 100; }
    bins.set(b, (bins.get(b) ?? 0) + 1); n++;
    return -Math.log10(Math.max(p, 1 / (n * 10))); // log10 units
  };
};
const value: Feat = () => (v) => v;
const diff: Feat = () => { let prev = NaN; return (v) => { const d = Number.isNaN(prev) ? undefined : v - prev; prev = v; return d; }; };
const comb = (parts: Array<() => (v: number) => number>, how: 'sum' | 'max', k: number, rest: number) => () => {
  const ps = parts.map((p) => p()); const q = P.rest(rest, 0.5);
  return (_t: number, v: number) => { let s = 0; for (const p of ps) { const x = p(v); s = how === 'sum' ? s + x : Math.max(s, x); } return q(Math.min(1, s / k)); };
};
evaluate('v g1.1', comb([surprise(value, 1.1)], 'max', 6, 20));
evaluate('v g1.1 decay1e-4', comb([surprise(value, 1.1, false, 1e-4)], 'max', 6, 20));
evaluate('v g1.1 decay1e-5', comb([surprise(value, 1.1, false, 1e-5)], 'max', 6, 20));
evaluate('v+dv sum k8', comb([surprise(value, 1.1), surprise(diff, 1.1)], 'sum', 8, 20));
evaluate('v+dv sum k10', comb([surprise(value, 1.1), surprise(diff, 1.1)], 'sum', 10, 20));
