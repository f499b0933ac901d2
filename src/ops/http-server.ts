// /healthz (200 when the pipeline progresses and the store commits, else 503), /metrics (Prometheus text),
// /status (the health report plus the latest summaries, for `outpost status`), and
// POST /deadletters/replay (for `outpost deadletter replay`). It listens on loopback by default.
// Every request passes the Host check; write actions also need the token, a JSON body of
// bounded size, and a valid filter (http-guard.ts). Bad requests get 4xx with a message.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Registry } from 'prom-client';
import type { Logger } from './logger.js';
import { checkHost, checkJsonRequest, checkToken, type Refusal } from './http-guard.js';

export interface HttpHandlers {
  healthy: () => boolean;
  status: () => Promise<unknown>;
  /** The registry, made at the first scrape (prom-client costs RSS a device that is never scraped need not pay). */
  metrics: () => Promise<Registry>;
  /** POST /deadletters/replay with a JSON filter; answers what was replayed. */
  replayDeadLetters: (filter: ReplayRequest) => Promise<unknown>;
  /** POST /deadletters/purge with a JSON filter (or {"all": true}); answers how many went. */
  purgeDeadLetters: (filter: PurgeRequest) => Promise<unknown>;
}

export interface PurgeRequest {
  reason?: string;
  ids?: number[];
  /** Received before this (epoch ms). */
  before?: number;
}

export interface ReplayRequest {
  reason?: string;
  ids?: number[];
  limit?: number;
}

export interface HttpOptions {
  host: string;
  port: number;
  /** Bearer token for write actions. */
  token: string;
  allowedHosts: readonly string[];
  /** Largest request body, bytes. */
  maxBodyBytes?: number;
}

export interface HttpServer {
  readonly port: number;
  close(): Promise<void>;
}

class RequestError extends Error {
  constructor(readonly refusal: Refusal) {
    super(refusal.message);
  }
}

export async function startHttpServer(o: HttpOptions, h: HttpHandlers, log: Logger): Promise<HttpServer | undefined> {
  const maxBody = o.maxBodyBytes ?? 65_536;
  const server: Server = createServer((req, res) => {
    const send = (code: number, type: string, body: string) => {
      if (res.headersSent) return;
      res.writeHead(code, { 'content-type': type, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
      res.end(body);
    };
    const refuse = (r: Refusal) => {
      // A body left unread (413) would stall the connection: say so and close it after the answer.
      if (r.status === 413) res.setHeader('connection', 'close');
      send(r.status, 'application/json', JSON.stringify({ error: r.message }));
      if (r.status === 413) res.once('finish', () => req.destroy());
    };
    const route = async () => {
      const host = checkHost(req.headers.host, o.allowedHosts);
      if (host) return refuse(host);
      const path = (req.url ?? '').split('?', 1)[0];
      if (req.method === 'POST' && (path === '/deadletters/replay' || path === '/deadletters/purge')) {
        const refusal = checkToken(req.headers.authorization, o.token) ?? checkJsonRequest(req.headers['content-type'], req.headers['content-length'], maxBody);
        if (refusal) return refuse(refusal);
        const body = await readBody(req, maxBody);
        const answer = path === '/deadletters/replay' ? await h.replayDeadLetters(parseReplayRequest(body)) : await h.purgeDeadLetters(parsePurgeRequest(body));
        return send(200, 'application/json', JSON.stringify(answer));
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'text/plain', 'method not allowed\n');
      if (path === '/healthz') {
        const ok = h.healthy();
        send(ok ? 200 : 503, 'application/json', JSON.stringify({ status: ok ? 'ok' : 'not progressing or store not writable (see /status)' }));
      } else if (path === '/metrics') {
        const registry = await h.metrics();
        send(200, registry.contentType, await registry.metrics());
      }
      else if (path === '/status') send(200, 'application/json', JSON.stringify(await h.status()));
      else send(404, 'text/plain', 'not found: try /healthz, /metrics or /status\n');
    };
    route().catch((err: Error) => {
      if (err instanceof RequestError) return refuse(err.refusal);
      log.error({ url: req.url?.slice(0, 200), err: err.stack }, 'http request failed');
      send(500, 'application/json', JSON.stringify({ error: 'internal error (see the agent log)' }));
    });
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  server.maxHeadersCount = 50;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(o.port, o.host, () => resolve());
    });
  } catch (err) {
    // Metrics are not worth stopping the data path for: say so and carry on.
    log.error({ err: (err as Error).message, host: o.host, port: o.port }, 'http endpoint not started (set http.port to a free port, or http.enabled: false); the agent runs without /healthz and /metrics');
    return undefined;
  }
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : o.port,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/** The body as text, refused past `max` bytes (whatever Content-Length claimed). */
async function readBody(req: IncomingMessage, max: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > max) throw new RequestError({ status: 413, message: `body over ${max} bytes` });
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** A purge filter from a request body: reason, ids, before (ISO 8601), or all: true; else a 400. */
export function parsePurgeRequest(body: string): PurgeRequest {
  const bad = (message: string) => new RequestError({ status: 400, message });
  let doc: unknown;
  try {
    doc = JSON.parse(body);
  } catch {
    throw bad('body is not valid JSON');
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw bad('body must be a JSON object like {"reason": "bad-json"} or {"all": true}');
  const { before, all, ...rest } = doc as Record<string, unknown>;
  const out: PurgeRequest = parseReplayRequest(JSON.stringify({ ...rest, limit: undefined }));
  if (before !== undefined && before !== null) {
    const t = typeof before === 'string' ? Date.parse(before) : NaN;
    if (!Number.isFinite(t)) throw bad('before must be an ISO 8601 time');
    out.before = t;
  }
  if (all !== undefined && all !== null && typeof all !== 'boolean') throw bad('all must be true or false');
  if (!out.reason && !out.ids?.length && out.before === undefined && all !== true) throw bad('say which (reason, ids, before), or all: true');
  return out;
}

/** A replay filter from a request body, or a 400 saying what is wrong. */
export function parseReplayRequest(body: string): ReplayRequest {
  const bad = (message: string) => new RequestError({ status: 400, message });
  let doc: unknown;
  try {
    doc = body.trim() === '' ? {} : JSON.parse(body);
  } catch {
    throw bad('body is not valid JSON');
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw bad('body must be a JSON object like {"reason": "bad-json", "limit": 100}');
  const d = doc as Record<string, unknown>;
  const unknown = Object.keys(d).filter((k) => !['reason', 'ids', 'limit'].includes(k));
  if (unknown.length > 0) throw bad(`unknown field(s): ${unknown.slice(0, 5).join(', ')}; allowed: reason, ids, limit`);
  const out: ReplayRequest = {};
  if (d.reason !== undefined && d.reason !== null) {
    if (typeof d.reason !== 'string' || d.reason.length > 64) throw bad('reason must be a string (a dead-letter reason)');
    out.reason = d.reason;
  }
  if (d.ids !== undefined && d.ids !== null) {
    if (!Array.isArray(d.ids) || d.ids.length > 10_000 || !d.ids.every((x) => Number.isSafeInteger(x) && (x as number) > 0)) throw bad('ids must be a list of at most 10000 positive whole numbers');
    out.ids = d.ids as number[];
  }
  if (d.limit !== undefined && d.limit !== null) {
    if (!Number.isSafeInteger(d.limit) || (d.limit as number) < 1 || (d.limit as number) > 1_000_000) throw bad('limit must be a whole number from 1 to 1000000');
    out.limit = d.limit as number;
  }
  return out;
}
