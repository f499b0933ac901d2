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
import { compileTopicFilters, type TopicFilterSet } from '../stream/topic-filter.js';
import { createFrameGuard } from './frame-guard.js';
import { createPendingSockets } from './pending-sockets.js';
import { createBrokerPolicy, type BrokerRejection, type BrokerUser } from './broker-policy.js';

export type { BrokerRejection, BrokerUser };
export type { BrokerTls, EmbeddedBroker, EmbeddedBrokerOptions } from './broker-types.js';
import type { EmbeddedBroker, EmbeddedBrokerOptions } from './broker-types.js';

/** QoS 2 message ids one connection may have open (aedes allows 1,000 in flight). */
const MAX_QOS2_OPEN = 2_000;

type Tap = {
  /** Its filters, compiled (a cached answer per topic). */
  matches: TopicFilterSet;
  onMessage: (topic: string, payload: Buffer, qos: 0 | 1 | 2) => void | Promise<void>;
  onRefused?: (topic: string, detail: string) => void;
};

/** A broker whose listeners open with listen(). */
export type UnopenedBroker = EmbeddedBroker & { listen(): Promise<void> };

/** Created and listening: for callers that need no tap in place before the first client. */
export async function startEmbeddedBroker(opts: EmbeddedBrokerOptions): Promise<EmbeddedBroker> {
  const b = await createEmbeddedBroker(opts);
  await b.listen();
  return b;
}

/**
 * The broker without its listeners: taps (the sources) subscribe first, then listen() opens the
 * ports, so no publish can arrive, and be acknowledged, before anything takes it.
 */
