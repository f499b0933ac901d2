// A MessageFeed from any MQTT broker (e.g. a Mosquitto already on the device), for
// `broker.enabled: false`. Uses connect() and events so a broker that starts later is fine.
// Nothing is lost while Outpost is down: a persistent session (clean session off, a stable
// client id) with QoS 1 subscriptions makes the broker keep what sensors publish meanwhile and
// hand it over when Outpost returns. The subscription is renewed at every connect (a changed
// topic, or a SUBSCRIBE lost with a dropped connection, must never leave the source deaf).
// Retained messages are skipped unless the source says `retained: ingest`, and then taken only
// when the session is new: with a present session, the retained messages a renewed SUBSCRIBE
// brings are state already taken.
// Acknowledgement after commit without reading one message per commit: mqtt.js handles incoming
// packets one at a time and sends a PUBACK when the handler is done, so the handler is done at
// once and the PUBACK itself is held until what the message became is committed (mqtt.js'
// _sendPacket is wrapped for that; a private method, pinned by the lockfile and covered by the
// interop tests). The broker's own in-flight window (Mosquitto: max_inflight_messages) then
// bounds what waits: backpressure, with commits batching a window's worth of messages.
import { holdPubacks } from '../../ops/held-pubacks.js';
import { requireCjs } from '../../ops/require-cjs.js';
import { redactUrl } from '../../config/redact.js';
import type { MessageFeed } from './message-feed.js';
import { topicMatches } from '../../stream/topic-filter.js';
import type { Logger } from '../../ops/logger.js';

const mqtt = requireCjs('mqtt') as typeof import('mqtt');

export interface ClientFeedOptions {
  url: string;
  clientId: string;
  username?: string;
  password?: string;
  /** skip: retained messages (old state the broker kept) are not readings; ingest: they are. */
  retained: 'skip' | 'ingest';
  log: Logger;
}

export function createClientFeed(opts: ClientFeedOptions): MessageFeed {
  return {
    async subscribe(filter, onMessage) {
      const filters = typeof filter === 'string' ? [filter] : [...filter];
      const client = mqtt.connect(opts.url, {
        clientId: opts.clientId,
        clean: false,
        username: opts.username,
        password: opts.password,
        reconnectPeriod: 2_000,
        protocolVersion: 4,
        resubscribe: false, // see 'connect' below
        writeCache: false, // see outputs/uplink/forwarder.ts
      });
      let reported = false;
      // PUBACKs held until their message is durable, by message id.
      const hold = holdPubacks(client);
      let takeRetained = opts.retained === 'ingest';
      client.on('connect', (connack) => {
        reported = false;
        takeRetained = opts.retained === 'ingest' && !connack.sessionPresent;
        opts.log.info({ url: redactUrl(opts.url), filters, sessionPresent: connack.sessionPresent }, 'mqtt source connected');
        client.subscribe(filters, { qos: 1 }, (err, granted) => {
          if (err || granted?.some((g) => g.qos === 128)) opts.log.error({ url: redactUrl(opts.url), filters, err: err?.message ?? 'SUBACK 0x80' }, 'mqtt source: subscription refused by its broker (check its ACL): no readings will come from it');
        });
      });
      client.on('error', (err) => {
        if (!reported) opts.log.warn({ url: redactUrl(opts.url), err: err.message }, 'mqtt source cannot reach its broker; retrying every 2 s');
        reported = true;
      });
      client.handleMessage = (packet, done) => {
        const { topic } = packet;
        if (!filters.some((f) => topicMatches(f, topic))) return done();
        let wait: void | Promise<void> = undefined;
        try {
          // Retained and not wanted: old state kept by the broker; the source takes no reading from it.
          wait = onMessage(topic, packet.payload as Buffer, packet.qos, packet.retain && !takeRetained);
        } catch (err) {
          opts.log.error({ topic: topic.slice(0, 200), err: (err as Error)?.stack ?? String(err) }, 'mqtt source failed on a message (please report this)');
        }
        if (wait instanceof Promise && packet.qos === 1 && packet.messageId !== undefined) {
          hold(packet.messageId, wait);
          done();
        } else if (wait instanceof Promise) wait.then(() => done(), () => done());
        else done();
      };
      return async () => {
        await client.endAsync();
      };
    },
  };
}
