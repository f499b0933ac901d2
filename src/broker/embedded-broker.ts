// The embedded local broker (aedes over TCP and/or TLS) that sensors publish to. Ingest taps in
// at authorizePublish, which aedes runs before it acknowledges a QoS 1 publish: a reading is
// handed to the stream before the sensor is told it was received.
// Security: users with scrypt-hashed passwords and per-user publish/subscribe ACLs, a cap on
// connected clients, a per-client message rate (a faster client is slowed down, not cut off:
// nothing is lost), and one log line for every client or packet refused.
import { createServer, type Server } from 'node:net';
import { readFileSync } from 'node:fs';
import { createServer as createTlsServer } from 'node:tls';
import { Aedes, type Client } from 'aedes';
import type { MessageFeed } from '../sources/mqtt/message-feed.js';
import { topicMatches } from '../stream/topic-filter.js';
import type { Logger } from '../ops/logger.js';
import { createPasswordChecker } from './password-hash.js';
import { filterCovers } from './topic-acl.js';

export interface BrokerUser {
  username: string;
  /** A scrypt hash (`outpost hash-password`) or the password itself. */
  password: string;
  publish: string[];
  subscribe: string[];
}

export interface BrokerTls {
  port: number;
  cert: string;
  key: string;
  ca?: string;
  requireClientCert: boolean;
}

export type BrokerRejection = 'auth' | 'publish-acl' | 'subscribe-acl' | 'max-connections' | 'tls' | 'rate-limited';

export interface EmbeddedBrokerOptions {
  host: string;
  port: number;
  /** false: no plain TCP listener (TLS only). */
  plaintext?: boolean;
  tls?: BrokerTls;
  users?: BrokerUser[];
  maxConnections?: number;
  /** Messages a second per client; 0 or absent: no limit. */
  maxMessageRate?: number;
  log: Logger;
  /** Counts refused clients and packets (and slowed-down clients), by reason. */
  onRejected?: (reason: BrokerRejection) => void;
}

export interface EmbeddedBroker extends MessageFeed {
  /** The plain TCP port (or the TLS one when there is no plain listener). */
  readonly port: number;
  readonly tlsPort: number | undefined;
  close(): Promise<void>;
}

type Tap = { filter: string; onMessage: (topic: string, payload: Buffer) => void | Promise<void> };

