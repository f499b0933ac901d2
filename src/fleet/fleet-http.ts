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
import { checkHost, checkJsonRequest, checkToken, hostOf } from '../ops/http-guard.js';
import type { FleetConfig } from './fleet-config.js';
import type { FleetStore } from './fleet-store.js';
import { getDevice, listAlerts, listDeadLetters, listDevices, sensorSummaries } from './fleet-queries.js';

export interface FleetHttp {
  readonly port: number;
  /** Sends a change to every SSE client. */
  broadcast(change: Record<string, unknown>): void;
  close(): Promise<void>;
}

const require = createRequire(import.meta.url);
const UI = new URL('../../fleet-ui/', import.meta.url);
const ASSETS: Record<string, { file: URL | string; type: string }> = {
  '/': { file: new URL('index.html', UI), type: 'text/html; charset=utf-8' },
  '/app.js': { file: new URL('app.js', UI), type: 'text/javascript; charset=utf-8' },
  '/style.css': { file: new URL('style.css', UI), type: 'text/css; charset=utf-8' },
  '/uplot.js': { file: require.resolve('uplot/dist/uPlot.esm.js'), type: 'text/javascript; charset=utf-8' },
  '/uplot.css': { file: require.resolve('uplot/dist/uPlot.min.css'), type: 'text/css; charset=utf-8' },
};

export async function startFleetHttp(cfg: FleetConfig['http'], store: FleetStore, ack: (id: string, who: string) => Promise<boolean>, log: Logger): Promise<FleetHttp> {
  const allowed = [...cfg.allowedHosts, hostname(), `${hostname()}.local`].map((h) => h.toLowerCase());
  const clients = new Set<ServerResponse>();
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
    if (url.pathname === '/healthz') return json(res, 200, { ok: true });
    if (!url.pathname.startsWith('/api/')) return json(res, 404, { error: 'not found' });
    if (cfg.token !== undefined) {
      // EventSource cannot send headers: the events stream takes the token as ?token=.
      const given = req.headers.authorization ?? (url.pathname === '/api/events' ? `Bearer ${url.searchParams.get('token') ?? ''}` : undefined);
      const refused = checkToken(given, cfg.token);
      if (refused) return json(res, refused.status, { error: 'this fleet service needs its http.token: Authorization: Bearer <token>' });
    }
    const parts = url.pathname.slice(5).split('/').map((p) => decodeURIComponent(p));
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
      if (parts[0] === 'events') {
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
        res.write(': outpost fleet\n\n');
        clients.add(res);
        req.on('close', () => clients.delete(res));
        return;
      }
    }
    if (req.method === 'POST' && parts[0] === 'anomalies' && parts[2] === 'ack' && parts.length === 3) {
      const bad = checkJsonRequest(req.headers['content-type'], req.headers['content-length'], 4096);
      if (bad) return json(res, bad.status, { error: bad.message });
      const origin = req.headers.origin;
      if (origin !== undefined && hostOf(new URL(origin, 'http://x').host) !== hostOf(req.headers.host)) return json(res, 403, { error: 'a cross-site request: refused' });
      let body = '';
      for await (const chunk of req) body += chunk;
      let who = 'dashboard';
      try {
        const by = (JSON.parse(body || '{}') as { by?: unknown }).by;
        if (typeof by === 'string' && by.length > 0) who = by.slice(0, 100);
      } catch {
        return json(res, 400, { error: 'the body is not JSON' });
      }
      who = `${who} (${cfg.token !== undefined ? 'token' : 'loopback'} ${req.socket.remoteAddress ?? '?'})`;
      return (await ack(parts[1]!, who)) ? json(res, 200, { id: parts[1], state: 'acknowledged', by: who }) : json(res, 404, { error: `no open anomaly ${JSON.stringify(parts[1])}` });
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
      for (const c of clients) c.write(line);
    },
    async close() {
      clearInterval(keepAlive);
      for (const c of clients) c.end();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
