import { evaluate } from './harness.js';
import * as P from './parts.js';
type F = () => (v: number) => number;
const R = (rest: number, base: number, parts: F[], comb = 'max') => () => {
  const ps = parts.map((p) => p()); const q = P.rest(rest, base);
  return (_t: number, v: number) => { let s = 0; for (const p of ps) { const x = p(v); s = comb === 'max' ? Math.max(s, x) : s + x; } return q(comb === 'max' ? s : s / ps.length); };
};
// surprise in log10 units of empirical two-sided tail prob of feature f(v)
const tailOf = (feat: () => (v: number) => number | undefined, opts: { gamma?: number; minN?: number; k?: number; twoSided?: boolean } = {}) => () => {
  const gamma = opts.gamma ?? 1.02, minN = opts.minN ?? 100, k = opts.k ?? 6;
  const f = feat();
  const bins = new Map<number, number>(); let n = 0;
  const key = (v: number) => (v === 0 ? 0 : Math.sign(v) * (1 + Math.round(Math.log(Math.abs(v) + 1e-12) / Math.log(gamma) + 3000)));
  return (v: number) => {
    const x = f(v); if (x === undefined) return 0;
    const b = key(x); let above = 0, below = 0;
    if (n >= minN) for (const [kk, c] of bins) { if (kk >= b) above += c; if (kk <= b) below += c; }
    const p = (opts.twoSided === false ? above : Math.min(above, below)) / n;
    bins.set(b, (bins.get(b) ?? 0) + 1); n++;
    if (n <= minN) return 0;
    return Math.min(1, -Math.log10(Math.max(p, 1 / (n * 10))) / k);
  };
};
const value = () => (v: number) => v;
const absDiff = () => { let prev = NaN; return (v: number) => { const d = Number.isNaN(prev) ? undefined : Math.abs(v - prev); prev = v; return d; }; };
const mean = (S: number) => () => { const m = P.rollMeanStd(S); return (v: number) => { m.push(v); const [mu, , n] = m.stats(); return n < S ? undefined : mu; }; };
const sd = (S: number) => () => { const m = P.rollMeanStd(S); return (v: number) => { m.push(v); const [, s, n] = m.stats(); return n < S ? undefined : s; }; };
evaluate('tail(v)', R(50, 0.5, [tailOf(value)]));
evaluate('tail(|dv|) 1-sided', R(50, 0.5, [tailOf(absDiff, { twoSided: false })]));
evaluate('tail(mean10)', R(50, 0.5, [tailOf(mean(10))]));
evaluate('tail(sd20) 1-sided', R(50, 0.5, [tailOf(sd(20), { twoSided: false })]));
evaluate('max v,mean10', R(50, 0.5, [tailOf(value), tailOf(mean(10))]));
evaluate('max v,|dv|', R(50, 0.5, [tailOf(value), tailOf(absDiff, { twoSided: false })]));
evaluate('max v,sd20', R(50, 0.5, [tailOf(value), tailOf(sd(20), { twoSided: false })]));
evaluate('max v,mean10,sd20', R(50, 0.5, [tailOf(value), tailOf(mean(10)), tailOf(sd(20), { twoSided: false })]));
