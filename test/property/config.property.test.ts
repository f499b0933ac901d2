// Config loading with generated input: arbitrary text, arbitrary YAML trees, and mutations of a
// real config never crash the loader; every problem names a path; a value that came from
// ${env:} or ${file:} is never echoed.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { parse as parseYaml, stringify } from 'yaml';
import { parseConfigText } from '../../src/config/load.js';
import { fuzzParams } from '../helpers/fuzz.js';

const real = parseYaml(readFileSync('device-configs/laptop-sim.yaml', 'utf8')) as Record<string, unknown>;

function checkLoad(text: string, env: NodeJS.ProcessEnv = {}): void {
  const r = parseConfigText(text, { env, dir: '/nonexistent' });
  if (r.ok) return;
  expect(r.problems.length).toBeGreaterThan(0);
  for (const p of r.problems) {
    expect(p.path.length).toBeGreaterThan(0);
    expect(p.message.length).toBeGreaterThan(0);
  }
}

/** Replaces the value at a random path of `tree` with `value`. */
function mutate(tree: unknown, path: number[], value: unknown): unknown {
  if (path.length === 0 || tree === null || typeof tree !== 'object') return value;
  const keys = Object.keys(tree);
  if (keys.length === 0) return value;
  const k = keys[path[0]! % keys.length]!;
  const copy: Record<string, unknown> = Array.isArray(tree) ? ([...tree] as unknown as Record<string, unknown>) : { ...(tree as Record<string, unknown>) };
  copy[k] = mutate((tree as Record<string, unknown>)[k], path.slice(1), value);
  return copy;
}

describe('property: config loading', () => {
  it('arbitrary text never throws out of the loader; problems always name a path', () => {
    fc.assert(fc.property(fc.string({ maxLength: 200 }), (text) => checkLoad(text)), fuzzParams(300));
  });
  it('arbitrary YAML trees never throw; problems name a path', () => {
    fc.assert(fc.property(fc.jsonValue({ maxDepth: 4 }), (tree) => checkLoad(stringify(tree))), fuzzParams(200));
  });
  it('a real config with one value replaced by anything: no throw, problems name a path', () => {
    const anything = fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constantFrom('${env:NOPE}', '1e999', '-1', '0s', '999999999999d', 'NaN', ''));
    fc.assert(fc.property(fc.array(fc.nat(), { maxLength: 6 }), anything, (path, value) => checkLoad(stringify(mutate(real, path, value)))), fuzzParams(300));
  });
  it('a secret interpolated anywhere is never echoed in a problem', () => {
    const secret = 'S3cr3t-Pa55-w0rd';
    fc.assert(
      fc.property(fc.array(fc.nat(), { minLength: 1, maxLength: 6 }), (path) => {
        const text = stringify(mutate(real, path, '${env:SECRET}'));
        const r = parseConfigText(text, { env: { SECRET: secret }, dir: '/nonexistent' });
        if (!r.ok) for (const p of r.problems) expect(`${p.path}: ${p.message}`).not.toContain(secret);
      }),
      fuzzParams(300),
    );
  });
});
