// Drains the outbox to the fleet broker: QoS 1, at most `maxInflight` unacknowledged, a row
// deleted only after its PUBACK. Two classes, each in seq order: anomalies first, then
// summaries, together at most `maxRate` messages a second (a long outage does not flood the
// fleet broker; a new anomaly still goes out next). Messages the store could not commit yet
// (disk full, read-only) are sent from memory, after the committed ones of their class.
// SQLite is the only buffer: each connection gets a fresh mqtt.js client (no client-side queue
// survives a disconnect), and after a reconnect the drain restarts from the oldest undelivered
// row, so what was in flight is sent again (at least once; consumers dedupe by id).
import type { MqttClient } from 'mqtt';
import { MESSAGE_KINDS, rowTopic, type MessageKind, type OutboxRow } from '../../store/outbox.js';
import { createTokenBucket } from './token-bucket.js';
import { redactUrl } from '../../config/redact.js';
import type { Forwarder, ForwarderOptions } from './uplink-types.js';
import { createUplinkConnection, type MessageProperties } from './uplink-connection.js';
import { topicMatches } from '../../stream/topic-filter.js';
import { createDeliveredRows } from './delivered-rows.js';
import { createDrainLanes } from './drain-lanes.js';
import { hexCode, refusalVerdict } from './refusals.js';

