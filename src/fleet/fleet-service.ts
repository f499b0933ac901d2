// `outpost fleet`: the store, the fleet broker's feed into it, the HTTP API and dashboard,
// and retention, started in that order and stopped in reverse.
import type { Logger } from '../ops/logger.js';
import { redactUrl } from '../config/redact.js';
import type { FleetConfig } from './fleet-config.js';
import { openFleetStore, type FleetStore } from './fleet-store.js';
import { startFleetConsumer, type FleetConsumer } from './fleet-consumer.js';
import { startFleetHttp, type FleetHttp } from './fleet-http.js';
import type { LogEntry } from './projection.js';
import { startFleetCommands, type FleetCommands } from './fleet-commands.js';

const RETENTION_EVERY_MS = 3_600_000;

export interface FleetService {
  readonly httpPort: number;
  readonly store: FleetStore;
  status(): ReturnType<FleetConsumer['status']>;
  stop(): Promise<void>;
}

/** What the dashboard hears about a batch: one change per message, small. */
function change(e: LogEntry): Record<string, unknown> {
  const m = JSON.parse(e.payload) as Record<string, unknown>;
  return { kind: e.kind, device: e.device ?? e.prefix, ...(typeof m.sensor === 'string' && { sensor: m.sensor }), ...(e.kind === 'status' && { status: m.status }) };
}

export async function startFleetService(cfg: FleetConfig, log: Logger): Promise<FleetService> {
  const store = await openFleetStore(cfg.store);
  let http: FleetHttp | undefined;
  let consumer: FleetConsumer | undefined;
  let commands: FleetCommands | undefined;
  let unsubscribe: (() => Promise<void>) | undefined;
  try {
    const ack = async (id: string, who: string): Promise<boolean> => {
      const open = await store.db.get<{ n: number }>("SELECT count(*) AS n FROM alerts WHERE id = ? AND state = 'open'", [id]);
      if (!open?.n) return false;
      const at = Date.now();
      // Acknowledgements are in the log too: a rebuild keeps them.
      await store.accept([{ key: `ack:${id}:${at}`, kind: 'ack', device: null, seq: null, prefix: 'fleet', payload: JSON.stringify({ id, by: who }), receivedAt: at }]);
      await store.audit(who, 'acknowledge', id, at);
      log.info({ id, by: who }, 'anomaly acknowledged');
      await store.changes.publish([{ kind: 'ack', id }]);
      return true;
    };
    commands = startFleetCommands(cfg, store, log, (c) => void store.changes.publish([c]).catch(() => undefined));
    const cmds = commands;
    http = await startFleetHttp(cfg.http, store, { ack, command: (device, body, who) => cmds.send(device, body, who), feed: () => consumer?.status() ?? { connected: false } }, log);
    // The live view hears every change, whichever instance made it (PostgreSQL: LISTEN/NOTIFY).
    const h = http;
    unsubscribe = await store.changes.subscribe((c) => h.broadcast(c));
    consumer = startFleetConsumer(cfg, store, log, (fresh) => {
      void store.changes.publish(fresh.map(change)).catch((err: Error) => log.warn({ err: err.message }, 'fleet: changes not announced to the live view'));
    });
  } catch (err) {
    await consumer?.close().catch(() => undefined);
    await unsubscribe?.().catch(() => undefined);
    await commands?.close().catch(() => undefined);
    await http?.close().catch(() => undefined);
    await store.close();
    throw err;
  }
  const retain = () => store.retain(Date.now() - cfg.store.retention).catch((err: Error) => log.warn({ err: err.message }, 'fleet retention failed'));
  void retain();
  const timer = setInterval(() => void retain(), RETENTION_EVERY_MS);
  log.info({ http: `http://${cfg.http.host}:${http.port}/`, store: cfg.store.type === 'sqlite' ? cfg.store.path : redactUrl(cfg.store.url) }, 'outpost fleet running');
  return {
    httpPort: http.port,
    store,
    status: () => consumer!.status(),
    async stop() {
      clearInterval(timer);
      await consumer!.close().catch((err: Error) => log.warn({ err: err.message }, 'fleet consumer did not close cleanly'));
      await unsubscribe?.().catch(() => undefined);
      await commands!.close();
      await http!.close();
      await store.close();
    },
  };
}
