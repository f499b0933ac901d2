import { evaluate } from './harness.js';
// Baseline: rolling z-score over W, score = 1 - 2*Q(|z|) ... with rest period
function zs(W: number, rest: number) {
  return () => {
    const ring: number[] = []; let sum = 0, sq = 0; let quiet = 0;
    return (_t: number, v: number) => {
      let s = 0;
      if (ring.length >= 10) {
        const m = sum / ring.length, sd = Math.sqrt(Math.max(1e-12, sq / ring.length - m * m));
        const z = Math.abs(v - m) / sd;
        s = Math.min(1, z / 10);
      }
      ring.push(v); sum += v; sq += v * v;
      if (ring.length > W) { const o = ring.shift()!; sum -= o; sq -= o * o; }
      if (quiet > 0) { quiet--; return 0; }
      return s;
    };
  };
}
for (const W of [100, 500]) evaluate(`zscore W=${W}`, zs(W, 0));
