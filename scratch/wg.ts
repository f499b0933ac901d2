import { loadCorpus, loadOfficialScores } from '../src/nab/corpus.js';
import { PROFILES, scoreCorpus, bestThreshold, countedWindows, probation } from '../src/nab/scorer.js';
const t0 = Date.now();
const files = loadCorpus('nab');
const wg = loadOfficialScores('nab', 'windowedGaussian', files);
console.log('loaded', Date.now() - t0, 'ms', files.length, files.reduce((n, f) => n + f.values.length, 0), 'rows', countedWindows(files.map(f=>({rows:f.values.length, windows:f.windows, scores:[]}))));
for (const f of files) for (const w of f.windows) if (w[0] < probation(f.values.length)) console.log('window in probation', f.name, w, probation(f.values.length));
const scored = files.map((f, i) => ({ rows: f.values.length, windows: f.windows, scores: wg[i]! }));
for (const p of PROFILES) console.log(p.name, scoreCorpus(scored, 1.0, p), bestThreshold(scored, p));