export async function startEmbeddedBroker(opts: EmbeddedBrokerOptions): Promise<EmbeddedBroker> {
  const taps = new Set<Tap>();
  const users = new Map((opts.users ?? []).map((u) => [u.username, u]));
  const authRequired = users.size > 0;
  const passwords = createPasswordChecker();
  const userOf = new WeakMap<Client, BrokerUser>();
  const dueAt = new WeakMap<Client, number>();
  const slowed = new WeakSet<Client>();
  const maxConnections = opts.maxConnections ?? Infinity;
  const refuse = (reason: BrokerRejection, fields: Record<string, unknown>, msg: string) => {
    opts.log.warn(fields, `local broker: ${msg}`);
    opts.onRejected?.(reason);
  };

  const broker = await Aedes.createBroker({
    authenticate(client, username, password, done) {
      if (broker.connectedClients >= maxConnections) {
        refuse('max-connections', { clientId: client.id, connected: broker.connectedClients }, `refused client: broker.maxConnections (${maxConnections}) reached`);
        return done(Object.assign(new Error('server unavailable'), { returnCode: 3 as const }), false);
      }
      if (!authRequired) return done(null, true);
      const user = username === undefined ? undefined : users.get(username);
      const deny = () => {
        refuse('auth', { clientId: client.id, username }, 'refused client with bad username or password');
        done(Object.assign(new Error('bad username or password'), { returnCode: 4 as const }), false);
      };
      if (!user || !password) return deny();
      passwords.verify(user.username, Buffer.from(password), user.password).then(
        (ok) => {
          if (!ok) return deny();
          userOf.set(client, user);
          done(null, true);
        },
        () => deny(),
      );
    },
    authorizePublish(client, packet, done) {
      if (!client) return done(null); // broker-internal ($SYS, wills)
      const user = userOf.get(client);
      if (authRequired && (!user || !user.publish.some((f) => topicMatches(f, packet.topic)))) {
        refuse('publish-acl', { clientId: client.id, username: user?.username, topic: packet.topic }, 'publish refused by ACL; client disconnected');
        return done(new Error(`publish to ${packet.topic} not allowed`));
      }
      const go = () => {
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
      };
      const delay = throttle(client);
      if (delay > 0) setTimeout(go, delay);
      else go();
    },
    authorizeSubscribe(client, sub, done) {
      const user = userOf.get(client);
      if (authRequired && (!user || !user.subscribe.some((f) => filterCovers(f, sub.topic)))) {
        refuse('subscribe-acl', { clientId: client.id, username: user?.username, topic: sub.topic }, 'subscription refused by ACL');
        return done(null, null);
      }
      done(null, sub);
    },
  });

  /**
   * Milliseconds to hold this client's next message (0: go now). Virtual scheduling: each
   * client may send a second's worth at once, then one every 1/rate s.
   */
  const throttle = (client: Client): number => {
    if (!opts.maxMessageRate) return 0;
    const now = Date.now();
    const due = Math.max(dueAt.get(client) ?? 0, now - 1000) + 1000 / opts.maxMessageRate;
    dueAt.set(client, due);
    if (due <= now) return 0;
    if (!slowed.has(client)) {
      slowed.add(client);
      refuse('rate-limited', { clientId: client.id, limit: opts.maxMessageRate }, `client publishes faster than broker.maxMessageRate (${opts.maxMessageRate}/s): slowed down (nothing is dropped)`);
    }
    return due - now;
  };

  const servers: Server[] = [];
  const listen = async (server: Server, port: number, what: string): Promise<number> => {
    server.maxConnections = Number.isFinite(maxConnections) ? maxConnections + 16 : 100_000; // a socket flood stops here
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) => {
        if (err.code === 'EADDRINUSE') {
          reject(new Error(`${what} ${port} on ${opts.host} is already in use (another MQTT broker such as Mosquitto?): set ${what} to a free port, or set broker.enabled: false and give the mqtt source a url to use the broker that is there`));
        } else if (err.code === 'EACCES') {
          reject(new Error(`${what} ${port} needs privileges this process lacks: use a port above 1023`));
        } else reject(new Error(`local broker cannot listen on ${opts.host}:${port}: ${err.message}`));
      });
      server.listen(port, opts.host, () => resolve());
    });
    servers.push(server);
    const address = server.address();
    return typeof address === 'object' && address ? address.port : port;
  };

  let port: number | undefined;
  let tlsPort: number | undefined;
  try {
    if (opts.plaintext !== false) port = await listen(createServer(broker.handle), opts.port, 'broker.port');
    if (opts.tls) {
      const t = opts.tls;
      const server = createTlsServer(
        {
          cert: readFileSync(t.cert),
          key: readFileSync(t.key),
          ...(t.ca && { ca: readFileSync(t.ca), requestCert: true, rejectUnauthorized: t.requireClientCert }),
        },
        broker.handle,
      );
      server.on('tlsClientError', (err, socket) => {
        refuse('tls', { remote: socket.remoteAddress, err: err.message }, 'TLS handshake refused');
      });
      tlsPort = await listen(server, t.port, 'broker.tls.port');
    }
  } catch (err) {
    for (const s of servers) s.close();
    broker.close();
    throw err;
  }
  opts.log.info({ host: opts.host, port, tlsPort, auth: authRequired }, 'local broker listening');

  return {
    port: port ?? tlsPort!,
    tlsPort,
    async subscribe(filter, onMessage) {
      const tap = { filter, onMessage };
      taps.add(tap);
      return async () => {
        taps.delete(tap);
      };
    },
    async close() {
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    },
  };
}
