import { evaluate } from './harness.js';
import * as P from './parts.js';
const R = (rest: number, base: number, parts: Array<() => (v: number) => number>, comb: 'max' | 'mean' = 'max') => () => {
  const ps = parts.map((p) => p()); const q = P.rest(rest, base);
  return (_t: number, v: number) => { let s = 0; for (const p of ps) { const x = p(v); s = comb === 'max' ? Math.max(s, x) : s + x / ps.length; } return q(s); };
};
const range = (c: number) => () => { const r = P.range(), s = P.squash(c); return (v: number) => s(r(v)); };
const levelL = () => { const r = P.level(10, 500), l = P.likelihood(4000, 10); return (v: number) => l(Math.min(r(v), 10)); };
const rollZL = () => { const r = P.rollZ(500), l = P.likelihood(4000, 10); return (v: number) => l(Math.min(r(v), 10)); };
for (const rest of [50, 150, 300]) evaluate(`range rest${rest}`, R(rest, 0.5, [range(1)]));
for (const base of [0.1, 0.3, 0.9]) evaluate(`range rest150 base${base}`, R(150, base, [range(1)]));
evaluate('range+level max', R(150, 0.5, [range(1), levelL]));
evaluate('range+rollZ max', R(150, 0.5, [range(1), rollZL]));
evaluate('range+level+rollZ max', R(150, 0.5, [range(1), levelL, rollZL]));
