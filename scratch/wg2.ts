import { loadCorpus, loadOfficialScores } from '../src/nab/corpus.js';
import { runDetector } from '../src/nab/run-detector.js';
import { createWindowedGaussian } from '../src/nab/windowed-gaussian.js';
const files = loadCorpus('nab');
const wg = runDetector(files, createWindowedGaussian);
const off = loadOfficialScores('nab', 'windowedGaussian', files);
let a = 0, b = 0, both = 0; const ex: string[] = [];
wg.scored.forEach((s, i) => { for (let j = 0; j < s.rows; j++) { const x = s.scores[j] === 1, y = off[i]![j] === 1; if (x) a++; if (y) b++; if (x && y) both++; if (x !== y && ex.length < 10) ex.push(`${files[i]!.name}:${j} mine ${s.scores[j]} official ${off[i]![j]}`); } });
console.log({ mine: a, official: b, both }); console.log(ex.join('\n'));
