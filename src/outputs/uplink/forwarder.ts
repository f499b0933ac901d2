// Drains the outbox to the fleet broker: QoS 1, at most `maxInflight` unacknowledged, a row
// deleted only after its PUBACK. Two classes, each in seq order: anomalies first, then
// summaries, together at most `maxRate` messages a second (a long outage does not flood the
// fleet broker; a new anomaly still goes out next). Messages the store could not commit yet
// (disk full, read-only) are sent from memory, after the committed ones of their class.
// SQLite is the only buffer: each connection gets a fresh mqtt.js client (no client-side queue
// survives a disconnect), and after a reconnect the drain restarts from the oldest undelivered
// row, so what was in flight is sent again (at least once; consumers dedupe by id).
import mqtt, { type MqttClient, type IClientOptions } from 'mqtt';
import { MESSAGE_KINDS, type MessageKind, type Outbox, type OutboxRow } from '../../store/outbox.js';
import type { AgentConfig } from '../../config/load.js';
import type { Logger } from '../../ops/logger.js';
import { clientOptions, explainUplinkError, refusedProtocol, type ProtocolVersion } from './client-options.js';
import { createTokenBucket } from './token-bucket.js';
import { redactUrl } from '../../config/redact.js';

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
  /**
   * The highest seq the fleet broker acknowledged; at start, the seq below the oldest row still
   * in the outbox (everything before it was acknowledged before the restart).
   */
  lastSeqSent: number;
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
  /**
   * The fleet broker refused a message for good (MQTT 5 PUBACK 0x87 not authorized, 0x90 topic
   * name invalid, 0x99 payload format invalid): keep it as a dead letter; its row is then
   * removed from the outbox like a delivered one.
   */
  onRefused?: (row: OutboxRow, why: string) => Promise<void> | void;
  /** The first backoff after a transient refusal (doubling per refusal of the same row); ms. */
  refusalBackoffMs?: number;
}

/** PUBACK reason codes that will not change on a retry. */
const PERMANENT_REFUSALS = new Map([
  [0x87, 'not authorized'],
  [0x90, 'topic name invalid'],
  [0x99, 'payload format invalid'],
]);
const MAX_BACKOFF_MS = 60_000;
/** A message refused for now this many times is kept as a dead letter instead. */
const MAX_TRANSIENT_REFUSALS = 8;

const DELETE_BATCH = 500;
const DELETE_DELAY_MS = 100;
const DELETE_RETRY_MS = 1000;

