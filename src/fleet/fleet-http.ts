// The fleet service's HTTP side: the JSON API of DESIGN.md ("Fleet service"), server-sent
// events of changes, and the dashboard (fleet-ui/, plain ES modules, with uPlot from the
// package). Every request passes the Host check (no DNS rebinding); with http.token every API
// request needs it (the dashboard asks once and keeps it); a write action (acknowledge) also
// needs a JSON body and, from a browser, an Origin of this host: a cross-site POST is refused.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { hostname } from 'node:os';
import type { Logger } from '../ops/logger.js';
import { checkHost, checkJsonRequest, checkToken } from '../ops/http-guard.js';
import type { FleetConfig } from './fleet-config.js';
import { listCommands } from './command-queries.js';
import type { FleetStore } from './fleet-store.js';
import { getDevice, listAlerts, listDeadLetters, listDevices, sensorSummaries } from './fleet-queries.js';
import { createSessions, SESSION_COOKIE, type Session } from './sessions.js';

export interface FleetHttp {
  readonly port: number;
  /** Sends a change to every SSE client. */
  broadcast(change: Record<string, unknown>): void;
  close(): Promise<void>;
}

const require = createRequire(import.meta.url);
/** Event streams open at once, at most, and bytes one may have waiting before it is dropped. */
const MAX_EVENT_CLIENTS = 100;
const MAX_EVENT_BUFFER = 1_000_000;
const UI = new URL('../../fleet-ui/', import.meta.url);
const ASSETS: Record<string, { file: URL | string; type: string }> = {
  '/': { file: new URL('index.html', UI), type: 'text/html; charset=utf-8' },
  '/app.js': { file: new URL('app.js', UI), type: 'text/javascript; charset=utf-8' },
  '/commands.js': { file: new URL('commands.js', UI), type: 'text/javascript; charset=utf-8' },
  '/style.css': { file: new URL('style.css', UI), type: 'text/css; charset=utf-8' },
  '/uplot.js': { file: require.resolve('uplot/dist/uPlot.esm.js'), type: 'text/javascript; charset=utf-8' },
  '/uplot.css': { file: require.resolve('uplot/dist/uPlot.min.css'), type: 'text/css; charset=utf-8' },
};

/** A browser's request from another site (its Origin names another host): refused. */
function crossSite(req: IncomingMessage): { status: 403; message: string } | undefined {
  const origin = req.headers.origin;
  if (origin === undefined) return undefined;
  let host: string;
  try {
    host = new URL(origin).host;
  } catch {
    return { status: 403, message: 'a cross-site request: refused' };
  }
  // Host and port: another service on this machine is another site too.
  return host.toLowerCase() === (req.headers.host ?? '').toLowerCase() ? undefined : { status: 403, message: 'a cross-site request: refused' };
}

export interface FleetActions {
  ack(id: string, who: string): Promise<boolean>;
  command(device: string, body: Record<string, unknown>, who: string): Promise<{ status: number; body: unknown }>;
  /** This instance's feed: connected, and what it accepted (for /healthz: a load balancer's check, and an operator's). */
  feed?(): Record<string, unknown>;
}

/** Largest POST body (a command's config.apply carries a whole YAML file). */
const MAX_BODY = 1_100_000;

