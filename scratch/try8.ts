import { evaluate } from './harness.js';
import * as P from './parts.js';
// linear bins whose width is set from the warm-up's spread
const lin = (frac: number, minN: number, rest: number, spreadKind: 'std' | 'range' | 'iqr') => () => {
  const bins = new Map<number, number>(); let n = 0; let width = 0; const warm: number[] = [];
  const q = P.rest(rest, 0.5);
  return (_t: number, v: number) => {
    if (width === 0) {
      warm.push(v);
      if (warm.length >= minN) {
        const s = [...warm].sort((a, b) => a - b);
        const m = warm.reduce((a, b) => a + b, 0) / warm.length;
        const spread = spreadKind === 'std' ? Math.sqrt(warm.reduce((a, b) => a + (b - m) ** 2, 0) / warm.length) : spreadKind === 'range' ? s[s.length - 1]! - s[0]! : s[Math.floor(s.length * 0.75)]! - s[Math.floor(s.length * 0.25)]!;
        width = Math.max(spread * frac, Math.abs(m) * 1e-6, 1e-9);
        for (const w of warm) { const b = Math.floor(w / width); bins.set(b, (bins.get(b) ?? 0) + 1); n++; }
      }
      return q(0);
    }
    const b = Math.floor(v / width); let above = 0, below = 0;
    for (const [kk, c] of bins) { if (kk >= b) above += c; if (kk <= b) below += c; }
    const p = Math.min(above, below) / n;
    bins.set(b, (bins.get(b) ?? 0) + 1); n++;
    return q(Math.min(1, -Math.log10(Math.max(p, 1 / (n * 10))) / 6));
  };
};
for (const kind of ['std', 'range', 'iqr'] as const) for (const frac of [0.1, 0.3, 1]) evaluate(`lin ${kind} frac${frac}`, lin(frac, 100, 20, kind));
