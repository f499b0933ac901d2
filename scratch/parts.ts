export type Raw = (v: number) => number; // returns a nonnegative surprise (in "sigmas")
export function tail(x: number) {
  const t = 1 / (1 + 0.2316419 * Math.abs(x));
  const d = 0.3989423 * Math.exp(-x * x / 2);
  const p = d * t * (0.3193815 + t * (-0.3565638 + t * (1.781478 + t * (-1.821256 + t * 1.330274))));
  return x >= 0 ? p : 1 - p;
}
export function rollZ(W: number): Raw {
  const ring = new Float64Array(W); let n = 0, next = 0, sum = 0, sq = 0;
  return (v) => {
    let r = 0;
    if (n >= 10) { const m = sum / n, sd = Math.sqrt(Math.max(0, sq / n - m * m)); r = sd > 1e-12 ? Math.abs(v - m) / sd : (Math.abs(v - m) > 1e-12 ? 50 : 0); }
    if (n === W) { const o = ring[next]!; sum -= o; sq -= o * o; } else n++;
    ring[next] = v; next = (next + 1) % W; sum += v; sq += v * v;
    return r;
  };
}
export function ewmaZ(alpha: number): Raw {
  let m = NaN, var_ = 0, n = 0;
  return (v) => {
    let r = 0;
    if (Number.isNaN(m)) { m = v; n = 1; return 0; }
    const sd = Math.sqrt(var_);
    if (n >= 10) r = sd > 1e-12 ? Math.abs(v - m) / sd : (Math.abs(v - m) > 1e-12 ? 50 : 0);
    const d = v - m; m += alpha * d; var_ = (1 - alpha) * (var_ + alpha * d * d); n++;
    return r;
  };
}
export function diffZ(alpha: number): Raw { // rate of change surprise
  let prev = NaN; const inner = ewmaZ(alpha);
  return (v) => { const d = Number.isNaN(prev) ? 0 : v - prev; prev = v; return inner(d); };
}
export function level(S: number, L: number): Raw { // short mean vs long mean/std
  const a = rollMeanStd(S), b = rollMeanStd(L);
  return (v) => {
    const [ml, sl, nl] = b.stats(); const [ms] = a.stats();
    const r = nl >= 10 && sl > 1e-12 ? Math.abs(ms - ml) / sl * Math.sqrt(Math.min(S, nl)) / 3 : 0;
    a.push(v); b.push(v);
    return r;
  };
}
export function rollMeanStd(W: number) {
  const ring = new Float64Array(W); let n = 0, next = 0, sum = 0, sq = 0;
  return {
    push(v: number) { if (n === W) { const o = ring[next]!; sum -= o; sq -= o * o; } else n++; ring[next] = v; next = (next + 1) % W; sum += v; sq += v * v; },
    stats(): [number, number, number] { const m = n ? sum / n : 0; return [m, Math.sqrt(Math.max(0, n ? sq / n - m * m : 0)), n]; },
  };
}
export function range(): Raw { // outside everything seen so far
  let lo = Infinity, hi = -Infinity, n = 0;
  return (v) => {
    let r = 0; const span = hi - lo;
    if (n >= 50 && span > 0) { if (v > hi) r = (v - hi) / span * 20; else if (v < lo) r = (lo - v) / span * 20; }
    if (v < lo) lo = v; if (v > hi) hi = v; n++;
    return r;
  };
}
// Post-processing: likelihood of the short moving average of raw against its long history.
export function likelihood(H: number, S: number, learn = 100) {
  const hist = new Float64Array(H); let hn = 0, hnext = 0, hsum = 0, hsq = 0;
  const short = new Float64Array(S); let sn = 0, snext = 0, ssum = 0;
  return (raw: number) => {
    if (sn === S) ssum -= short[snext]!; else sn++;
    short[snext] = raw; snext = (snext + 1) % S; ssum += raw;
    const avg = ssum / sn;
    let like = 0.5;
    if (hn > learn) { const m = hsum / hn; const sd = Math.sqrt(Math.max(1e-8, hsq / hn - m * m)); like = 1 - tail((avg - m) / Math.max(sd, 1e-4)); }
    if (hn === H) { const o = hist[hnext]!; hsum -= o; hsq -= o * o; } else hn++;
    hist[hnext] = avg; hnext = (hnext + 1) % H; hsum += avg; hsq += avg * avg;
    return Math.min(1, Math.log(1.0000000001 - like) / Math.log(1 - 0.9999999999));
  };
}
export function squash(c: number) { return (raw: number) => 1 - Math.exp(-raw / c); }
// rest: after a raw-score >= base, report 0 for `rest` rows (CAD-style on scores)
export function rest(R: number, base: number) {
  let quiet = 0;
  return (s: number) => { if (quiet > 0) { quiet--; return 0; } if (s >= base) quiet = R; return s; };
}
