import { loadCorpus } from '../src/nab/corpus.js';
import { PROFILES, bestThreshold } from '../src/nab/scorer.js';
import { runDetector } from '../src/nab/run-detector.js';
import { createDetector } from '../src/stream/detectors/create-detector.js';
const files = loadCorpus('nab');
const r = runDetector(files, () => createDetector({ type: 'novelty', threshold: Number(process.env.TH ?? 0.55), minSamples: 100, learnFor: 86_400_000, daily: true, cooldown: 20, severity: 'warning' }));
console.log(process.env.SURPRISE, process.env.TH, PROFILES.map((p) => { const b = bestThreshold(r.scored, p); return `${b.normalized.toFixed(1)}@${b.threshold.toFixed(3)}`; }).join(' / '));
