import { loadCorpus } from '../src/nab/corpus.js';
import { PROFILES, scoreCorpus } from '../src/nab/scorer.js';
import { runDetector } from '../src/nab/run-detector.js';
import { createDetector } from '../src/stream/detectors/create-detector.js';
const files = loadCorpus('nab');
for (const th of [0.5, 0.55, 0.6, 0.67]) {
  const r = runDetector(files, () => createDetector({ type: 'novelty', threshold: th, minSamples: 100, learnFor: 86_400_000, daily: true, cooldown: 20, severity: 'warning' }));
  console.log(th, PROFILES.map((p) => scoreCorpus(r.scored, th, p).normalized.toFixed(1)).join(' / '));
}
