// Drains the outbox to the fleet broker: QoS 1, at most `maxInflight` unacknowledged, in seq
// order, a row deleted only after its PUBACK. SQLite is the only buffer: each connection gets
// a fresh mqtt.js client (no client-side queue survives a disconnect), and after a reconnect
// the drain restarts from the oldest undelivered row, so what was in flight is sent again
// (at least once; consumers dedupe by id).
import { readFileSync } from 'node:fs';
import mqtt, { type MqttClient, type IClientOptions } from 'mqtt';
import type { Outbox, OutboxRow } from '../store/outbox.js';
import type { AgentConfig } from '../config/load.js';
import type { Logger } from '../ops/logger.js';

export type UplinkState = 'connecting' | 'online' | 'offline' | 'stopped';

export interface UplinkStatus {
  state: UplinkState;
  since: number;
  lastError: string | null;
  inflight: number;
  delivered: number;
  connects: number;
}

export interface Forwarder {
  start(): void;
  /** New rows were committed. */
  wake(): void;
  /** Publishes outside the outbox (health); false when offline. */
  publishLive(subtopic: string, payload: string, retain: boolean): boolean;
  status(): UplinkStatus;
  /** Stops sending, waits up to `timeoutMs` for in-flight PUBACKs, says `offline`, disconnects. */
  stop(timeoutMs: number): Promise<void>;
}

export interface ForwarderOptions {
  uplink: AgentConfig['uplink'];
  outbox: Outbox;
  log: Logger;
  clock: () => number;
  onDelivered?: (count: number) => void;
}

const DELETE_BATCH = 500;
const DELETE_DELAY_MS = 100;

