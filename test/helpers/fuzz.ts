// Parameters for property-based tests. In `npm test` (and CI) the seed is fixed and the runs
// bounded, so a failure is reproducible; `npm run fuzz` sets FUZZ_SEED to a new seed and
// FUZZ_RUNS much higher. fast-check prints the seed and the shrunk counterexample on failure;
// rerun with FUZZ_SEED=<seed> to reproduce it.
import type { Parameters } from 'fast-check';

export const FUZZ_SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : 20_261_129;
const scale = process.env.FUZZ_RUNS ? Number(process.env.FUZZ_RUNS) / 100 : 1;

/** `runs`: the number of cases in `npm test`; `npm run fuzz` scales it up. */
export function fuzzParams<T>(runs: number): Parameters<T> {
  return { seed: FUZZ_SEED, numRuns: Math.max(1, Math.round(runs * scale)), endOnFailure: true };
}
