// The embedded local broker (aedes over TCP and/or TLS) that sensors publish to. Ingest taps in
// at authorizePublish, which aedes runs before it acknowledges a QoS 1 publish: a reading is
// handed to the stream before the sensor is told it was received. QoS 2 publishes are tapped
// in `published`, after aedes' duplicate check, so a retransmitted QoS 2 message counts once.
// Hardening (docs/security.md): see broker-policy.ts for the per-client rules; here the
// sockets: a frame guard in front of aedes refuses oversized packets on their first bytes,
// sockets that have not finished CONNECT are capped (oldest evicted) and dropped at a deadline.
import { createServer, type Server, type Socket } from 'node:net';
import { readFileSync } from 'node:fs';
import { createServer as createTlsServer } from 'node:tls';
import { Aedes, type Client } from 'aedes';
import type { MessageFeed } from '../sources/mqtt/message-feed.js';
import { topicMatches } from '../stream/topic-filter.js';
import type { Logger } from '../ops/logger.js';
import { createFrameGuard } from './frame-guard.js';
import { guardConnection } from './guarded-connection.js';
import { createPendingSockets } from './pending-sockets.js';
import { createBrokerPolicy, type BrokerRejection, type BrokerUser } from './broker-policy.js';

export type { BrokerRejection, BrokerUser };

export interface BrokerTls {
  port: number;
  cert: string;
  key: string;
  ca?: string;
  requireClientCert: boolean;
}

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
  /** Largest MQTT packet in bytes; a larger one closes the connection before it is buffered. */
  maxPacketBytes?: number;
  /** Milliseconds a socket has to complete CONNECT. */
  connectTimeoutMs?: number;
  /** Sockets that have not completed CONNECT, at most (more evict the oldest). */
  maxPendingConnections?: number;
  maxRetained?: number;
  maxRetainedBytes?: number;
  /** Subscriptions one connection may make. */
  maxSubscriptions?: number;
  /** Without auth: whether clients may subscribe to everything ("#", "+/...", "$SYS/..."). */
  allowAnonymousWildcards?: boolean;
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

type Tap = {
  filter: string;
  onMessage: (topic: string, payload: Buffer) => void | Promise<void>;
  onRefused?: (topic: string, detail: string) => void;
};

