import { evaluate } from './harness.js';
// Q(x): normal tail
function tail(x: number) { // P(Z > x)
  const t = 1 / (1 + 0.2316419 * Math.abs(x));
  const d = 0.3989423 * Math.exp(-x * x / 2);
  const p = d * t * (0.3193815 + t * (-0.3565638 + t * (1.781478 + t * (-1.821256 + t * 1.330274))));
  return x >= 0 ? p : 1 - p;
}
// raw: rolling z over W of value; then likelihood over raw moving averages
function mk(W: number, H: number, S: number, rest: number, useLog: boolean) {
  return () => {
    const ring = new Float64Array(W); let n = 0, next = 0, sum = 0, sq = 0;
    const hist = new Float64Array(H); let hn = 0, hnext = 0, hsum = 0, hsq = 0;
    const short: number[] = []; let ssum = 0;
    let quiet = 0;
    return (_t: number, v: number) => {
      let raw = 0;
      if (n >= 10) {
        const m = sum / n, sd = Math.sqrt(Math.max(0, sq / n - m * m));
        raw = sd > 0 ? Math.min(1, Math.abs(v - m) / sd / 10) : (v === m ? 0 : 1);
      }
      if (n === W) { const o = ring[next]!; sum -= o; sq -= o * o; } else n++;
      ring[next] = v; next = (next + 1) % W; sum += v; sq += v * v;
      short.push(raw); ssum += raw; if (short.length > S) ssum -= short.shift()!;
      const avg = ssum / short.length;
      let like = 0.5;
      if (hn > 100) {
        const m = hsum / hn; const sd = Math.sqrt(Math.max(1e-8, hsq / hn - m * m));
        like = 1 - tail((avg - m) / Math.max(sd, 1e-4));
      }
      if (hn === H) { const o = hist[hnext]!; hsum -= o; hsq -= o * o; } else hn++;
      hist[hnext] = avg; hnext = (hnext + 1) % H; hsum += avg; hsq += avg * avg;
      let s = useLog ? Math.min(1, Math.log(1.0000000001 - like) / Math.log(1 - 0.9999999999)) : like;
      if (quiet > 0) { quiet--; s = 0; } else if (s >= 0.5 && rest > 0) quiet = rest;
      return s;
    };
  };
}
for (const [W, H, S, rest] of [[500, 4000, 10, 0], [500, 4000, 10, 150], [200, 4000, 5, 150], [1000, 8000, 10, 150]] as const) {
  evaluate(`like W${W} H${H} S${S} rest${rest}`, mk(W, H, S, rest, true));
}
