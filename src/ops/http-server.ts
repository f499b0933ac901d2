// /healthz (200 when the pipeline progresses and the store commits, else 503), /metrics (Prometheus text),
// /status (the health report plus the latest summaries, for `outpost status`), and
// POST /deadletters/replay (for `outpost deadletter replay`). It listens on loopback by default.
import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';
import type { Logger } from './logger.js';

export interface HttpHandlers {
  healthy: () => boolean;
  status: () => Promise<unknown>;
  metrics: Registry;
  /** POST /deadletters/replay with a JSON filter; answers what was replayed. */
  replayDeadLetters: (filter: unknown) => Promise<unknown>;
}

export interface HttpServer {
  readonly port: number;
  close(): Promise<void>;
}

export async function startHttpServer(host: string, port: number, h: HttpHandlers, log: Logger): Promise<HttpServer | undefined> {
  const server: Server = createServer((req, res) => {
    const send = (code: number, type: string, body: string) => {
      res.writeHead(code, { 'content-type': type });
      res.end(body);
    };
    const route = async () => {
      if (req.url === '/healthz') {
        const ok = h.healthy();
        send(ok ? 200 : 503, 'application/json', JSON.stringify({ status: ok ? 'ok' : 'not progressing or store not writable (see /status)' }));
      } else if (req.url === '/metrics') send(200, h.metrics.contentType, await h.metrics.metrics());
      else if (req.url === '/status') send(200, 'application/json', JSON.stringify(await h.status()));
      else if (req.url === '/deadletters/replay' && req.method === 'POST') {
        let body = '';
        for await (const chunk of req) body += String(chunk);
        send(200, 'application/json', JSON.stringify(await h.replayDeadLetters(body ? JSON.parse(body) : {})));
      }
      else send(404, 'text/plain', 'not found: try /healthz, /metrics or /status\n');
    };
    route().catch((err: Error) => send(500, 'text/plain', `${err.message}\n`));
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
  } catch (err) {
    // Metrics are not worth stopping the data path for: say so and carry on.
    log.error({ err: (err as Error).message, host, port }, 'http endpoint not started (set http.port to a free port, or http.enabled: false); the agent runs without /healthz and /metrics');
    return undefined;
  }
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : port,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