export async function startEmbeddedBroker(opts: EmbeddedBrokerOptions): Promise<EmbeddedBroker> {
  const taps = new Set<Tap>();
  const maxConnections = opts.maxConnections ?? Infinity;
  const policy = createBrokerPolicy({ ...opts, connected: () => broker.connectedClients });
  const { refuse } = policy;
  const pending = createPendingSockets<Socket>(opts.maxPendingConnections ?? 64);
  const fresh = new WeakSet<object>(); // QoS 2 publishes seen for the first time

  /** Hands a message to every tap that wants it; resolves when all of them can take more. */
  const deliver = (topic: string, payload: Buffer): Promise<void> | undefined => {
    let wait: Promise<void> | undefined;
    for (const tap of taps) {
      if (!topicMatches(tap.filter, topic)) continue;
      try {
        const w = tap.onMessage(topic, payload);
        if (w instanceof Promise) wait = w;
      } catch (err) {
        opts.log.error({ topic: topic.slice(0, 200), err: (err as Error)?.stack ?? String(err) }, 'local broker: a source failed on a message (please report this)');
      }
    }
    return wait;
  };

  const broker = await Aedes.createBroker({
    connectTimeout: opts.connectTimeoutMs ?? 5_000,
    maxClientsIdLength: policy.maxIdLength,
    preConnect: (client, packet, done) => done(null, policy.preConnect(client, packet)),
    authenticate: (client, username, password, done) => policy.authenticate(client, username, password, done),
    authorizePublish(client, packet, done) {
      if (!client) return done(null); // broker-internal ($SYS, wills)
      const refused = policy.publish(client, packet);
      if (refused) return done(refused);
      // QoS 2 goes to the sources in `published`, once per message id until its PUBREL.
      // aedes' own duplicate check races when a retransmission arrives in the same read.
      if (packet.qos === 2) {
        const open = (client.conn as unknown as { qos2?: Set<number> }).qos2;
        if (open && packet.messageId !== undefined && !open.has(packet.messageId)) {
          open.add(packet.messageId);
          fresh.add(packet);
        }
        return done(null);
      }
      const go = () => {
        // Backpressure: while the agent catches up, aedes holds this client's PUBACK and stops
        // reading its socket, so TCP slows the sensor down instead of memory filling up.
        const wait = deliver(packet.topic, packet.payload as Buffer);
        if (wait) wait.then(() => done(null), () => done(null));
        else done(null);
      };
      const delay = policy.throttle(client);
      if (delay > 0) setTimeout(go, delay);
      else go();
    },
    published(packet, client, done) {
      if (!client || packet.qos !== 2 || !fresh.has(packet)) return done(null);
      fresh.delete(packet);
      const wait = deliver(packet.topic, packet.payload as Buffer);
      if (wait) wait.then(() => done(null), () => done(null));
      else done(null);
    },
    authorizeSubscribe: (client, sub, done) => done(null, policy.subscribe(client, sub)),
    authorizeForward: (client, packet) => policy.forward(client, packet),
  });

  broker.on('clientReady', (client: Client) => {
    const socket = (client.conn as unknown as { socket?: Socket }).socket;
    if (socket) pending.remove(socket);
  });
  broker.on('connectionError', (client: Client, err: Error & { errorCode?: number }) => {
    if (err.errorCode === 1) refuse('protocol-version', { remote: policy.address(client) }, 'refused a client that speaks another MQTT version than 3.1/3.1.1 (e.g. MQTT 5): configure it for MQTT 3.1.1');
    else opts.log.debug({ remote: policy.address(client), err: err.message.slice(0, 200) }, 'local broker: connection error before CONNECT completed');
  });
  broker.on('clientError', (client: Client, err: Error) => {
    opts.log.debug({ clientId: policy.label(client.id), err: err.message.slice(0, 200) }, 'local broker: client error');
  });

  const maxPacketBytes = opts.maxPacketBytes ?? 65_536;
  const accept = (socket: Socket) => {
    const evicted = pending.add(socket);
    if (evicted) {
      refuse('pending-cap', { remote: evicted.remoteAddress, pending: pending.size }, 'too many connections that have not sent CONNECT: the oldest was closed');
      evicted.destroy();
    }
    socket.once('close', () => pending.remove(socket));
    // The aedes client (parser, streams, timers: tens of KB) is made when the first bytes come:
    // a socket that never sends anything costs only itself until the deadline or eviction.
    const deadline = setTimeout(() => socket.destroy(), opts.connectTimeoutMs ?? 5_000);
    socket.once('close', () => clearTimeout(deadline));
    socket.once('data', (first: Buffer) => {
      clearTimeout(deadline);
      const qos2 = new Set<number>(); // QoS 2 message ids received and not yet released
      const guard = createFrameGuard({
        maxPacketBytes,
        onPubrel: (id) => qos2.delete(id),
        onPublishTopic: (topic) => {
          const bad = topicProblem(topic);
          if (!bad) return;
          refuse('bad-topic', { remote: socket.remoteAddress, topic: topic.slice(0, 200), problem: bad }, 'PUBLISH with a topic MQTT does not allow: the connection is closed, as MQTT requires');
          for (const tap of taps) if (topicMatches(tap.filter, topic)) tap.onRefused?.(topic, `${bad}; the broker closed the sender's connection`);
        },
      });
      const conn = guardConnection(socket, guard, (v) => {
        if (v.reason === 'packet-too-large') {
          refuse('packet-too-large', { remote: socket.remoteAddress, declared: v.declared, limit: maxPacketBytes }, `packet of ${v.declared} bytes refused before it was read (broker.maxPacketSize is ${maxPacketBytes})`);
        } else refuse('malformed', { remote: socket.remoteAddress, detail: v.detail }, 'malformed MQTT packet: connection closed');
      });
      // aedes' client holds the guarded connection; clientReady finds the raw socket through it.
      Object.assign(conn, { socket, qos2 });
      broker.handle(conn as unknown as Socket);
      conn.feed(first);
    });
    socket.on('error', () => undefined); // before the first bytes nothing else listens
  };

  const servers: Server[] = [];
  const listen = async (server: Server, port: number, what: string): Promise<number> => {
    // A socket flood stops here; the pending cap evicts idle sockets well before this.
    server.maxConnections = Number.isFinite(maxConnections) ? maxConnections + (opts.maxPendingConnections ?? 64) : 100_000;
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
    if (opts.plaintext !== false) port = await listen(createServer(accept), opts.port, 'broker.port');
    if (opts.tls) {
      const t = opts.tls;
      const server = createTlsServer(
        {
          cert: readFileSync(t.cert),
          key: readFileSync(t.key),
          ...(t.ca && { ca: readFileSync(t.ca), requestCert: true, rejectUnauthorized: t.requireClientCert }),
        },
        accept,
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
  policy.warnPlainPasswords();
  opts.log.info({ host: opts.host, port, tlsPort, auth: policy.authRequired, maxPacketBytes }, 'local broker listening');

  return {
    port: port ?? tlsPort!,
    tlsPort,
    async subscribe(filter, onMessage, onRefused) {
      const tap = { filter, onMessage, onRefused };
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

/** Why MQTT forbids a PUBLISH topic (aedes closes the connection for these), or undefined. */
function topicProblem(topic: string): string | undefined {
  if (topic === '') return 'empty topic';
  if (topic.includes('+') || topic.includes('#')) return 'wildcard (+ or #) in a PUBLISH topic';
  if (topic.includes('\u0000')) return 'NUL character in the topic';
  let levels = 1;
  for (let i = 0; i < topic.length; i++) if (topic.charCodeAt(i) === 47) levels++;
  if (levels > 100) return `topic has ${levels} levels (at most 100)`;
  return undefined;
}
