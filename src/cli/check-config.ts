import { loadConfigFile, type LoadResult } from '../config/load.js';
import { EX_CONFIG } from '../config/problems.js';
import type { Io } from './io.js';
import { redactUrl } from '../config/redact.js';

/** Prints every problem as `path: message`; 0 when valid, 78 (EX_CONFIG) when not. */
export function reportProblems(file: string, result: LoadResult, io: Io): number {
  if (result.ok) return 0;
  io.err(`${file}: ${result.problems.length} problem${result.problems.length === 1 ? '' : 's'}:`);
  for (const p of result.problems) io.err(`${p.path}: ${p.message}`);
  return EX_CONFIG;
}

export function checkConfig(file: string, io: Io, opts: { resolveSecrets?: boolean } = {}): number {
  const result = loadConfigFile(file, opts);
  const code = reportProblems(file, result, io);
  if (result.ok) {
    const c = result.config;
    // Never echo secrets: only shapes and destinations.
    io.out(`${file}: ok (device ${c.device.id}, ${c.sources.length} source(s), ${c.pipelines.length} pipeline(s), uplink ${redactUrl(c.uplink.url)})`);
  }
  return code;
}
