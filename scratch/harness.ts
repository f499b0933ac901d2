import { loadCorpus, type NabFile } from '../src/nab/corpus.js';
import { PROFILES, bestThreshold, scoreCorpus } from '../src/nab/scorer.js';
export const files = loadCorpus('nab');
export type Scorer = (ts: number, v: number) => number;
export function evaluate(name: string, make: (f: NabFile) => Scorer, fixed?: number) {
  const t0 = process.hrtime.bigint();
  let n = 0;
  const scored = files.map((f) => {
    const s = make(f);
    const scores = new Float64Array(f.values.length);
    for (let i = 0; i < f.values.length; i++) scores[i] = s(f.ts[i]!, f.values[i]!);
    n += f.values.length;
    return { rows: f.values.length, windows: f.windows, scores, name: f.name };
  });
  const ns = Number(process.hrtime.bigint() - t0) / n;
  const best = PROFILES.map((p) => bestThreshold(scored, p));
  const at = fixed !== undefined ? PROFILES.map((p) => scoreCorpus(scored, fixed, p).normalized.toFixed(1)).join('/') : '';
  console.log(`${name.padEnd(40)} ${best.map((b) => b.normalized.toFixed(1)).join(' / ')}  θ=${best.map((b) => b.threshold.toFixed(4)).join(',')}  ${at}  ${ns.toFixed(0)}ns/row`);
  return { scored, best };
}
