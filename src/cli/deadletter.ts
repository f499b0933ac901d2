// `outpost deadletter list|replay|purge --config FILE`: the inputs Outpost refused, with their
// reasons. list and purge work on the database (agent running or not); replay asks the running
// agent, which feeds them back through their sources.
import { existsSync } from 'node:fs';
import { loadConfigFile, type AgentConfig } from '../config/load.js';
import { openDatabase, type Database } from '../store/sqlite.js';
import { deadLetterWhere, type DeadLetterRow } from '../store/dead-letters.js';
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
  const db = await openDatabase(cfg.storage.path, { readonly: action === 'list' });
  try {
    await db.exec('PRAGMA busy_timeout = 5000');
    return action === 'list' ? await list(db, a, io) : await purge(db, a, io);
  } finally {
    await db.close();
  }
}

function filter(a: DeadLetterArgs): { sql: string; params: unknown[] } | string {
  const before = a.before === undefined ? undefined : Date.parse(a.before);
  if (before !== undefined && !Number.isFinite(before)) return `--before ${a.before} is not a time (ISO 8601, e.g. 2026-11-24T12:00:00Z)`;
  return deadLetterWhere({ reason: a.reason, ids: a.id, before });
}

async function list(db: Database, a: DeadLetterArgs, io: Io): Promise<number> {
  const f = filter(a);
  if (typeof f === 'string') {
    io.err(f);
    return 2;
  }
  const rows = await db.all<DeadLetterRow>(`SELECT * FROM dead_letters ${f.sql} ORDER BY id DESC LIMIT ?`, [...f.params, a.limit ?? 50]);
  if (a.json) {
    for (const r of rows) io.out(JSON.stringify({ ...r, received_at: new Date(r.received_at).toISOString(), payload: r.payload ? Buffer.from(r.payload).toString('utf8') : null }));
    return 0;
  }
  const total = await db.get<{ n: number }>(`SELECT COUNT(*) AS n FROM dead_letters ${f.sql}`, f.params);
  io.out(`${total?.n ?? 0} dead letter(s)${rows.length < (total?.n ?? 0) ? `, newest ${rows.length} shown (--limit)` : ''}`);
  for (const r of rows) {
    io.out(`#${r.id}  ${new Date(r.received_at).toISOString()}  ${r.reason}  from ${r.source}${r.topic ? ` on ${r.topic}` : ''}`);
    io.out(`      ${r.detail}`);
    if (r.payload) io.out(`      payload: ${preview(Buffer.from(r.payload))}`);
  }
  return 0;
}

async function purge(db: Database, a: DeadLetterArgs, io: Io): Promise<number> {
  const f = filter(a);
  if (typeof f === 'string') {
    io.err(f);
    return 2;
  }
  if (!f.sql && !a.all) {
    io.err('outpost deadletter purge: say which (--reason, --id, --before), or --all');
    return 2;
  }
  const r = await db.run(`DELETE FROM dead_letters ${f.sql}`, f.params);
  io.out(`purged ${r.changes} dead letter(s)`);
  return 0;
}

async function replay(cfg: AgentConfig, a: DeadLetterArgs, io: Io): Promise<number> {
  const url = agentUrl(cfg.http, '/deadletters/replay');
  if (!cfg.http.enabled) {
    io.err('outpost deadletter replay: the agent replays them, through its http endpoint, which this config disables (http.enabled: false)');
    return 1;
  }
  let res: Response;
  try {
    const token = cliHttpToken(cfg.http.token, cfg.storage.path);
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token && { authorization: `Bearer ${token}` }) },
      body: JSON.stringify({ reason: a.reason, ids: a.id, limit: a.limit }),
      signal: AbortSignal.timeout(30_000),
    });
  } catch {
    io.err(`outpost deadletter replay: the agent is not answering on ${url}: start it (replay feeds dead letters back through its sources)`);
    return 1;
  }
  if (!res.ok) {
    io.err(`outpost deadletter replay: the agent answered ${res.status}: ${await res.text()}`);
    return 1;
  }
  const r = (await res.json()) as { replayed: number; skipped: Array<{ id: number; why: string }> };
  io.out(`replayed ${r.replayed} dead letter(s)${r.skipped.length ? `; kept ${r.skipped.length}:` : ''}`);
  for (const s of r.skipped.slice(0, 20)) io.out(`  #${s.id}: ${s.why}`);
  return 0;
}

function preview(payload: Buffer): string {
  const text = payload.toString('utf8');
  const printable = /^[\x20-\x7e\t]*$/.test(text) ? text : `<${payload.length} bytes> ${payload.subarray(0, 32).toString('hex')}`;
  return printable.length > 120 ? `${printable.slice(0, 117)}...` : printable;
}
