// `npm run fuzz -- --minutes N`: the property tests and the protocol fuzzer, again and again with
// a new seed each time and many more cases (FUZZ_RUNS, FUZZ_SCALE), until the time is up. Prints
// each seed; on a failure, the seed and the command that reproduces it, and exits 1.
import { spawnSync } from 'node:child_process';
import { randomInt } from 'node:crypto';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const minutes = arg('minutes', 10);
const runs = arg('runs', 3000);
const scale = arg('scale', 3);
const deadline = Date.now() + minutes * 60_000;
let rounds = 0;

while (Date.now() < deadline) {
  const seed = randomInt(1, 2 ** 31);
  rounds++;
  const t0 = Date.now();
  const r = spawnSync('npx', ['vitest', 'run', 'test/property', 'test/fuzz', '--reporter=dot'], {
    env: { ...process.env, FUZZ_SEED: String(seed), FUZZ_RUNS: String(runs), FUZZ_SCALE: String(scale) },
    stdio: ['ignore', 'pipe', 'pipe'],
    encoding: 'utf8',
  });
  const took = ((Date.now() - t0) / 1000).toFixed(0);
  if (r.status !== 0) {
    process.stdout.write(r.stdout.slice(-20_000) + r.stderr.slice(-5_000));
    console.log(`\nfuzz: FAILED in round ${rounds} with seed ${seed}.\nReproduce: FUZZ_SEED=${seed} FUZZ_RUNS=${runs} FUZZ_SCALE=${scale} npx vitest run test/property test/fuzz`);
    process.exit(1);
  }
  console.log(`fuzz: round ${rounds}, seed ${seed}: passed (${runs} cases per property, protocol scale ${scale}, ${took} s)`);
}
console.log(`fuzz: ${rounds} round(s) in ${minutes} min, nothing found`);