interface Lane {
  cursor: number;
  buffer: OutboxRow[];
  at: number;
  /** The last reads found nothing new: skip until woken. */
  exhausted: boolean;
  /** Bumped when the lane is rewound (a transient refusal): a read in flight is discarded. */
  generation: number;
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
    anomaly: { cursor: 0, buffer: [], at: 0, exhausted: false, generation: 0 },
    summary: { cursor: 0, buffer: [], at: 0, exhausted: false, generation: 0 },
  };
  const inflight = new Map<number, OutboxRow>();
  let acked: number[] = [];
  const ackedSeqs = new Set<number>(); // acknowledged, not yet deleted
  const claimedUpTo: Record<MessageKind, number> = { anomaly: 0, summary: 0 };
  let deleteTimer: NodeJS.Timeout | undefined;
  let deleting: Promise<void> = Promise.resolve();
  let deleteFailing = false;
  let pumping = false;
  let receiveMaximum = Infinity; // the broker's, from its CONNACK (MQTT 5)
  let pausedUntil = 0; // after a transient refusal (quota exceeded, ...)
  const refusalsOf = new Map<number, number>(); // transient refusals per seq: its backoff doubles
  let refusedForGood = 0;
  let lastSeqSent = 0;
  let again = false;
  let stopping = false;
  const bucket = createTokenBucket(uplink.maxRate, clock());

  const setState = (next: UplinkState) => {
    if (next === state) return;
    state = next;
    since = clock();
  };

  const resetLanes = () => {
    for (const kind of MESSAGE_KINDS) lanes[kind] = { cursor: 0, buffer: [], at: 0, exhausted: false, generation: lanes[kind].generation + 1 };
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
            for (const seq of batch) acked.push(seq); // no spread: batches can be large
            if (!deleteTimer && !stopping) deleteTimer = setTimeout(() => void flushDeletes(), DELETE_RETRY_MS);
          },
        ),
    );
    return deleting;
  };

  const onAck = (row: OutboxRow) => {
    inflight.delete(row.seq);
    if (row.seq > lastSeqSent) lastSeqSent = row.seq;
    acked.push(row.seq);
    ackedSeqs.add(row.seq);
    opts.memory?.delivered(row.seq);
    delivered++;
    opts.onDelivered?.(1);
    if (acked.length >= DELETE_BATCH) void flushDeletes();
    else if (!deleteTimer) deleteTimer = setTimeout(() => void flushDeletes(), DELETE_DELAY_MS);
  };

  /**
   * An MQTT 5 PUBACK with an error reason code. For good (not authorized, ...): the row becomes a
   * dead letter and leaves the outbox. Otherwise (quota exceeded, unspecified): the row is sent
   * again after a backoff. Either way it leaves the in-flight set, so refusals can never fill
   * it and stop the uplink while health says online.
   */
  const refused = (row: OutboxRow, code: number) => {
    inflight.delete(row.seq);
    const hex = `0x${code.toString(16).padStart(2, '0')}`;
    const topic = `${uplink.topicPrefix}/${row.kind}/${row.sensor}`;
    const attempts = (refusalsOf.get(row.seq) ?? 0) + 1;
    const permanent = PERMANENT_REFUSALS.get(code) ?? (attempts >= MAX_TRANSIENT_REFUSALS ? `refused ${attempts} times` : undefined);
    if (permanent) {
      refusalsOf.delete(row.seq);
      refusedForGood++;
      if (Number.isInteger(Math.log10(refusedForGood))) log.warn({ url, topic, code: hex, refused: refusedForGood }, `fleet broker refused a message for good (${permanent}): kept as a dead letter (reason upstream-refused); check its ACL for this device`);
      // Claimed (never sent again) now, deleted only once its dead letter is committed: a crash
      // in between sends it again, never loses it.
      ackedSeqs.add(row.seq);
      const gone = () => {
        acked.push(row.seq);
        opts.memory?.delivered(row.seq);
        if (!deleteTimer && !stopping) deleteTimer = setTimeout(() => void flushDeletes(), DELETE_DELAY_MS);
      };
      const kept = opts.onRefused?.(row, `the fleet broker refused ${topic}: ${permanent} (PUBACK ${hex})`);
      if (kept) kept.then(gone, () => ackedSeqs.delete(row.seq));
      else gone();
      return;
    }
    refusalsOf.set(row.seq, attempts);
    const backoff = Math.min(MAX_BACKOFF_MS, (opts.refusalBackoffMs ?? 1000) * 2 ** Math.min(attempts - 1, 10));
    pausedUntil = clock() + backoff;
    lastError = `fleet broker refused a message (PUBACK ${hex}); sending again in ${backoff / 1000} s`;
    log.warn({ url, topic, code: hex, backoffMs: backoff }, 'fleet broker refused a message for now: backing off and sending it again');
    // Read this class again from before the row (rows after it that are in flight are skipped).
    const lane = lanes[row.kind];
    lane.cursor = Math.min(lane.cursor, row.seq - 1);
    lane.buffer = [];
    lane.at = 0;
    lane.exhausted = false;
    lane.generation++;
  };

  /** The next row to send: anomalies first; committed rows, then those held in memory. */
  const nextRow = async (c: MqttClient): Promise<OutboxRow | undefined> => {
    for (const kind of MESSAGE_KINDS) {
      const lane = lanes[kind];
      while (lane.at >= lane.buffer.length && !lane.exhausted) {
        const limit = Math.max(256, uplink.maxInflight);
        const generation = lane.generation;
        let rows = await outbox.readAfter(kind, lane.cursor, limit);
        if (c !== client || state !== 'online') return undefined;
        if (lane.generation !== generation) continue; // rewound while reading: read again
        if (rows.length === 0) rows = opts.memory?.unwritten(kind, lane.cursor, limit) ?? [];
        if (rows.length === 0) {
          lane.exhausted = true;
          break;
        }
        const last = rows[rows.length - 1]!.seq;
        // Durably marked before any of them goes out: compaction never rewrites a row that may
        // have reached the broker without its PUBACK, even after a reconnect or a restart.
        // (Rows held in memory are not in the outbox; the mark covers them harmlessly.)
        // markHanded returns at once when the mark on disk is already past `last`; after a
        // failed write it writes again. A store that cannot write keeps the mark in memory
        // (it cannot compact either) and sending goes on: delivery matters more.
        const before = outbox.handedUpTo(kind);
        await outbox.markHanded(kind, last).catch((err: Error) => log.debug({ err: err.message }, 'could not record the handed-over mark yet'));
        if (outbox.handedUpTo(kind) !== before) {
          if (c !== client || state !== 'online') return undefined;
          if (lane.generation !== generation) continue;
        }
        lane.cursor = last;
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
        while (c && c === client && state === 'online' && !stopping && inflight.size < Math.min(uplink.maxInflight, receiveMaximum)) {
          const now = clock();
          if (now < pausedUntil) {
            if (!rateTimer) {
              rateTimer = setTimeout(() => {
                rateTimer = undefined;
                void pump();
              }, pausedUntil - now);
            }
            break;
          }
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
            if (c !== client) return; // connection gone: the row is read again after reconnect
            if (err) {
              const code = (err as { code?: unknown }).code;
              if (typeof code !== 'number') return; // the connection is going: read again after reconnect
              refused(row, code);
            } else {
              refusalsOf.delete(row.seq);
              onAck(row);
            }
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
    c.on('connect', (connack) => {
      if (c !== client) return;
      // Leave room for the QoS 1 publishes outside the outbox (status, health, daily report).
      receiveMaximum = Math.max(1, (connack.properties?.receiveMaximum ?? Infinity) - 2);
      pausedUntil = 0;
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
    start() {
      void Promise.all(MESSAGE_KINDS.map((k) => outbox.readAfter(k, 0, 1))).then(
        (rows) => {
          const oldest = Math.min(outbox.nextSeq(), ...rows.flat().map((r) => r.seq));
          lastSeqSent = Math.max(lastSeqSent, oldest - 1);
        },
        () => undefined,
      );
      connect();
    },
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
    status: () => ({ state, since, lastError, inflight: inflight.size, delivered, connects, protocol: version === 5 ? '5' : '3.1.1', lastSeqSent }),
    claimed: (kind) => Math.max(claimedUpTo[kind], outbox.handedUpTo(kind)),
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
      // A broker that stops answering must not hold the stop up: the "offline" status and the
      // goodbye get what is left of the deadline (at least 200 ms), then the socket is closed.
      const bounded = (p: Promise<unknown>) => {
        let timer: NodeJS.Timeout | undefined;
        return Promise.race([p, new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), Math.max(200, deadline - clock()))))]).finally(() => clearTimeout(timer));
      };
      let late = false;
      if (c && state === 'online') {
        late = (await bounded(new Promise<void>((resolve) => c.publish(statusTopic, 'offline', { qos: 1, retain: true }, () => resolve())))) === 'late';
      }
      client = undefined;
      if (c) {
        c.removeAllListeners();
        c.on('error', () => undefined);
        if (late || (await bounded(c.endAsync().catch(() => undefined))) === 'late') await c.endAsync(true).catch(() => undefined);
      }
      setState('stopped');
    },
  };
}