export async function startFleetHttp(cfg: FleetConfig['http'], store: FleetStore, actions: FleetActions, log: Logger): Promise<FleetHttp> {
  const allowed = [...cfg.allowedHosts, hostname(), `${hostname()}.local`].map((h) => h.toLowerCase());
  const clients = new Set<ServerResponse>();
  const sessions = cfg.auth ? createSessions(cfg.auth.users) : undefined;
  const guarded = cfg.token !== undefined || sessions !== undefined;
  const readJson = async (req: IncomingMessage, max = 4096): Promise<Record<string, unknown> | undefined> => {
    let body = '';
    for await (const chunk of req) {
      body += chunk;
      if (body.length > max) return undefined;
    }
    try {
      const v = JSON.parse(body || '{}') as unknown;
      return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
    } catch {
      return undefined;
    }
  };
  const json = (res: ServerResponse, code: number, body: unknown) => {
    res.writeHead(code, { 'content-type': 'application/json', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
    res.end(JSON.stringify(body));
  };
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const host = checkHost(req.headers.host, allowed);
    if (host) return json(res, host.status, { error: host.message });
    const asset = req.method === 'GET' ? ASSETS[url.pathname] : undefined;
    if (asset) {
      res.writeHead(200, { 'content-type': asset.type, 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff', 'x-frame-options': 'DENY' });
      return res.end(readFileSync(asset.file));
    }
    if (url.pathname === '/healthz') return json(res, 200, { ok: true, ...(actions.feed && { feed: actions.feed() }) });
    if (!url.pathname.startsWith('/api/')) return json(res, 404, { error: 'not found' });
    // Logging in and out (http.auth): JSON bodies, refused cross-site like every write.
    if (req.method === 'POST' && (url.pathname === '/api/login' || url.pathname === '/api/logout')) {
      const bad = checkJsonRequest(req.headers['content-type'], req.headers['content-length'], 4096) ?? crossSite(req);
      if (bad) return json(res, bad.status, { error: bad.message });
      if (url.pathname === '/api/logout') {
        sessions?.logout(req.headers.cookie);
        res.setHeader('set-cookie', `${SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0`);
        return json(res, 200, { ok: true });
      }
      const body = await readJson(req);
      if (!sessions) return json(res, 404, { error: 'no http.auth users: this service takes its token, or none on loopback' });
      const got = body && typeof body.username === 'string' && typeof body.password === 'string' ? await sessions.login(body.username, body.password, req.socket.remoteAddress) : undefined;
      if (got === 'wait') return json(res, 429, { error: 'too many failed logins from this address: wait a minute' });
      if (!got) return json(res, 401, { error: 'wrong username or password', login: 'users' });
      res.setHeader('set-cookie', `${SESSION_COOKIE}=${got.id}; HttpOnly; SameSite=Strict; Path=/; Max-Age=43200`);
      return json(res, 200, { user: got.session.user, csrf: got.session.csrf });
    }
    // Who asks: the bearer token (scripts; ?token= for the events stream), or a session.
    let who = 'loopback';
    let session: Session | undefined;
    if (guarded) {
      const given = req.headers.authorization ?? (url.pathname === '/api/events' && url.searchParams.has('token') ? `Bearer ${url.searchParams.get('token')}` : undefined);
      if (cfg.token !== undefined && given !== undefined && !checkToken(given, cfg.token)) who = 'token';
      else if ((session = sessions?.get(req.headers.cookie))) who = session.user;
      else return json(res, 401, { error: sessions ? 'log in (POST /api/login) or send Authorization: Bearer <http.token>' : 'this fleet service needs its http.token: Authorization: Bearer <token>', login: sessions ? 'users' : 'token' });
    }
    let parts: string[];
    try {
      parts = url.pathname.slice(5).split('/').map((p) => decodeURIComponent(p));
    } catch {
      return json(res, 400, { error: 'a path segment is not valid percent-encoding' });
    }
    if (req.method === 'GET') {
      if (parts[0] === 'devices' && parts.length === 1) return json(res, 200, await listDevices(store.db));
      if (parts[0] === 'devices' && parts.length === 2) {
        const d = await getDevice(store.db, parts[1]!);
        return d ? json(res, 200, d) : json(res, 404, { error: `no device ${JSON.stringify(parts[1])}` });
      }
      if (parts[0] === 'devices' && parts[2] === 'sensors' && parts.length === 5 && parts[4] === 'summaries') {
        const to = Date.parse(url.searchParams.get('to') ?? '') || Date.now();
        const from = Date.parse(url.searchParams.get('from') ?? '') || to - 6 * 3_600_000;
        const points = Math.min(5000, Math.max(1, Number(url.searchParams.get('points') ?? 500) || 500));
        return json(res, 200, await sensorSummaries(store.db, parts[1]!, parts[3]!, from, to, points));
      }
      if (parts[0] === 'anomalies' && parts.length === 1) {
        const state = url.searchParams.get('state') ?? undefined;
        if (state !== undefined && !['open', 'acknowledged', 'cleared'].includes(state)) return json(res, 400, { error: 'state is open, acknowledged or cleared' });
        return json(res, 200, await listAlerts(store.db, state, url.searchParams.get('device') ?? undefined));
      }
      if (parts[0] === 'deadletters') return json(res, 200, await listDeadLetters(store.db));
      if (parts[0] === 'commands' && parts.length === 1) {
        const q = url.searchParams;
        return json(res, 200, await listCommands(store.db, { device: q.get('device') ?? undefined, id: q.get('id') ?? undefined, limit: Number(q.get('limit')) || undefined }));
      }
      if (parts[0] === 'events') {
        if (clients.size >= MAX_EVENT_CLIENTS) return json(res, 503, { error: `already ${MAX_EVENT_CLIENTS} event streams open` });
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
        res.write(': outpost fleet\n\n');
        clients.add(res);
        req.on('close', () => clients.delete(res));
        return;
      }
    }
    const ackRoute = parts[0] === 'anomalies' && parts[2] === 'ack' && parts.length === 3;
    const commandRoute = parts[0] === 'devices' && parts[2] === 'commands' && parts.length === 3;
    if (req.method === 'POST' && (ackRoute || commandRoute)) {
      const max = commandRoute ? MAX_BODY : 4096;
      const bad = checkJsonRequest(req.headers['content-type'], req.headers['content-length'], max);
      if (bad) return json(res, bad.status, { error: bad.message });
      const cross = crossSite(req);
      if (cross) return json(res, cross.status, { error: cross.message });
      // A session's write action carries its CSRF token (a header a foreign page cannot set).
      if (session && req.headers['x-csrf-token'] !== session.csrf) return json(res, 403, { error: 'missing or wrong X-CSRF-Token (log in again)' });
      const body = await readJson(req, max);
      if (!body) return json(res, 400, { error: `the body is not a JSON object (at most ${max} bytes)` });
      const by = typeof body.by === 'string' && body.by.length > 0 ? body.by.slice(0, 100) : 'dashboard';
      const actor = session ? `${session.user} (session ${req.socket.remoteAddress ?? '?'})` : `${by} (${who} ${req.socket.remoteAddress ?? '?'})`;
      if (commandRoute) {
        const r = await actions.command(parts[1]!, body, actor);
        return json(res, r.status, r.body);
      }
      return (await actions.ack(parts[1]!, actor)) ? json(res, 200, { id: parts[1], state: 'acknowledged', by: actor }) : json(res, 404, { error: `no open anomaly ${JSON.stringify(parts[1])}` });
    }
    return json(res, 404, { error: 'not found' });
  };
  const server = createServer((req, res) => {
    handle(req, res).catch((err: Error) => {
      log.error({ err: err.message, url: req.url?.slice(0, 200) }, 'fleet http: request failed');
      if (!res.headersSent) json(res, 500, { error: 'internal error' });
      else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(cfg.port, cfg.host, () => resolve());
  });
  const address = server.address();
  const keepAlive = setInterval(() => {
    for (const c of clients) c.write(': keep-alive\n\n');
  }, 15_000);
  return {
    port: typeof address === 'object' && address ? address.port : cfg.port,
    broadcast(change) {
      const line = `data: ${JSON.stringify(change)}\n\n`;
      for (const c of clients) {
        // A client that does not read is let go rather than buffered for without end (its page
        // reconnects, and fetches the current state then).
        if (c.writableLength > MAX_EVENT_BUFFER) {
          clients.delete(c);
          c.destroy();
        } else c.write(line);
      }
    },
    async close() {
      clearInterval(keepAlive);
      for (const c of clients) c.end();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
