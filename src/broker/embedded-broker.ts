// The embedded local broker (aedes over TCP) that sensors publish to. Ingest taps in at
// authorizePublish, which aedes runs before it acknowledges a QoS 1 publish: a reading is
// handed to the stream before the sensor is told it was received.
import { createServer, type Server } from 'node:net';
import { timingSafeEqual } from 'node:crypto';
import { Aedes, type Client } from 'aedes';
import type { MessageFeed } from '../sources/mqtt/message-feed.js';
import { topicMatches } from '../stream/topic-filter.js';
import type { Logger } from '../ops/logger.js';

export interface BrokerUser {
  username: string;
  password: string;
  publish: string[];
  subscribe: string[];
}

export interface EmbeddedBrokerOptions {
  host: string;
  port: number;
  users?: BrokerUser[];
  log: Logger;
  /** Counts rejected clients and publishes, by reason. */
  onRejected?: (reason: 'auth' | 'publish-acl' | 'subscribe-acl') => void;
}

export interface EmbeddedBroker extends MessageFeed {
  readonly port: number;
  close(): Promise<void>;
}

type Tap = { filter: string; onMessage: (topic: string, payload: Buffer) => void | Promise<void> };

const userOf = new WeakMap<Client, BrokerUser>();

export async function startEmbeddedBroker(opts: EmbeddedBrokerOptions): Promise<EmbeddedBroker> {
  const taps = new Set<Tap>();
  const users = new Map((opts.users ?? []).map((u) => [u.username, u]));
  const authRequired = users.size > 0;

  const broker = await Aedes.createBroker({
    authenticate(client, username, password, done) {
      if (!authRequired) return done(null, true);
      const user = username === undefined ? undefined : users.get(username);
      if (!user || !password || !sameSecret(password, user.password)) {
        opts.log.warn({ clientId: client.id, username }, 'local broker: rejected client with bad username or password');
        opts.onRejected?.('auth');
        const err = Object.assign(new Error('bad username or password'), { returnCode: 4 as const });
        return done(err, false);
      }
      userOf.set(client, user);
      done(null, true);
    },
    authorizePublish(client, packet, done) {
      if (!client) return done(null); // broker-internal ($SYS, wills)
      const user = userOf.get(client);
      if (authRequired && (!user || !user.publish.some((f) => topicMatches(f, packet.topic)))) {
        opts.log.warn({ clientId: client.id, username: user?.username, topic: packet.topic }, 'local broker: publish refused by ACL; client disconnected');
        opts.onRejected?.('publish-acl');
        return done(new Error(`publish to ${packet.topic} not allowed`));
      }
      let wait: Promise<void> | undefined;
      for (const tap of taps) {
        if (!topicMatches(tap.filter, packet.topic)) continue;
        const w = tap.onMessage(packet.topic, packet.payload as Buffer);
        if (w instanceof Promise) wait = w;
      }
      // Backpressure: while the agent catches up, aedes holds this client's PUBACK and stops
      // reading its socket, so TCP slows the sensor down instead of memory filling up.
      if (wait) wait.then(() => done(null), () => done(null));
      else done(null);
    },
    authorizeSubscribe(client, sub, done) {
      const user = userOf.get(client);
      if (authRequired && (!user || !user.subscribe.some((f) => filterCovers(f, sub.topic)))) {
        opts.log.warn({ clientId: client.id, username: user?.username, topic: sub.topic }, 'local broker: subscription refused by ACL');
        opts.onRejected?.('subscribe-acl');
        return done(null, null);
      }
      done(null, sub);
    },
  });

  const server: Server = createServer(broker.handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      broker.close();
      if (err.code === 'EADDRINUSE') {
        reject(new Error(`broker.port ${opts.port} on ${opts.host} is already in use (another MQTT broker such as Mosquitto?): set broker.port to a free port, or set broker.enabled: false and give the mqtt source a url to use the broker that is there`));
      } else if (err.code === 'EACCES') {
        reject(new Error(`broker.port ${opts.port} needs privileges this process lacks: use a port above 1023`));
      } else reject(new Error(`local broker cannot listen on ${opts.host}:${opts.port}: ${err.message}`));
    });
    server.listen(opts.port, opts.host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : opts.port;
  opts.log.info({ host: opts.host, port, auth: authRequired }, 'local broker listening');

  return {
    port,
    async subscribe(filter, onMessage) {
      const tap = { filter, onMessage };
      taps.add(tap);
      return async () => {
        taps.delete(tap);
      };
    },
    async close() {
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function sameSecret(given: Buffer, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Whether subscribing to `sub` stays inside the ACL filter `acl` (e.g. "sensors/#" covers "sensors/a/+"). */
function filterCovers(acl: string, sub: string): boolean {
  if (acl === '#') return true;
  const a = acl.split('/');
  const s = sub.split('/');
  for (let i = 0; i < a.length; i++) {
    if (a[i] === '#') return true;
    if (i >= s.length) return false;
    if (s[i] === '#') return false;
    if (a[i] !== '+' && a[i] !== s[i]) return false;
  }
  return a.length === s.length;
}
