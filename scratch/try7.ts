import { evaluate } from './harness.js';
import * as P from './parts.js';
const tail = (gamma: number, minN: number, rest: number, base: number, decay = 0) => () => {
  const bins = new Map<number, number>(); let n = 0;
  const lg = Math.log(gamma);
  const key = (v: number) => (v === 0 ? 0 : Math.sign(v) * (1 + Math.round(Math.log(Math.abs(v) + 1e-12) / lg + 3000)));
  const q = P.rest(rest, base);
  return (_t: number, v: number) => {
    const b = key(v); let above = 0, below = 0;
    if (n >= minN) for (const [kk, c] of bins) { if (kk >= b) above += c; if (kk <= b) below += c; }
    const p = Math.min(above, below) / n;
    if (decay > 0) { for (const [kk, c] of bins) bins.set(kk, c * (1 - decay)); n *= (1 - decay); }
    bins.set(b, (bins.get(b) ?? 0) + 1); n++;
    if (n <= minN) return q(0);
    return q(Math.min(1, -Math.log10(Math.max(p, 1 / (n * 10))) / 6));
  };
};
//for (const gamma of [1.005, 1.02, 1.1]) evaluate(`g${gamma}`, tail(gamma, 100, 50, 0.5));
//for (const minN of [20, 300]) evaluate(`minN${minN}`, tail(1.02, minN, 50, 0.5));
//for (const [rest, base] of [[0, 0.5], [20, 0.5], [100, 0.5], [200, 0.5], [50, 0.3], [50, 0.7]]) evaluate(`rest${rest} base${base}`, tail(1.02, 100, rest, base));
console.log('---');
for (const gamma of [1.05, 1.1, 1.2, 1.5]) for (const rest of [10, 20, 40]) evaluate(`g${gamma} rest${rest}`, tail(gamma, 100, rest, 0.5));
