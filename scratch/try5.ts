import { evaluate } from './harness.js';
import * as P from './parts.js';
const R = (rest: number, base: number, parts: Array<() => (v: number) => number>) => () => {
  const ps = parts.map((p) => p()); const q = P.rest(rest, base);
  return (_t: number, v: number) => { let s = 0; for (const p of ps) s = Math.max(s, p(v)); return q(s); };
};
const range = (c: number) => () => { const r = P.range(), s = P.squash(c); return (v: number) => s(r(v)); };
// empirical two-sided tail probability via log bins (brute force prefix sums)
const tailNov = (gamma: number, minN: number, k: number) => () => {
  const bins = new Map<number, number>(); let n = 0;
  const key = (v: number) => (v === 0 ? 0 : Math.sign(v) * (1 + Math.round(Math.log(Math.abs(v) + 1e-9) / Math.log(gamma) + 2000)));
  return (v: number) => {
    const b = key(v); let above = 0, below = 0;
    if (n >= minN) for (const [kk, c] of bins) { if (kk >= b) above += c; if (kk <= b) below += c; }
    const p = Math.min(above, below) / n;
    bins.set(b, (bins.get(b) ?? 0) + 1); n++;
    if (n <= minN) return 0;
    return Math.min(1, -Math.log10(Math.max(p, 1 / (n * 10))) / k);
  };
};
for (const rest of [0, 20, 50, 100]) evaluate(`range rest${rest}`, R(rest, 0.5, [range(1)]));
for (const k of [4, 6]) evaluate(`tail k${k} rest50`, R(50, 0.5, [tailNov(1.02, 100, k)]));
