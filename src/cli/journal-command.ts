// The start every command that reads the agent's journal shares (`outpost replay`, `outpost
// rules test`): the config, --from/--to, and a database that exists; or the exit code, once
// what is wrong has been said.
import { existsSync } from 'node:fs';
import { loadConfigFile, type AgentConfig } from '../config/load.js';
import { reportProblems } from './report-problems.js';
import type { Io } from './io.js';

export interface JournalArgs {
  config: string;
  from?: string;
  to?: string;
}

/** `refuse`: a command's own reason not to run on this config (checked before the database). */
export function journalCommand(a: JournalArgs, io: Io, name: string, refuse?: (cfg: AgentConfig) => string | undefined): { cfg: AgentConfig; from: number; to: number } | number {
  const loaded = loadConfigFile(a.config);
  if (!loaded.ok) return reportProblems(a.config, loaded, io);
  const cfg = loaded.config;
  const from = a.from === undefined ? -Infinity : Date.parse(a.from);
  const to = a.to === undefined ? Infinity : Date.parse(a.to);
  if (Number.isNaN(from) || Number.isNaN(to)) {
    io.err('--from/--to: write ISO 8601 times, e.g. 2026-11-22T10:00:00Z');
    return 64;
  }
  const refused = refuse?.(cfg);
  if (refused !== undefined) {
    io.err(`outpost ${name}: ${refused}`);
    return 1;
  }
  if (!existsSync(cfg.storage.path)) {
    io.err(`outpost ${name}: ${cfg.storage.path} does not exist: nothing was journaled yet`);
    return 1;
  }
  return { cfg, from, to };
}
