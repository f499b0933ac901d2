// `outpost deadletter list|replay|purge --config FILE`: the inputs Outpost refused, with their
// reasons. list reads the database (agent running or not); replay asks the running agent,
// which feeds them back through their sources; purge asks the running agent, or, when none
// runs, deletes under its lock (store/cli-store.ts: the CLI never writes behind an agent).
import { existsSync } from 'node:fs';
import { loadConfigFile, type AgentConfig } from '../config/load.js';
import type { Database } from '../store/sqlite.js';
import type { DeadLetterFilter } from '../store/dead-letters.js';
import { countDeadLettersWhere, listDeadLetters, purgeDeadLetters, readingStore, stoppedStore } from '../store/cli-store.js';
import { reportProblems } from './check-config.js';
import type { Io } from './io.js';
import { cliHttpToken } from '../ops/http-token.js';
import { agentUrl } from './agent-url.js';

export interface DeadLetterArgs {
  config: string;
  reason?: string;
  id?: number[];
  before?: string;
  all?: boolean;
  limit?: number;
  json?: boolean;
}

export async function deadLetter(action: 'list' | 'replay' | 'purge', a: DeadLetterArgs, io: Io): Promise<number> {
  const loaded = loadConfigFile(a.config);
  if (!loaded.ok) return reportProblems(a.config, loaded, io);
  const cfg = loaded.config;
  if (action === 'replay') return replay(cfg, a, io);
  if (!existsSync(cfg.storage.path)) {
    io.err(`outpost deadletter: ${cfg.storage.path} does not exist yet (the agent has not run with this config)`);
    return 1;
  }
  const f = filter(a);
  if (typeof f === 'string') {
    io.err(f);
    return 2;
  }
  return action === 'list' ? readingStore(cfg.storage.path, (db) => list(db, f, a, io)) : purge(cfg, f, a, io);
}

function filter(a: DeadLetterArgs): DeadLetterFilter | string {
  const before = a.before === undefined ? undefined : Date.parse(a.before);
  if (before !== undefined && !Number.isFinite(before)) return `--before ${a.before} is not a time (ISO 8601, e.g. 2026-11-24T12:00:00Z)`;
  return { reason: a.reason, ids: a.id, before };
}

async function list(db: Database, f: DeadLetterFilter, a: DeadLetterArgs, io: Io): Promise<number> {
  const rows = await listDeadLetters(db, f, a.limit ?? 50);
  if (a.json) {
    for (const r of rows) io.out(JSON.stringify({ ...r, received_at: new Date(r.received_at).toISOString(), payload: r.payload ? Buffer.from(r.payload).toString('utf8') : null }));
    return 0;
  }
  const total = await countDeadLettersWhere(db, f);
  io.out(`${total} dead letter(s)${rows.length < total ? `, newest ${rows.length} shown (--limit)` : ''}`);
  for (const r of rows) {
    io.out(`#${r.id}  ${new Date(r.received_at).toISOString()}  ${r.reason}  from ${r.source}${r.topic ? ` on ${r.topic}` : ''}`);
    io.out(`      ${r.detail}`);
    if (r.payload) io.out(`      payload: ${preview(Buffer.from(r.payload))}`);
  }
  return 0;
}

async function purge(cfg: AgentConfig, f: DeadLetterFilter, a: DeadLetterArgs, io: Io): Promise<number> {
  if (!f.reason && !f.ids?.length && f.before === undefined && !a.all) {
    io.err('outpost deadletter purge: say which (--reason, --id, --before), or --all');
    return 2;
  }
  const body = { reason: f.reason, ids: f.ids, before: f.before === undefined ? undefined : new Date(f.before).toISOString(), all: a.all };
  const asked = cfg.http.enabled ? await askAgent(cfg, '/deadletters/purge', body) : undefined;
  let purged: number;
  if (asked && 'error' in asked) {
    io.err(`outpost deadletter purge: ${asked.error}`);
    return 1;
  } else if (asked) purged = (asked.body as { purged: number }).purged;
  else {
    try {
      purged = await stoppedStore(cfg.storage.path, (db) => purgeDeadLetters(db, f));
    } catch (err) {
      io.err(`outpost deadletter purge: ${(err as Error).message}`);
      return 1;
    }
  }
  io.out(`purged ${purged} dead letter(s)`);
  return 0;
}

/** POSTs to the running agent: its answer, an error it gave, or undefined when none answers. */
async function askAgent(cfg: AgentConfig, path: string, body: unknown): Promise<{ body: unknown } | { error: string } | undefined> {
  const url = agentUrl(cfg.http, path);
  let res: Response;
  try {
    const token = cliHttpToken(cfg.http.token, cfg.storage.path);
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token && { authorization: `Bearer ${token}` }) },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
  } catch {
    return undefined;
  }
  if (!res.ok) return { error: `the agent answered ${res.status}: ${await res.text()}` };
  return { body: await res.json() };
}

async function replay(cfg: AgentConfig, a: DeadLetterArgs, io: Io): Promise<number> {
  if (!cfg.http.enabled) {
    io.err('outpost deadletter replay: the agent replays them, through its http endpoint, which this config disables (http.enabled: false)');
    return 1;
  }
  const asked = await askAgent(cfg, '/deadletters/replay', { reason: a.reason, ids: a.id, limit: a.limit });
  if (!asked) {
    io.err(`outpost deadletter replay: the agent is not answering on ${agentUrl(cfg.http, '/deadletters/replay')}: start it (replay feeds dead letters back through its sources)`);
    return 1;
  }
  if ('error' in asked) {
    io.err(`outpost deadletter replay: ${asked.error}`);
    return 1;
  }
  const r = asked.body as { replayed: number; skipped: Array<{ id: number; why: string }> };
  io.out(`replayed ${r.replayed} dead letter(s)${r.skipped.length ? `; kept ${r.skipped.length}:` : ''}`);
  for (const s of r.skipped.slice(0, 20)) io.out(`  #${s.id}: ${s.why}`);
  return 0;
}

function preview(payload: Buffer): string {
  const text = payload.toString('utf8');
  const printable = /^[\x20-\x7e\t]*$/.test(text) ? text : `<${payload.length} bytes> ${payload.subarray(0, 32).toString('hex')}`;
  return printable.length > 120 ? `${printable.slice(0, 117)}...` : printable;
}