export async function createEmbeddedBroker(opts: EmbeddedBrokerOptions): Promise<UnopenedBroker> {
  const taps = new Set<Tap>();
  const maxConnections = opts.maxConnections ?? Infinity;
  const policy = createBrokerPolicy({ ...opts, connected: () => broker.connectedClients });
  const { refuse } = policy;
  const pending = createPendingSockets<Socket>(opts.maxPendingConnections ?? 64);
  const fresh = new WeakSet<object>(); // QoS 2 publishes seen for the first time
  const qos2Of = new WeakMap<Client, Set<number>>(); // QoS 2 ids received and not yet released

  let draining = false;
  let unanswered = 0; // publishes handed to the taps whose acknowledgement waits
  /** Calls done once `wait` settles, counting what waits (see drain()). */
  const answer = (wait: Promise<void> | undefined, done: () => void) => {
    if (!wait) return done();
    unanswered++;
    const settle = () => {
      unanswered--;
      done();
    };
    wait.then(settle, settle);
  };
  /** Hands a message to every tap that wants it; resolves when all of them can take more. */
  const deliver = (topic: string, payload: Buffer, qos: 0 | 1 | 2): Promise<void> | undefined => {
    let wait: Promise<void> | undefined;
    for (const tap of taps) {
      if (!tap.matches(topic)) continue;
      try {
        const w = tap.onMessage(topic, payload, qos);
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
    // An id is in use while its client is connected: a takeover is refused for another user.
    authenticate: (client, username, password, done) => policy.authenticate(client, username, password, done, (id: string) => (broker as unknown as { clients: Record<string, Client | undefined> }).clients[id]),
    authorizePublish(client, packet, done) {
      if (!client) return done(null); // broker-internal ($SYS, wills)
      if (draining) return done(new Error('the agent is stopping: send it again later'));
      const refused = policy.publish(client, packet);
      if (refused) return done(refused);
      const go = () => {
        // QoS 2 goes to the sources in `published`, once per message id until its PUBREL:
        // aedes' own duplicate check races when a retransmission arrives in the same read.
        if (packet.qos === 2) {
          const open = qos2Of.get(client);
          if (open && packet.messageId !== undefined && !open.has(packet.messageId)) {
            if (open.size >= MAX_QOS2_OPEN) open.delete(open.values().next().value!);
            open.add(packet.messageId);
            fresh.add(packet);
          }
          return done(null);
        }
        // Backpressure: while the agent catches up, aedes holds this client's PUBACK and stops
        // reading its socket, so TCP slows the sensor down instead of memory filling up.
        answer(deliver(packet.topic, packet.payload as Buffer, packet.qos), () => done(null));
      };
      const delay = policy.throttle(client);
      if (delay > 0) setTimeout(go, delay);
      else go();
    },
    published(packet, client, done) {
      if (!client || packet.qos !== 2 || !fresh.has(packet)) return done(null);
      fresh.delete(packet);
      answer(deliver(packet.topic, packet.payload as Buffer, 2), () => done(null));
    },
    authorizeSubscribe: (client, sub, done) => done(null, policy.subscribe(client, sub)),
    authorizeForward: (client, packet) => policy.forward(client, packet),
  });

  broker.on('clientReady', (client: Client) => pending.remove(client.conn as unknown as Socket));
  broker.on('connectionError', (client: Client, err: Error & { errorCode?: number }) => {
    if (err.errorCode === 1) refuse('protocol-version', { remote: policy.address(client) }, 'refused a client that speaks another MQTT version than 3.1/3.1.1 (e.g. MQTT 5): configure it for MQTT 3.1.1');
    else opts.log.debug({ remote: policy.address(client), err: err.message.slice(0, 200) }, 'local broker: connection error before CONNECT completed');
  });
  broker.on('clientError', (client: Client, err: Error) => {
    opts.log.debug({ clientId: policy.label(client.id), err: err.message.slice(0, 200) }, 'local broker: client error');
  });

  const maxPacketBytes = opts.maxPacketBytes ?? 65_536;
  const connectTimeoutMs = opts.connectTimeoutMs ?? 5_000;
  const maxPending = opts.maxPendingConnections ?? 64;
  /** A socket (plain TCP, or TLS after its handshake) that may speak MQTT now. */
  const accept = (socket: Socket) => {
    const evicted = pending.add(socket);
    if (evicted) {
      refuse('pending-cap', { remote: evicted.remoteAddress, pending: pending.size }, 'too many connections that have not completed CONNECT: the oldest was closed');
      evicted.destroy();
    }
    socket.once('close', () => pending.remove(socket));
    socket.on('error', () => undefined); // before the first bytes nothing else listens
    // The aedes client (parser, streams, timers: tens of KB) is made when the first bytes come:
    // a socket that never sends anything costs only itself until the deadline or eviction.
    const deadline = setTimeout(() => socket.destroy(), connectTimeoutMs);
    socket.once('close', () => clearTimeout(deadline));
    socket.once('data', (first: Buffer) => {
      clearTimeout(deadline);
      socket.pause();
      socket.unshift(first);
      const client = broker.handle(socket) as unknown as Client & { _parser: { parse(buf: Buffer): number } };
      const qos2 = new Set<number>();
      qos2Of.set(client, qos2);
      let badTopicSeen = false;
      const guard = createFrameGuard({
        maxPacketBytes,
        onPubrel: (id) => qos2.delete(id),
        onBadTopic: (topic, problem) => {
          // Only from a client past CONNECT that may publish there, and once per connection
          // (aedes closes it on the first): nobody else can write dead letters.
          if (badTopicSeen || !client.connected || !policy.mayPublish(client, topic)) return;
          badTopicSeen = true;
          refuse('bad-topic', { clientId: policy.label(client.id), topic: topic.slice(0, 200), problem }, 'PUBLISH with a topic MQTT does not allow: dead-lettered, and the connection closed as MQTT requires');
          for (const tap of taps) if (tap.matches(topic)) tap.onRefused?.(topic, `${problem}; the broker closed the sender's connection`);
        },
      });
      // The guard sees every chunk before aedes' parser buffers it. (aedes reads its socket with
      // read() and hands each chunk to client._parser.parse: the one place all bytes pass.)
      const parser = client._parser;
      const parse = parser.parse.bind(parser);
      parser.parse = (buf: Buffer) => {
        const v = guard.feed(buf);
        if (!v) return parse(buf);
        // Whole packets before the offending one are still read; then the connection closes.
        if (v.offset > 0) parse(buf.subarray(0, v.offset));
        if (v.reason === 'packet-too-large') {
          refuse('packet-too-large', { clientId: policy.label(client.id), remote: socket.remoteAddress, declared: v.declared, limit: maxPacketBytes }, `packet of ${v.declared} bytes refused before it was read (broker.maxPacketSize is ${maxPacketBytes}): connection closed`);
        } else refuse('malformed', { clientId: policy.label(client.id), remote: socket.remoteAddress, detail: v.detail }, 'malformed MQTT packet: connection closed');
        setImmediate(() => socket.destroy());
        return 0;
      };
    });
  };

  /** TLS sockets still in their handshake: capped (oldest evicted) like sockets before CONNECT. */
  const handshaking = createPendingSockets<Socket>(maxPending);
  const byPeer = new Map<string, Socket>();
  const handshakeDeadline = new WeakMap<Socket, NodeJS.Timeout>();
  const peer = (s: Socket) => `${s.remoteAddress}|${s.remotePort}`;
  const trackHandshake = (raw: Socket) => {
    const evicted = handshaking.add(raw);
    if (evicted) {
      refuse('pending-cap', { remote: evicted.remoteAddress, pending: handshaking.size }, 'too many TLS handshakes in progress: the oldest was closed');
      evicted.destroy();
    }
    const key = peer(raw);
    byPeer.set(key, raw);
    // Node's handshakeTimeout starts with the first handshake bytes: a silent socket needs this.
    const deadline = setTimeout(() => raw.destroy(), connectTimeoutMs);
    handshakeDeadline.set(raw, deadline);
    raw.once('close', () => {
      clearTimeout(deadline);
      handshaking.remove(raw);
      if (byPeer.get(key) === raw) byPeer.delete(key);
    });
  };
  const acceptTls = (socket: Socket) => {
    const key = peer(socket);
    const raw = byPeer.get(key);
    if (raw) {
      clearTimeout(handshakeDeadline.get(raw));
      handshaking.remove(raw);
      byPeer.delete(key);
    }
    accept(socket);
  };

  const servers: Server[] = [];
  const listen = async (server: Server, port: number, what: string): Promise<number> => {
    // A socket flood stops here; the pending cap evicts idle sockets well before this.
    server.maxConnections = Number.isFinite(maxConnections) ? maxConnections + maxPending : 100_000;
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
  let closing: Promise<void> | undefined;
  const openListeners = async (): Promise<void> => {
    try {
      if (opts.plaintext !== false) port = await listen(createServer(accept), opts.port, 'broker.port');
      if (opts.tls) {
        const t = opts.tls;
        const server = createTlsServer(
          {
            cert: readFileSync(t.cert),
            key: readFileSync(t.key),
            ...(t.ca && { ca: readFileSync(t.ca), requestCert: true, rejectUnauthorized: t.requireClientCert }),
            handshakeTimeout: connectTimeoutMs,
          },
          acceptTls,
        );
        server.on('connection', trackHandshake);
        server.on('tlsClientError', (err, socket) => {
          refuse('tls', { remote: socket.remoteAddress, err: err.message }, 'TLS handshake refused');
        });
        tlsPort = await listen(server, t.port, 'broker.tls.port');
      }
    } catch (err) {
      await close();
      throw err;
    }
    policy.warnPlainPasswords();
    opts.log.info({ host: opts.host, port, tlsPort, auth: policy.authRequired, maxPacketBytes }, 'local broker listening');
  };
  /** Once, however often asked (a failed listen closes too, and the agent's stop after it). */
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      draining = true;
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    })());

  return {
    get port() {
      return port ?? tlsPort!;
    },
    get tlsPort() {
      return tlsPort;
    },
    listen: openListeners,
    async subscribe(filter, onMessage, onRefused) {
      const tap = { matches: compileTopicFilters(typeof filter === 'string' ? [filter] : filter), onMessage, onRefused };
      taps.add(tap);
      return async () => {
        taps.delete(tap);
      };
    },
    async drain(timeoutMs) {
      draining = true;
      const deadline = Date.now() + timeoutMs;
      while (unanswered > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      // Let the last acknowledgements reach the sockets before they close.
      await new Promise((r) => setTimeout(r, 20));
    },
    close,
  };
}