export function createForwarder(opts: ForwarderOptions): Forwarder {
  const { uplink, outbox, log, clock } = opts;
  const statusTopic = `${uplink.topicPrefix}/status`;
  let client: MqttClient | undefined;
  let state: UplinkState = 'offline';
  let since = clock();
  let lastError: string | null = null;
  let attempt = 0;
  let connects = 0;
  let delivered = 0;
  let reconnectTimer: NodeJS.Timeout | undefined;

  let cursor = 0; // highest seq read from the outbox on this connection
  let buffer: OutboxRow[] = [];
  let bufferAt = 0;
  const inflight = new Map<number, OutboxRow>();
  let acked: OutboxRow[] = [];
  const ackedSeqs = new Set<number>(); // acknowledged, not yet deleted
  let deleteTimer: NodeJS.Timeout | undefined;
  let deleting: Promise<void> = Promise.resolve();
  let pumping = false;
  let again = false;
  let exhausted = false; // the last read found nothing new
  let stopping = false;

  const setState = (next: UplinkState) => {
    if (next === state) return;
    state = next;
    since = clock();
  };

  const flushDeletes = () => {
    clearTimeout(deleteTimer);
    deleteTimer = undefined;
    const batch = acked;
    acked = [];
    deleting = deleting
      .then(() => outbox.remove(batch))
      .then(
        () => batch.forEach((r) => ackedSeqs.delete(r.seq)),
        (err: Error) => {
          // Rows stay in the outbox and go out again after a restart: a duplicate, never a loss.
          log.error({ err: err.message }, 'could not delete delivered rows from the outbox');
          batch.forEach((r) => ackedSeqs.delete(r.seq));
        },
      );
    return deleting;
  };

  const onAck = (row: OutboxRow) => {
    inflight.delete(row.seq);
    acked.push(row);
    ackedSeqs.add(row.seq);
    delivered++;
    opts.onDelivered?.(1);
    if (acked.length >= DELETE_BATCH) void flushDeletes();
    else if (!deleteTimer) deleteTimer = setTimeout(() => void flushDeletes(), DELETE_DELAY_MS);
  };

  const pump = async () => {
    if (pumping) {
      again = true;
      return;
    }
    pumping = true;
    try {
      do {
        again = false;
        const c = client;
        while (c && c === client && state === 'online' && !stopping && inflight.size < uplink.maxInflight) {
          if (bufferAt >= buffer.length) {
            const rows = await outbox.readAfter(cursor, Math.max(256, uplink.maxInflight));
            if (c !== client || state !== 'online') break;
            exhausted = rows.length === 0;
            if (exhausted) break;
            cursor = rows[rows.length - 1]!.seq;
            buffer = rows.filter((r) => !ackedSeqs.has(r.seq) && !inflight.has(r.seq));
            bufferAt = 0;
            continue;
          }
          const row = buffer[bufferAt++]!;
          inflight.set(row.seq, row);
          c.publish(`${uplink.topicPrefix}/${row.kind}/${row.sensor}`, row.payload, { qos: 1 }, (err) => {
            if (err || c !== client) return; // connection gone: the row is read again after reconnect
            onAck(row);
            if (!pumping) void pump();
          });
        }
      } while (again && state === 'online' && !stopping);
    } catch (err) {
      log.error({ err: (err as Error).message }, 'uplink could not read the outbox; retrying');
      setTimeout(() => void pump(), 1000);
    } finally {
      pumping = false;
    }
  };

  const scheduleReconnect = () => {
    if (stopping || reconnectTimer) return;
    const base = Math.min(uplink.reconnect.max, uplink.reconnect.min * 2 ** Math.min(attempt, 20));
    const delay = Math.round(base * (0.5 + Math.random() * 0.5)); // jitter: a fleet does not reconnect in step
    attempt++;
    reconnectTimer = setTimeout(() => {
      reconnectTimer = undefined;
      connect();
    }, delay);
  };

  const disconnected = (c: MqttClient) => {
    if (c !== client) return;
    client = undefined;
    c.removeAllListeners();
    c.on('error', () => undefined);
    c.end(true);
    if (state === 'online') log.warn({ url: uplink.url, inflight: inflight.size }, 'uplink lost; buffering in the outbox');
    inflight.clear();
    buffer = [];
    bufferAt = 0;
    setState(stopping ? 'stopped' : 'offline');
    scheduleReconnect();
  };

  const connect = () => {
    if (stopping) return;
    setState('connecting');
    let options: IClientOptions;
    try {
      options = clientOptions(uplink, statusTopic);
    } catch (err) {
      lastError = (err as Error).message;
      log.error({ err: lastError }, 'uplink TLS files cannot be read');
      setState('offline');
      scheduleReconnect();
      return;
    }
    const c = mqtt.connect(uplink.url, options);
    client = c;
    c.on('connect', () => {
      if (c !== client) return;
      attempt = 0;
      connects++;
      lastError = null;
      cursor = 0;
      buffer = [];
      bufferAt = 0;
      setState('online');
      log.info({ url: uplink.url }, 'uplink connected');
      c.publish(statusTopic, 'online', { qos: 1, retain: true });
      void pump();
    });
    c.on('error', (err) => {
      if (lastError !== err.message) log.warn({ url: uplink.url, err: err.message }, 'uplink error');
      lastError = err.message;
    });
    c.on('close', () => disconnected(c));
  };

  return {
    start: connect,
    wake: () => {
      exhausted = false;
      void pump();
    },
    publishLive(subtopic, payload, retain) {
      if (!client || state !== 'online') return false;
      client.publish(`${uplink.topicPrefix}/${subtopic}`, payload, { qos: 1, retain });
      return true;
    },
    status: () => ({ state, since, lastError, inflight: inflight.size, delivered, connects }),
    async stop(timeoutMs) {
      clearTimeout(reconnectTimer);
      reconnectTimer = undefined;
      // One bounded final drain: what is left after the deadline stays in the outbox for next time.
      const deadline = clock() + timeoutMs;
      const drained = () => inflight.size === 0 && exhausted && !pumping;
      if (state === 'online') void pump();
      while (state === 'online' && !drained() && clock() < deadline) await new Promise((r) => setTimeout(r, 20));
      stopping = true;
      await flushDeletes();
      const c = client;
      if (c && state === 'online') {
        await new Promise<void>((resolve) => c.publish(statusTopic, 'offline', { qos: 1, retain: true }, () => resolve()));
      }
      client = undefined;
      if (c) {
        c.removeAllListeners();
        c.on('error', () => undefined);
        await c.endAsync().catch(() => undefined);
      }
      setState('stopped');
    },
  };
}

function clientOptions(uplink: AgentConfig['uplink'], statusTopic: string): IClientOptions {
  const tls = uplink.tls;
  return {
    clientId: uplink.clientId,
    clean: true,
    reconnectPeriod: 0, // we reconnect ourselves, with a fresh client and jittered backoff
    connectTimeout: 10_000,
    keepalive: Math.max(1, Math.round(uplink.keepalive / 1000)),
    protocolVersion: 4,
    // mqtt-packet would otherwise pre-build 65,536 Buffers (~8 MB of heap) for message ids.
    writeCache: false,
    username: uplink.username,
    password: uplink.password,
    will: { topic: statusTopic, payload: Buffer.from('offline'), qos: 1, retain: true },
    ...(tls && {
      ca: tls.ca ? readFileSync(tls.ca) : undefined,
      cert: tls.cert ? readFileSync(tls.cert) : undefined,
      key: tls.key ? readFileSync(tls.key) : undefined,
      rejectUnauthorized: tls.rejectUnauthorized,
    }),
  };
}
