import type { LoadResult } from '../config/load.js';
import { EX_CONFIG } from '../config/problems.js';
import type { Io } from './io.js';

/** Prints every problem as `path: message`; 0 when valid, 78 (EX_CONFIG) when not. */
export function reportProblems(file: string, result: LoadResult, io: Io): number {
  if (result.ok) return 0;
  io.err(`${file}: ${result.problems.length} problem${result.problems.length === 1 ? '' : 's'}:`);
  for (const p of result.problems) io.err(`${p.path}: ${p.message}`);
  return EX_CONFIG;
}
