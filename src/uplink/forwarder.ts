// Drains the outbox to the fleet broker: QoS 1, at most `maxInflight` unacknowledged, a row
// deleted only after its PUBACK. Two classes, each in seq order: anomalies first, then
// summaries, together at most `maxRate` messages a second (a long outage does not flood the
// fleet broker; a new anomaly still goes out next). Messages the store could not commit yet
// (disk full, read-only) are sent from memory, after the committed ones of their class.
// SQLite is the only buffer: each connection gets a fresh mqtt.js client (no client-side queue
// survives a disconnect), and after a reconnect the drain restarts from the oldest undelivered
// row, so what was in flight is sent again (at least once; consumers dedupe by id).
import mqtt, { type MqttClient, type IClientOptions } from 'mqtt';
import { MESSAGE_KINDS, type MessageKind, type Outbox, type OutboxRow } from '../store/outbox.js';
import type { AgentConfig } from '../config/load.js';
import type { Logger } from '../ops/logger.js';
import { clientOptions, explainUplinkError, refusedProtocol, type ProtocolVersion } from './client-options.js';
import { createTokenBucket } from './token-bucket.js';
import { redactUrl } from '../config/redact.js';

export type UplinkState = 'connecting' | 'online' | 'offline' | 'stopped';

export interface UplinkStatus {
  state: UplinkState;
  since: number;
  lastError: string | null;
  inflight: number;
  delivered: number;
  connects: number;
  /** MQTT version of the current (or last) connection: "5" or "3.1.1". */
  protocol: string;
}

/** Messages held in memory by the store while it cannot commit (the group commit). */
export interface MemoryLane {
  unwritten(kind: MessageKind, afterSeq: number, limit: number): OutboxRow[];
  delivered(seq: number): void;
}

export interface Forwarder {
  start(): void;
  /** New messages were queued; `anomalies` of them are anomalies (checked first). */
  wake(anomalies?: number): void;
  /** Publishes outside the outbox (health); false when offline. */
  publishLive(subtopic: string, payload: string, retain: boolean): boolean;
  status(): UplinkStatus;
  /** Rows of `kind` with seq at or below this may be in flight or awaiting deletion: leave them alone. */
  claimed(kind: MessageKind): number;
  /** Stops sending, waits up to `timeoutMs` for in-flight PUBACKs, says `offline`, disconnects. */
  stop(timeoutMs: number): Promise<void>;
}

export interface ForwarderOptions {
  uplink: AgentConfig['uplink'];
  outbox: Outbox;
  memory?: MemoryLane;
  log: Logger;
  clock: () => number;
  onDelivered?: (count: number) => void;
}

const DELETE_BATCH = 500;
const DELETE_DELAY_MS = 100;
const DELETE_RETRY_MS = 1000;

interface Lane {
  cursor: number;
  buffer: OutboxRow[];
  at: number;
  /** The last reads found nothing new: skip until woken. */
  exhausted: boolean;
}

