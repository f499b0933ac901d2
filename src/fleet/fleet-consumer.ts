// The fleet broker's feed into the store: one persistent session (clean session off, QoS 1),
// subscribed at every connect to <filter>/# for each followed device prefix. Messages are
// batched into one transaction (up to BATCH or every FLUSH_MS); each PUBACK waits for its
// message's commit, so a crash of the service loses nothing the broker considers delivered.
import mqtt, { type IClientOptions } from 'mqtt';
import type { Logger } from '../ops/logger.js';
import { holdPubacks } from '../ops/held-pubacks.js';
import { redactUrl } from '../config/redact.js';
import type { FleetConfig } from './fleet-config.js';
import type { FleetStore } from './fleet-store.js';
import type { LogEntry } from './projection.js';
import { readMessage } from './read-message.js';
import { fleetBrokerOptions } from './broker-options.js';
import { sendAtOnce } from '../ops/mqtt-client.js';

const BATCH = 1000;
/**
 * A batch is committed this soon after its first message (ms). Short: a broker lets a client
 * hold only so many unacknowledged messages (Mosquitto: max_inflight_messages, 20 by default),
 * so waiting longer would not make batches bigger; they grow while a commit runs.
 */
const FLUSH_MS = 1;

export interface FleetConsumer {
  status(): { connected: boolean; accepted: number; duplicates: number; deadLetters: number; ignored: number };
  close(): Promise<void>;
}

export function startFleetConsumer(cfg: Pick<FleetConfig, 'broker' | 'topics'>, store: FleetStore, log: Logger, onAccepted: (fresh: LogEntry[]) => void): FleetConsumer {
  const b = cfg.broker;
  const options: IClientOptions = { ...fleetBrokerOptions(b), clientId: b.clientId, clean: false, protocolVersion: 4, resubscribe: false };
  const client = mqtt.connect(b.url, options);
  const hold = holdPubacks(client, { dropOnFailure: true });
  const counts = { accepted: 0, duplicates: 0, deadLetters: 0, ignored: 0 };
  let batch: Array<{ entry: LogEntry; done: (ok: boolean) => void }> = [];
  let timer: NodeJS.Timeout | undefined;
  let chain: Promise<void> = Promise.resolve();
  const flush = () => {
    clearTimeout(timer);
    timer = undefined;
    const take = batch;
    batch = [];
    if (take.length === 0) return chain;
    chain = chain.then(async () => {
      let ok = false;
      try {
        const fresh = await store.accept(take.map((t) => t.entry));
        ok = true;
        counts.accepted += fresh.length;
        counts.duplicates += take.length - fresh.length;
        if (fresh.length > 0) onAccepted(fresh);
      } catch (err) {
        log.error({ err: (err as Error).message }, 'fleet store: a batch could not be committed; the broker will send it again');
        client.end(true); // no PUBACK for any of them: redelivered on the next session
        setTimeout(() => client.reconnect(), 2000);
      } finally {
        for (const t of take) t.done(ok);
      }
    });
    return chain;
  };
  client.on('connect', () => {
    sendAtOnce(client); // PUBACKs now, not after Nagle's wait
    log.info({ url: redactUrl(b.url), topics: cfg.topics }, 'fleet: connected to the fleet broker');
    // With a share group, each message goes to one instance of the group (MQTT shared subscriptions).
    const share = b.shareGroup === undefined ? '' : `$share/${b.shareGroup}/`;
    client.subscribe(cfg.topics.map((t) => `${share}${t}/#`), { qos: 1 }, (err) => {
      if (err) log.error({ err: err.message }, 'fleet: subscription refused (check the broker ACL)');
    });
  });
  let reported = false;
  client.on('error', (err) => {
    if (!reported) log.warn({ url: redactUrl(b.url), err: err.message }, 'fleet: cannot reach the fleet broker; retrying');
    reported = true;
  });
  client.handleMessage = (packet, done) => {
    try {
      handle(packet, done);
    } catch (err) {
      // Last resort: a bug costs this message (kept as a dead letter), never the process.
      log.error({ topic: packet.topic.slice(0, 200), err: (err as Error)?.stack ?? String(err) }, 'fleet: internal error on a message: dead-lettered (please report this)');
      void store.deadLetter({ receivedAt: Date.now(), topic: packet.topic, reason: 'internal-error', detail: String((err as Error)?.message ?? err), payload: null }).catch(() => undefined);
      done();
    }
  };
  const handle = (packet: Parameters<typeof client.handleMessage>[0], done: () => void) => {
    const receivedAt = Date.now();
    const payload = Buffer.isBuffer(packet.payload) ? packet.payload.toString('utf8') : String(packet.payload);
    const r = readMessage(cfg.topics, packet.topic, payload, receivedAt);
    if ('ignored' in r) {
      counts.ignored++;
      return done();
    }
    if ('dead' in r) {
      counts.deadLetters++;
      const written = store.deadLetter({ receivedAt, topic: packet.topic, reason: r.dead.reason, detail: r.dead.detail, payload }).catch((err: Error) => log.error({ err: err.message }, 'fleet: dead letter not written'));
      if (packet.qos > 0 && packet.messageId !== undefined) hold(packet.messageId, written);
      return done();
    }
    let release!: (ok: boolean) => void;
    const committed = new Promise<void>((resolve, reject) => (release = (ok) => (ok ? resolve() : reject(new Error('not committed')))));
    committed.catch(() => undefined); // the held PUBACK is dropped; nobody else waits
    batch.push({ entry: r.entry, done: release });
    if (packet.qos > 0 && packet.messageId !== undefined) hold(packet.messageId, committed);
    if (batch.length >= BATCH) void flush();
    else timer ??= setTimeout(() => void flush(), FLUSH_MS);
    done();
  };
  return {
    status: () => ({ connected: client.connected, ...counts }),
    async close() {
      await flush();
      await client.endAsync();
    },
  };
}
