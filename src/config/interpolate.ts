// `${env:NAME}` and `${file:PATH}` references in config strings, for secrets kept out of the file.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ConfigProblem } from './problems.js';
import { formatPath } from './format-path.js';

const REF_RE = /\$\{(env|file):([^}]*)\}/g;

export interface InterpolateContext {
  env: NodeJS.ProcessEnv;
  /** Directory that relative ${file:...} paths resolve against (the config file's). */
  dir: string;
  /** false: check the config's shape only, with a placeholder for every reference. */
  resolve?: boolean;
}

/** What an unresolved reference becomes when `resolve` is false. */
export const UNRESOLVED = '<unresolved>';

/**
 * Returns a copy of `tree` with every reference replaced; problems name the config path.
 * `origins` gets, for each path whose value came from a reference, the reference itself
 * (e.g. "${file:/etc/outpost/pw}"): a later problem with that field names the source and never
 * echoes the value, which may be a secret.
 */
export function interpolate(tree: unknown, ctx: InterpolateContext, problems: ConfigProblem[], origins?: Map<string, string>): unknown {
  const walk = (node: unknown, path: PropertyKey[]): unknown => {
    if (typeof node === 'string') return replaceRefs(node, path);
    if (Array.isArray(node)) return node.map((v, i) => walk(v, [...path, i]));
    if (node !== null && typeof node === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(node)) out[k] = walk(v, [...path, k]);
      return out;
    }
    return node;
  };
  const replaceRefs = (text: string, path: PropertyKey[]): string =>
    text.replace(REF_RE, (whole: string, kind: string, name: string) => {
      origins?.set(formatPath(path), whole);
      if (ctx.resolve === false) return UNRESOLVED;
      if (kind === 'env') {
        const value = ctx.env[name];
        if (value === undefined) {
          problems.push({ path: formatPath(path), message: `environment variable ${name} is not set` });
          return '';
        }
        return value;
      }
      const file = resolve(ctx.dir, name);
      try {
        // Secrets files usually end in a newline that is not part of the secret.
        return readFileSync(file, 'utf8').replace(/\r?\n$/, '');
      } catch (err) {
        problems.push({ path: formatPath(path), message: `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}` });
        return '';
      }
    });
  return walk(tree, []);
}
