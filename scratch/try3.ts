import { evaluate } from './harness.js';
import * as P from './parts.js';
const combos: Record<string, () => (t: number, v: number) => number> = {
  'rollZ500 like rest': () => { const r = P.rollZ(500), l = P.likelihood(4000, 10), q = P.rest(150, 0.5); return (_t, v) => q(l(Math.min(r(v), 10))); },
  'ewma0.01 like rest': () => { const r = P.ewmaZ(0.01), l = P.likelihood(4000, 10), q = P.rest(150, 0.5); return (_t, v) => q(l(Math.min(r(v), 10))); },
  'ewma0.05 like rest': () => { const r = P.ewmaZ(0.05), l = P.likelihood(4000, 10), q = P.rest(150, 0.5); return (_t, v) => q(l(Math.min(r(v), 10))); },
  'diff0.01 like rest': () => { const r = P.diffZ(0.01), l = P.likelihood(4000, 10), q = P.rest(150, 0.5); return (_t, v) => q(l(Math.min(r(v), 10))); },
  'level10/500 like rest': () => { const r = P.level(10, 500), l = P.likelihood(4000, 10), q = P.rest(150, 0.5); return (_t, v) => q(l(Math.min(r(v), 10))); },
  'range squash rest': () => { const r = P.range(), s = P.squash(1), q = P.rest(150, 0.5); return (_t, v) => q(s(r(v))); },
  'ewma0.01 squash rest': () => { const r = P.ewmaZ(0.01), s = P.squash(5), q = P.rest(150, 0.5); return (_t, v) => q(s(r(v))); },
};
for (const [k, f] of Object.entries(combos)) evaluate(k, f);
