// `outpost fleet --config fleet.yaml` (the read model and dashboard) and `outpost fleet
// rebuild` (drop the projections, replay the log into them).
import { loadFleetConfig } from '../fleet/fleet-config.js';
import { startFleetService } from '../fleet/fleet-service.js';
import { openFleetStore } from '../fleet/fleet-store.js';
import { createLogger } from '../ops/logger.js';
import { EX_CONFIG } from '../config/problems.js';
import type { Io } from './io.js';
import { exitOnUnexpected } from './run.js';

export async function fleet(file: string, io: Io): Promise<number> {
  const loaded = loadFleetConfig(file);
  if (!loaded.ok) {
    io.err(`${file}: ${loaded.problems.length} problem(s)`);
    for (const p of loaded.problems) io.err(`${p.path}: ${p.message}`);
    return EX_CONFIG;
  }
  const log = createLogger(loaded.config.log.level);
  exitOnUnexpected(log);
  let service;
  try {
    service = await startFleetService(loaded.config, log);
  } catch (err) {
    io.err(`outpost fleet: ${(err as Error).message}`);
    return 1;
  }
  io.err(`open http://${loaded.config.http.host.includes(':') ? `[${loaded.config.http.host}]` : loaded.config.http.host}:${service.httpPort}/`);
  return new Promise<number>((resolve) => {
    const stop = () => void service.stop().then(() => resolve(0), () => resolve(1));
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
}

/** `outpost fleet check --config FILE`: validate a fleet config only (exit 0, or 78 with each problem). */
export function check(file: string, io: Io): number {
  const loaded = loadFleetConfig(file);
  if (!loaded.ok) {
    io.err(`${file}: ${loaded.problems.length} problem(s)`);
    for (const p of loaded.problems) io.err(`${p.path}: ${p.message}`);
    return EX_CONFIG;
  }
  io.out(`${file}: ok`);
  return 0;
}

export async function rebuild(file: string, io: Io): Promise<number> {
  const loaded = loadFleetConfig(file);
  if (!loaded.ok) {
    for (const p of loaded.problems) io.err(`${p.path}: ${p.message}`);
    return EX_CONFIG;
  }
  const store = await openFleetStore(loaded.config.store);
  try {
    const n = await store.rebuild();
    io.out(`rebuilt the projections from ${n} log entries`);
    return 0;
  } finally {
    await store.close();
  }
}