export function createForwarder(opts: ForwarderOptions): Forwarder {
  const { uplink, outbox, log, clock } = opts;
  const url = redactUrl(uplink.url); // for logs
  let delivered = 0;
  let rateTimer: NodeJS.Timeout | undefined;

  const claimedUpTo: Record<MessageKind, number> = { anomaly: 0, reply: 0, event: 0, summary: 0 };
  const lanes = createDrainLanes({
    outbox,
    memory: opts.memory,
    readRows: Math.max(256, uplink.maxInflight),
    log,
    onRead: (kind, upTo) => (claimedUpTo[kind] = Math.max(claimedUpTo[kind], upTo)),
  });
  const inflight = new Map<number, OutboxRow>();
  const done = createDeliveredRows(outbox, log);
  let pumping = false;
  let receiveMaximum = Infinity; // the broker's, from its CONNACK (MQTT 5)
  let pausedUntil = 0; // after a transient refusal (quota exceeded, ...)
  const refusalsOf = new Map<number, number>(); // transient refusals per seq: its backoff doubles
  let refusedForGood = 0;
  let lastSeqSent = 0;
  let again = false;
  let stopping = false;
  const bucket = createTokenBucket(uplink.maxRate, clock());

  const onAck = (row: OutboxRow) => {
    inflight.delete(row.seq);
    if (row.seq > lastSeqSent) lastSeqSent = row.seq;
    done.done(row.seq);
    opts.memory?.delivered(row.seq);
    delivered++;
    opts.onDelivered?.(1);
  };

  /**
   * An MQTT 5 PUBACK with an error reason code. For good (not authorized, ...): the row becomes a
   * dead letter and leaves the outbox. Otherwise (quota exceeded, unspecified): the row is sent
   * again after a backoff. Either way it leaves the in-flight set, so refusals can never fill
   * it and stop the uplink while health says online.
   */
  const refused = (row: OutboxRow, code: number) => {
    inflight.delete(row.seq);
    const hex = hexCode(code);
    const topic = rowTopic(uplink.topicPrefix, row);
    const attempts = (refusalsOf.get(row.seq) ?? 0) + 1;
    const verdict = refusalVerdict(code, attempts, opts.refusalBackoffMs ?? 1000);
    if ('permanent' in verdict) {
      const { permanent } = verdict;
      refusalsOf.delete(row.seq);
      refusedForGood++;
      if (Number.isInteger(Math.log10(refusedForGood))) log.warn({ url, topic, code: hex, refused: refusedForGood }, `fleet broker refused a message for good (${permanent}): kept as a dead letter (reason upstream-refused); check its ACL for this device`);
      // Claimed (never sent again) now, deleted only once its dead letter is committed: a crash
      // in between sends it again, never loses it.
      done.claim(row.seq);
      const gone = () => {
        done.done(row.seq);
        opts.memory?.delivered(row.seq);
      };
      const kept = opts.onRefused?.(row, `the fleet broker refused ${topic}: ${permanent} (PUBACK ${hex})`);
      if (kept) kept.then(gone, () => done.unclaim(row.seq));
      else gone();
      return;
    }
    refusalsOf.set(row.seq, attempts);
    const backoff = verdict.backoffMs;
    pausedUntil = clock() + backoff;
    conn.note(`fleet broker refused a message (PUBACK ${hex}); sending again in ${backoff / 1000} s`);
    log.warn({ url, topic, code: hex, backoffMs: backoff }, 'fleet broker refused a message for now: backing off and sending it again');
    // Read this class again from before the row (rows after it that are in flight are skipped).
    lanes.rewind(row.kind, row.seq);
  };

  /** The next row to send: anomalies first; committed rows, then those held in memory. */
  const nextRow = (c: MqttClient) => lanes.next(() => c === conn.online(), (seq) => done.has(seq) || inflight.has(seq));

  const pump = async () => {
    if (pumping) {
      again = true;
      return;
    }
    pumping = true;
    try {
      do {
        again = false;
        const c = conn.online();
        while (c && c === conn.online() && !stopping && inflight.size < Math.min(uplink.maxInflight, receiveMaximum)) {
          const now = clock();
          // Backing off after a refusal, or over uplink.maxRate: pump again when it is time.
          const waitMs = Math.max(pausedUntil - now, bucket.waitMs(now));
          if (waitMs > 0) {
            rateTimer ??= setTimeout(() => {
              rateTimer = undefined;
              void pump();
            }, waitMs);
            break;
          }
          const row = await nextRow(c);
          if (!row || c !== conn.online()) break;
          bucket.take(clock());
          inflight.set(row.seq, row);
          const properties = row.props && conn.status().protocol === '5' ? publishProperties(row.props) : undefined;
          c.publish(rowTopic(uplink.topicPrefix, row), row.payload, { qos: 1, ...(properties && { properties }) }, (err) => {
            if (c !== conn.online()) return; // connection gone: the row is read again after reconnect
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
      } while (again && conn.online() && !stopping);
    } catch (err) {
      log.error({ err: (err as Error).message }, 'uplink could not read the outbox; retrying');
      setTimeout(() => void pump(), 1000);
    } finally {
      pumping = false;
    }
  };

  const connectListeners: Array<() => void> = [];
  const watchers: Array<{ filter: string; listener: (topic: string, payload: Buffer, props: MessageProperties) => void | Promise<void> }> = [];
  const conn = createUplinkConnection({
    uplink,
    log,
    clock,
    onMessage(topic, payload, props) {
      const waits: Promise<void>[] = [];
      for (const w of watchers) {
        if (!topicMatches(w.filter, topic)) continue;
        const p = w.listener(topic, payload, props);
        if (p) waits.push(p);
      }
      if (waits.length > 0) return Promise.all(waits).then(() => undefined);
    },
    onOnline(_client, brokerReceiveMaximum) {
      // Leave room for the QoS 1 publishes outside the outbox (status, health, daily report).
      receiveMaximum = Math.max(1, brokerReceiveMaximum - 2);
      pausedUntil = 0;
      lanes.reset();
      void pump();
      for (const l of connectListeners) l();
    },
    onOffline(wasOnline) {
      if (wasOnline) log.warn({ url, inflight: inflight.size }, 'uplink lost; buffering in the outbox');
      inflight.clear();
      lanes.reset();
      // Rows acknowledged but not yet deleted stay claimed; the rest may be compacted again.
      for (const kind of MESSAGE_KINDS) claimedUpTo[kind] = 0;
      for (const seq of done.claimed()) {
        for (const kind of MESSAGE_KINDS) claimedUpTo[kind] = Math.max(claimedUpTo[kind], seq);
      }
    },
  });

  return {
    start() {
      void Promise.all(MESSAGE_KINDS.map((k) => outbox.readAfter(k, 0, 1))).then(
        (rows) => {
          const oldest = Math.min(outbox.nextSeq(), ...rows.flat().map((r) => r.seq));
          lastSeqSent = Math.max(lastSeqSent, oldest - 1);
        },
        () => undefined,
      );
      conn.start();
    },
    wake(anomalies = 0) {
      lanes.wake(anomalies > 0);
      void pump();
    },
    live: {
      publish(topic, payload, retain) {
        const client = conn.online();
        if (!client) return false;
        client.publish(topic, payload, { qos: 1, retain });
        return true;
      },
      onConnect: (listener) => void connectListeners.push(listener),
      watch(filter, listener, qos = 0) {
        watchers.push({ filter, listener });
        conn.watch(filter, qos);
      },
    },
    publishLive(subtopic, payload, retain) {
      const client = conn.online();
      if (!client) return false;
      client.publish(`${uplink.topicPrefix}/${subtopic}`, payload, { qos: 1, retain });
      return true;
    },
    status: () => {
      const { state, since, lastError, connects, protocol } = conn.status();
      return { state, since, lastError, inflight: inflight.size, delivered, connects, protocol, lastSeqSent };
    },
    claimed: (kind) => Math.max(claimedUpTo[kind], outbox.handedUpTo(kind)),
    async stop(timeoutMs) {
      conn.holdReconnects();
      // One bounded final drain: what is left after the deadline stays in the outbox for next time.
      const deadline = clock() + timeoutMs;
      const drained = () => inflight.size === 0 && lanes.exhausted() && !pumping;
      if (conn.online()) void pump();
      while (conn.online() && !drained() && clock() < deadline) await new Promise((r) => setTimeout(r, 20));
      stopping = true;
      clearTimeout(rateTimer);
      done.stop();
      await done.flush();
      await conn.close(deadline);
    },
  };
}

/** A row's stored MQTT 5 properties (JSON: `correlationData` in base64) for mqtt.js; undefined when unreadable. */
function publishProperties(json: string): { correlationData?: Buffer } | undefined {
  try {
    const p = JSON.parse(json) as { correlationData?: unknown };
    return typeof p.correlationData === 'string' ? { correlationData: Buffer.from(p.correlationData, 'base64') } : undefined;
  } catch {
    return undefined;
  }
}
