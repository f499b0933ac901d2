import { createDetector } from '../src/stream/detectors/create-detector.js';
import { seededRandom } from '../src/sources/simulated/signal.js';
const r = seededRandom(8); const n = () => (r() + r() + r() + r() - 2) * 0.5;
const d = createDetector({ type: 'novelty', threshold: 0.5, minSamples: 100, learnFor: 86_400_000, daily: true, cooldown: 20, severity: 'warning' });
for (let i = 0; i < 70 * 288; i++) { const v = d.observe(1_795_000_000_000 + i * 300_000, 20 + 5 * Math.sin((2 * Math.PI * (i % 288)) / 288) + n()); if (v) console.log((i / 288).toFixed(1), v.score, v.message); }
