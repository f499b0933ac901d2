// `outpost cmd --fleet FILE <device> <name> [--arg k=v ...]`: sends a command through the
// running fleet service's API (so it is signed, logged and audited like the dashboard's), waits
// for its final reply, prints it, and exits by its status: 0 done, 1 failed, 2 rejected,
// 3 expired, 4 timed out (no final reply in --timeout), 5 the fleet service did not answer.
import { loadFleetConfig } from '../fleet/fleet-config.js';
import { parseDuration } from '../config/units.js';
import { EX_CONFIG } from '../config/problems.js';
import type { Io } from './io.js';
import { agentUrl } from './agent-url.js';

export const CMD_EXIT: Record<string, number> = { done: 0, failed: 1, rejected: 2, expired: 3, 'timed-out': 4 };

export interface CmdArgs {
  fleet: string;
  device: string;
  name: string;
  arg?: string[];
  json?: string;
  ttl?: string;
  timeout: string;
  url?: string;
}

/** "k=v": v as JSON when it parses (numbers, true, arrays), else the text. */
function parseArg(kv: string): [string, unknown] {
  const eq = kv.indexOf('=');
  if (eq <= 0) throw new Error(`--arg ${kv}: write key=value`);
  const v = kv.slice(eq + 1);
  try {
    return [kv.slice(0, eq), JSON.parse(v)];
  } catch {
    return [kv.slice(0, eq), v];
  }
}

export async function cmd(a: CmdArgs, io: Io): Promise<number> {
  const loaded = loadFleetConfig(a.fleet);
  if (!loaded.ok) {
    for (const p of loaded.problems) io.err(`${p.path}: ${p.message}`);
    return EX_CONFIG;
  }
  const http = loaded.config.http;
  const base = (a.url ?? agentUrl(http, '')).replace(/\/+$/, '');
  const timeoutMs = parseDuration(a.timeout);
  if (timeoutMs === undefined) {
    io.err(`--timeout ${a.timeout}: write a duration such as 30s`);
    return 64;
  }
  let args: Record<string, unknown>;
  try {
    const whole: unknown = a.json ? JSON.parse(a.json) : {};
    if (whole === null || typeof whole !== 'object' || Array.isArray(whole)) throw new Error('--json: write one JSON object, e.g. \'{"from":"2026-11-22T00:00:00Z"}\'');
    args = { ...(whole as Record<string, unknown>), ...Object.fromEntries((a.arg ?? []).map(parseArg)) };
  } catch (err) {
    io.err(`outpost cmd: ${(err as Error).message}`);
    return 64;
  }
  const headers: Record<string, string> = { 'content-type': 'application/json', ...(http.token && { authorization: `Bearer ${http.token}` }) };
  let sent: { id?: string; error?: string };
  try {
    const r = await fetch(`${base}/api/devices/${encodeURIComponent(a.device)}/commands`, { method: 'POST', headers, body: JSON.stringify({ name: a.name, args, ...(a.ttl && { ttl: a.ttl }), by: 'outpost cmd' }), signal: AbortSignal.timeout(10_000) });
    sent = (await r.json().catch(() => ({ error: `not the fleet API (HTTP ${r.status})` }))) as typeof sent;
    if (!r.ok) {
      io.err(`outpost cmd: the fleet refused it (${r.status}): ${sent.error ?? ''}`);
      return r.status === 404 && /no device/.test(sent.error ?? '') ? 1 : 2;
    }
  } catch (err) {
    io.err(`outpost cmd: the fleet service at ${base} did not answer (${(err as Error).message}); is outpost fleet running?`);
    return 5;
  }
  io.err(`sent ${a.name} to ${a.device} as ${sent.id}; waiting up to ${a.timeout} for the reply`);
  const deadline = Date.now() + timeoutMs;
  let last: { state?: string } | undefined;
  while (Date.now() < deadline) {
    try {
      const r = await fetch(`${base}/api/commands?id=${encodeURIComponent(sent.id!)}&device=${encodeURIComponent(a.device)}`, { headers, signal: AbortSignal.timeout(5000) });
      [last] = (await r.json()) as Array<{ state: string }>;
    } catch {
      // the fleet restarting: ask again
    }
    if (last && ['done', 'failed', 'rejected', 'expired', 'timed-out'].includes(last.state ?? '')) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  io.out(JSON.stringify(last ?? { id: sent.id, state: 'unknown' }, null, 2));
  return CMD_EXIT[last?.state ?? ''] ?? 4;
}
