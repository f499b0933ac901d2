import { loadConfigFile } from '../config/load.js';
import { reportProblems } from './report-problems.js';

export { reportProblems };
import type { Io } from './io.js';
import { redactUrl } from '../config/redact.js';

export function checkConfig(file: string, io: Io, opts: { resolveSecrets?: boolean } = {}): number {
  const result = loadConfigFile(file, opts);
  const code = reportProblems(file, result, io);
  if (result.ok) {
    const c = result.config;
    // Never echo secrets: only shapes and destinations.
    io.out(`${file}: ok (device ${c.device.id}, ${c.sources.length} source(s), ${c.pipelines.length} pipeline(s), ${c.rules.length > 0 || c.derived.length > 0 ? `${c.rules.length} rule(s), ${c.derived.length} derived sensor(s), ` : ''}uplink ${redactUrl(c.uplink.url)})`);
  }
  return code;
}
