import { evaluate, files } from './harness.js';
import * as P from './parts.js';
import { PROFILES, scoreFile, probation } from '../src/nab/scorer.js';
const surprise = (gamma: number) => () => {
  const bins = new Map<number, number>(); let n = 0; const lg = Math.log(gamma); const q = P.rest(20, 0.5);
  const key = (v: number) => (v === 0 ? 0 : Math.sign(v) * (1 + Math.round(Math.log(Math.abs(v) + 1e-12) / lg + 3000)));
  return (_t: number, v: number) => {
    const b = key(v); let above = 0, below = 0;
    for (const [kk, c] of bins) { if (kk >= b) above += c; if (kk <= b) below += c; }
    const p = n < 100 ? 1 : Math.min(above, below) / n;
    bins.set(b, (bins.get(b) ?? 0) + 1); n++;
    return q(Math.min(1, -Math.log10(Math.max(p, 1 / (n * 10))) / 6));
  };
};
const { scored, best } = evaluate('v g1.1', surprise(1.1));
const th = best[0]!.threshold; const p = PROFILES[0]!;
let tot = 0;
for (const f of scored) {
  const s = scoreFile(f, th, p); tot += s;
  const P0 = probation(f.rows);
  let fp = 0; const hit: string[] = [];
  for (const w of f.windows) { let first = -1; for (let i = Math.max(w[0], P0); i <= w[1]; i++) if (f.scores[i]! >= th) { first = i; break; } hit.push(first < 0 ? 'MISS' : ((first - w[0]) / (w[1] - w[0] + 1)).toFixed(2)); }
  for (let i = P0; i < f.rows; i++) if (f.scores[i]! >= th && !f.windows.some((w) => i >= w[0] && i <= w[1])) fp++;
  console.log(s.toFixed(2).padStart(6), String(fp).padStart(3), hit.join(' ').padEnd(30), (f as unknown as { name: string }).name);
}
