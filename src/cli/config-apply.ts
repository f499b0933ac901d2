// config.apply on the process that owns the config file (outpost run): the new text is written
// atomically beside the old one (the old kept as <file>.previous), the agent reloads on it, and
// unless it is healthy (store writable, pipeline moving) and forwarding (uplink online) within
// rollbackAfter, the old file is put back and reloaded. The agent running at the end answers
// the command, saying which happened. One at a time. While one is on trial, <file>.applying
// says so: a start that finds it (the new config crashed the process, or the power went) puts
// the previous file back before it reads the config.
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Agent, AgentHost } from '../agent/agent-types.js';
import type { ReplyBody } from '../agent/commands/command-reply.js';
import type { Logger } from '../ops/logger.js';

export interface Reloaded {
  agent: Agent;
  /** Which config the running agent has: the file's ('new'), or the one before (it did not start). */
  started: 'new' | 'previous';
}

export interface ConfigHostDeps {
  file: string;
  log: Logger;
  /** Reloads from the file (serialized with SIGHUP reloads); resolves with the agent then running. */
  reload(): Promise<Reloaded>;
  current(): Agent;
  clock?: () => number;
}

const POLL_MS = 250;

/** Writes `text` to `path` so that a power cut leaves the old or the new file, never a mix. */
export function writeFileAtomic(path: string, text: string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  const dir = openSync(dirname(path), 'r');
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}

/** Polls until the agent is healthy and forwarding, or the time is up; undefined when it is, else why not. */
export async function waitHealthy(agent: Agent, withinMs: number, clock = Date.now): Promise<string | undefined> {
  const deadline = clock() + withinMs;
  let why = 'no health yet';
  for (;;) {
    const h = await agent.health().catch((err: Error) => ({ error: err.message }) as never);
    const uplink = (h as { uplink?: { state?: string; lastError?: string | null } }).uplink;
    const store = (h as { store?: { writable?: boolean } }).store;
    if (uplink?.state === 'online' && store?.writable !== false && agent.progressing()) return undefined;
    why = uplink?.state !== 'online' ? `uplink ${uplink?.state ?? 'unknown'}${uplink?.lastError ? ` (${uplink.lastError})` : ''}` : store?.writable === false ? 'store not writable' : 'pipeline not moving';
    if (clock() >= deadline) return why;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/**
 * At start: a config.apply whose trial the process did not live through is undone (the
 * previous file back). Returns what was done, for the log, or undefined.
 */
export function undoInterruptedApply(file: string): string | undefined {
  const marker = `${file}.applying`;
  if (!existsSync(marker)) return undefined;
  const previous = `${file}.previous`;
  if (existsSync(previous)) writeFileAtomic(file, readFileSync(previous, 'utf8'));
  rmSync(marker, { force: true });
  return existsSync(previous) ? `config.apply was interrupted before the new config proved healthy: ${previous} is back in ${file}` : `config.apply was interrupted, and ${previous} is missing: ${file} stays as it is`;
}

export function createConfigHost(d: ConfigHostDeps): AgentHost & { busy(): boolean } {
  const pending = new Set<string>();
  const ts = () => new Date((d.clock ?? Date.now)()).toISOString();
  return {
    configFile: d.file,
    continuing: () => [...pending],
    busy: () => pending.size > 0,
    applyConfig(cmd, text, rollbackAfterMs) {
      if (pending.size > 0) return `another config.apply (${[...pending][0]}) is on trial: send this one after it is answered`;
      pending.add(cmd.id);
      const previousFile = `${d.file}.previous`;
      const marker = `${d.file}.applying`;
      void (async () => {
        let body: ReplyBody;
        try {
          const previous = readFileSync(d.file, 'utf8');
          writeFileAtomic(previousFile, previous);
          writeFileAtomic(marker, JSON.stringify({ id: cmd.id, since: ts() }));
          writeFileAtomic(d.file, text);
          d.log.info({ id: cmd.id, file: d.file, previous: previousFile, rollbackAfterMs }, 'config.apply: new config written; reloading');
          const r = await d.reload();
          const why = r.started === 'new' ? await waitHealthy(r.agent, rollbackAfterMs, d.clock) : 'it did not start';
          if (why === undefined) {
            rmSync(marker, { force: true });
            body = { status: 'done', result: { applied: true, file: d.file, previous: previousFile }, ts: ts() };
          } else {
            d.log.warn({ id: cmd.id, why }, 'config.apply: the new config is not healthy and forwarding: rolling back');
            writeFileAtomic(d.file, previous);
            rmSync(marker, { force: true });
            const back = await d.reload();
            body = { status: 'failed', error: `rolled back: with the new config, ${why} within ${rollbackAfterMs / 1000} s; the previous config runs again`, result: { applied: false, rolledBack: true, reason: why, restarted: back.started === 'new' }, ts: ts() };
          }
        } catch (err) {
          rmSync(marker, { force: true });
          body = { status: 'failed', error: `config.apply failed: ${(err as Error).message}`, ts: ts() };
        }
        pending.delete(cmd.id);
        await d
          .current()
          .finishCommand(cmd, body)
          .catch((err: Error) => d.log.error({ id: cmd.id, err: err.message }, 'config.apply: the reply could not be written (the next start answers it as interrupted)'));
      })();
    },
  };
}