export function createForwarder(opts: ForwarderOptions): Forwarder {
  const { uplink, outbox, log, clock } = opts;
  const statusTopic = `${uplink.topicPrefix}/status`;
  const url = redactUrl(uplink.url); // for logs and health
  let client: MqttClient | undefined;
  let state: UplinkState = 'offline';
  let since = clock();
  let lastError: string | null = null;
  let attempt = 0;
  let connects = 0;
  let delivered = 0;
  let reconnectTimer: NodeJS.Timeout | undefined;
  let rateTimer: NodeJS.Timeout | undefined;
  let version: ProtocolVersion = uplink.protocol === '3.1.1' ? 4 : 5;

  const lanes: Record<MessageKind, Lane> = {
    anomaly: { cursor: 0, buffer: [], at: 0, exhausted: false },
    summary: { cursor: 0, buffer: [], at: 0, exhausted: false },
  };
  const inflight = new Map<number, OutboxRow>();
  let acked: number[] = [];
  const ackedSeqs = new Set<number>(); // acknowledged, not yet deleted
  const claimedUpTo: Record<MessageKind, number> = { anomaly: 0, summary: 0 };
  let deleteTimer: NodeJS.Timeout | undefined;
  let deleting: Promise<void> = Promise.resolve();
  let deleteFailing = false;
  let pumping = false;
  let again = false;
  let stopping = false;
  const bucket = createTokenBucket(uplink.maxRate, clock());

  const setState = (next: UplinkState) => {
    if (next === state) return;
    state = next;
    since = clock();
  };

  const resetLanes = () => {
    for (const kind of MESSAGE_KINDS) lanes[kind] = { cursor: 0, buffer: [], at: 0, exhausted: false };
  };

  const flushDeletes = () => {
    clearTimeout(deleteTimer);
    deleteTimer = undefined;
    const batch = acked;
    acked = [];
    deleting = deleting.then(
      () =>
        outbox.remove(batch).then(
          () => {
            deleteFailing = false;
            for (const seq of batch) ackedSeqs.delete(seq);
          },
          (err: Error) => {
            // The store cannot write now (disk full, read-only): keep them marked delivered and
            // try again; a restart before that sends them again (a duplicate, never a loss).
            if (!deleteFailing) log.warn({ err: err.message, rows: batch.length }, 'could not delete delivered rows from the outbox yet; retrying');
            deleteFailing = true;
            acked.push(...batch);
            if (!deleteTimer && !stopping) deleteTimer = setTimeout(() => void flushDeletes(), DELETE_RETRY_MS);
          },
        ),
    );
    return deleting;
  };

  const onAck = (row: OutboxRow) => {
    inflight.delete(row.seq);
    acked.push(row.seq);
    ackedSeqs.add(row.seq);
    opts.memory?.delivered(row.seq);
    delivered++;
    opts.onDelivered?.(1);
    if (acked.length >= DELETE_BATCH) void flushDeletes();
    else if (!deleteTimer) deleteTimer = setTimeout(() => void flushDeletes(), DELETE_DELAY_MS);
  };

  /** The next row to send: anomalies first; committed rows, then those held in memory. */
  const nextRow = async (c: MqttClient): Promise<OutboxRow | undefined> => {
    for (const kind of MESSAGE_KINDS) {
      const lane = lanes[kind];
      while (lane.at >= lane.buffer.length && !lane.exhausted) {
        const limit = Math.max(256, uplink.maxInflight);
        let rows = await outbox.readAfter(kind, lane.cursor, limit);
        if (c !== client || state !== 'online') return undefined;
        if (rows.length === 0) rows = opts.memory?.unwritten(kind, lane.cursor, limit) ?? [];
        if (rows.length === 0) {
          lane.exhausted = true;
          break;
        }
        lane.cursor = rows[rows.length - 1]!.seq;
        claimedUpTo[kind] = Math.max(claimedUpTo[kind], lane.cursor);
        lane.buffer = rows.filter((r) => !ackedSeqs.has(r.seq) && !inflight.has(r.seq));
        lane.at = 0;
      }
      if (lane.at < lane.buffer.length) return lane.buffer[lane.at++];
    }
    return undefined;
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
          const now = clock();
          if (bucket.waitMs(now) > 0) {
            if (!rateTimer) {
              rateTimer = setTimeout(() => {
                rateTimer = undefined;
                void pump();
              }, bucket.waitMs(now));
            }
            break;
          }
          const row = await nextRow(c);
          if (!row || c !== client) break;
          bucket.take(clock());
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

  const scheduleReconnect = (delayMs?: number) => {
    if (stopping || reconnectTimer) return;
    const base = Math.min(uplink.reconnect.max, uplink.reconnect.min * 2 ** Math.min(attempt, 20));
    const delay = delayMs ?? Math.round(base * (0.5 + Math.random() * 0.5)); // jitter: a fleet does not reconnect in step
    if (delayMs === undefined) attempt++;
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
    if (state === 'online') log.warn({ url, inflight: inflight.size }, 'uplink lost; buffering in the outbox');
    inflight.clear();
    resetLanes();
    // Rows acknowledged but not yet deleted stay claimed; the rest may be compacted again.
    for (const kind of MESSAGE_KINDS) claimedUpTo[kind] = 0;
    for (const seq of ackedSeqs) {
      for (const kind of MESSAGE_KINDS) claimedUpTo[kind] = Math.max(claimedUpTo[kind], seq);
    }
    setState(stopping ? 'stopped' : 'offline');
    scheduleReconnect();
  };

  const connect = () => {
    if (stopping) return;
    setState('connecting');
    let options: IClientOptions;
    try {
      options = clientOptions(uplink, statusTopic, version);
    } catch (err) {
      lastError = (err as Error).message;
      log.error({ err: lastError }, 'uplink cannot connect');
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
      resetLanes();
      setState('online');
      log.info({ url, protocol: version === 5 ? '5' : '3.1.1' }, 'uplink connected');
      c.publish(statusTopic, 'online', { qos: 1, retain: true });
      void pump();
    });
    c.on('error', (err: Error & { code?: unknown }) => {
      if (c !== client) return;
      if (version === 5 && uplink.protocol === 'auto' && refusedProtocol(err)) {
        log.info({ url }, 'fleet broker does not speak MQTT 5: using 3.1.1');
        version = 4;
        client = undefined;
        c.removeAllListeners();
        c.on('error', () => undefined);
        c.end(true);
        setState('offline');
        scheduleReconnect(0);
        return;
      }
      const message = explainUplinkError(err, url);
      if (lastError !== message) log.warn({ url, err: message }, 'uplink error');
      lastError = message;
    });
    c.on('close', () => disconnected(c));
  };

  return {
    start: connect,
    wake(anomalies = 0) {
      lanes.summary.exhausted = false;
      if (anomalies > 0) lanes.anomaly.exhausted = false;
      void pump();
    },
    publishLive(subtopic, payload, retain) {
      if (!client || state !== 'online') return false;
      client.publish(`${uplink.topicPrefix}/${subtopic}`, payload, { qos: 1, retain });
      return true;
    },
    status: () => ({ state, since, lastError, inflight: inflight.size, delivered, connects, protocol: version === 5 ? '5' : '3.1.1' }),
    claimed: (kind) => claimedUpTo[kind],
    async stop(timeoutMs) {
      clearTimeout(reconnectTimer);
      reconnectTimer = undefined;
      // One bounded final drain: what is left after the deadline stays in the outbox for next time.
      const deadline = clock() + timeoutMs;
      const drained = () => inflight.size === 0 && lanes.anomaly.exhausted && lanes.summary.exhausted && !pumping;
      if (state === 'online') void pump();
      while (state === 'online' && !drained() && clock() < deadline) await new Promise((r) => setTimeout(r, 20));
      stopping = true;
      clearTimeout(rateTimer);
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
