// Who may do what on the local broker, one rule per aedes hook: CONNECT (id and name lengths,
// the connection cap, login throttling, passwords checked in constant time for unknown users,
// a client id bound to the user that first used it), PUBLISH (ACL, retained cap, rate),
// SUBSCRIBE (ACL, count, no catch-all for anonymous clients) and forwarding (a session never
// delivers what its current user may not read). Every refusal is counted, and logged: the 1st,
// 10th, 100th, ... of each reason, and otherwise at most one line a second per reason, so a
// flood cannot fill the journal but a steady trickle stays visible.
import type { AuthenticateError, Client, PublishPacket, Subscription } from 'aedes';
import { compileTopicFilters, type TopicFilterSet } from '../stream/topic-filter.js';
import type { Logger } from '../ops/logger.js';
import { createPasswordChecker, isPasswordHash } from '../ops/password-hash.js';
import { filterCovers } from './topic-acl.js';
import { createLoginThrottle } from './login-throttle.js';
import { createRetainedCap } from './retained-cap.js';

export interface BrokerUser {
  username: string;
  /** A scrypt hash (`outpost hash-password`) or the password itself. */
  password: string;
  publish: string[];
  subscribe: string[];
}

export type BrokerRejection =
  | 'auth'
  | 'auth-throttled'
  | 'publish-acl'
  | 'subscribe-acl'
  | 'subscribe-wildcard'
  | 'too-many-subscriptions'
  | 'forward-acl'
  | 'max-connections'
  | 'pending-cap'
  | 'tls'
  | 'rate-limited'
  | 'packet-too-large'
  | 'malformed'
  | 'protocol-version'
  | 'client-id'
  | 'takeover'
  | 'retained-cap'
  | 'bad-topic';

export interface PolicyOptions {
  users?: BrokerUser[];
  maxConnections?: number;
  /** Messages a second per client; 0 or absent: no limit. */
  maxMessageRate?: number;
  maxRetained?: number;
  maxRetainedBytes?: number;
  /** Subscriptions one connection may make. */
  maxSubscriptions?: number;
  /** Without auth: whether clients may subscribe to everything ("#", "+/...", "$SYS/..."). */
  allowAnonymousWildcards?: boolean;
  log: Logger;
  /** Counts refused clients and packets (and slowed-down clients), by reason. */
  onRejected?: (reason: BrokerRejection) => void;
  /** Clients connected now. */
  connected: () => number;
}

/** Client ids and user names longer than this are refused (MQTT allows 65,535 bytes). */
const MAX_ID_LENGTH = 128;
/** What a log line shows of an id or name. */
const LOG_ID_LENGTH = 64;
/** An scrypt hash of a random password: unknown users cost what known ones do. */
const DUMMY_HASH = '$scrypt$N=16384,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';
/** What a retained message costs beyond its payload (topic, bookkeeping), bytes. */
const RETAINED_OVERHEAD = 64;

type Done = (err: AuthenticateError | null, success: boolean | null) => void;

export function createBrokerPolicy(o: PolicyOptions) {
  const users = new Map((o.users ?? []).map((u) => [u.username, u]));
  const authRequired = users.size > 0;
  const anyHashed = [...users.values()].some((u) => isPasswordHash(u.password));
  const passwords = createPasswordChecker();
  const throttleLogins = createLoginThrottle();
  const retained = createRetainedCap(o.maxRetained ?? 1000, o.maxRetainedBytes ?? 1_000_000);
  const userOf = new WeakMap<Client, BrokerUser>();
  // Each user's ACL filters compiled once (a cached answer per topic): checked on every message.
  const acl = new WeakMap<BrokerUser, { publish: TopicFilterSet; subscribe: TopicFilterSet }>();
  const aclOf = (u: BrokerUser) => {
    let a = acl.get(u);
    if (!a) acl.set(u, (a = { publish: compileTopicFilters(u.publish), subscribe: compileTopicFilters(u.subscribe) }));
    return a;
  };
  const subscriptions = new WeakMap<Client, Set<string>>();
  const dueAt = new WeakMap<Client, number>();
  const slowed = new WeakSet<Client>();
  const maxConnections = o.maxConnections ?? Infinity;
  const counts = new Map<BrokerRejection, number>();
  const loggedAt = new Map<BrokerRejection, number>();

  const label = (id: unknown) => {
    const s = typeof id === 'string' ? id : String(id ?? '');
    return s.length > LOG_ID_LENGTH ? `${s.slice(0, LOG_ID_LENGTH)}...(${s.length} chars)` : s;
  };
  const address = (client: Client | null | undefined) => (client?.conn as unknown as { remoteAddress?: string } | undefined)?.remoteAddress ?? 'unknown';
  const refuse = (reason: BrokerRejection, fields: Record<string, unknown>, msg: string) => {
    const n = (counts.get(reason) ?? 0) + 1;
    counts.set(reason, n);
    o.onRejected?.(reason);
    const now = Date.now();
    if (Number.isInteger(Math.log10(n)) || now - (loggedAt.get(reason) ?? 0) >= 1000) {
      loggedAt.set(reason, now);
      o.log.warn({ ...fields, reason, count: n }, `local broker: ${msg}`);
    }
  };
  const fail = (code: 2 | 3 | 4 | 5, message: string): AuthenticateError => Object.assign(new Error(message), { returnCode: code }) as AuthenticateError;

  return {
    authRequired,
    maxIdLength: MAX_ID_LENGTH,
    refuse,
    label,
    address,

    warnPlainPasswords() {
      for (const u of users.values()) {
        if (!isPasswordHash(u.password)) o.log.warn({ username: label(u.username) }, 'broker.auth: this user\'s password is in plain text; store a hash from `outpost hash-password` instead');
      }
    },

    preConnect(client: Client, packet: { clientId?: string; username?: string }): boolean {
      if ((packet.clientId?.length ?? 0) > MAX_ID_LENGTH || (packet.username?.length ?? 0) > MAX_ID_LENGTH) {
        refuse('client-id', { remote: address(client), clientId: label(packet.clientId), username: label(packet.username) }, `refused client: client id or user name longer than ${MAX_ID_LENGTH} characters`);
        return false;
      }
      return true;
    },

    /** `connected(id)`: the client now connected under that id, if any. */
    authenticate(client: Client, username: string | undefined, password: Buffer | undefined, done: Done, connected: (id: string) => Client | undefined): void {
      // Failed logins are throttled per address and user name: a neighbour behind the same NAT
      // guessing one user's password does not lock the other users at that address out.
      const from = `${address(client)}|${(username ?? '').slice(0, MAX_ID_LENGTH)}`;
      if (o.connected() >= maxConnections) {
        refuse('max-connections', { clientId: label(client.id), connected: o.connected() }, `refused client: broker.maxConnections (${maxConnections}) reached`);
        return done(fail(3, 'server unavailable'), false);
      }
      if (!authRequired) return done(null, true);
      const now = Date.now();
      const wait = throttleLogins.wait(from, now);
      if (wait > 0) {
        refuse('auth-throttled', { remote: address(client), username: label(username), waitS: Math.ceil(wait / 1000) }, 'refused a login from an address that failed recently, without checking it (failed logins slow their address down)');
        return done(fail(5, 'not authorized'), false);
      }
      const user = username === undefined ? undefined : users.get(username);
      const deny = () => {
        const t = throttleLogins.failed(from, Date.now());
        refuse('auth', { remote: address(client), clientId: label(client.id), username: label(username), nextTryInS: t.penaltyMs / 1000 }, 'refused client with bad username or password');
        done(fail(4, 'bad username or password'), false);
      };
      // An unknown user is checked against a dummy of the same cost: response time does not
      // tell which user names exist.
      const stored = user?.password ?? (anyHashed ? DUMMY_HASH : '\u0000unknown-user');
      passwords.verify(user?.username ?? '', password ?? Buffer.alloc(0), stored).then(
        (ok) => {
          if (!ok || !user || !password) return deny();
          // A client id in use belongs to the user connected under it: another user presenting
          // it would disconnect that sensor (aedes closes the older of two equal ids).
          const holder = connected(client.id);
          const owner = holder && holder !== client ? userOf.get(holder)?.username : undefined;
          if (owner !== undefined && owner !== user.username) {
            refuse('takeover', { remote: address(client), clientId: label(client.id), username: label(user.username), owner: label(owner) }, 'refused client: its client id is in use by another user (a takeover would disconnect that sensor)');
            return done(fail(2, 'identifier rejected'), false);
          }
          throttleLogins.succeeded(from);
          userOf.set(client, user);
          done(null, true);
        },
        () => deny(),
      );
    },

    /** undefined: allowed; an Error: refused (aedes closes the connection). */
    publish(client: Client, packet: PublishPacket): Error | undefined {
      const user = userOf.get(client);
      if (authRequired && (!user || !aclOf(user).publish(packet.topic))) {
        refuse('publish-acl', { clientId: label(client.id), username: label(user?.username), topic: packet.topic.slice(0, 200) }, 'publish refused by ACL; client disconnected');
        return new Error(`publish to ${packet.topic.slice(0, 200)} not allowed`);
      }
      const bytes = (packet.payload as Buffer).length;
      if (packet.retain && !retained.admit(packet.topic, bytes === 0 ? 0 : bytes + packet.topic.length + RETAINED_OVERHEAD)) {
        packet.retain = false;
        refuse('retained-cap', { clientId: label(client.id), topic: packet.topic.slice(0, 200), retained: retained.count, bytes: retained.bytes }, 'retained message not kept: broker.maxRetained or maxRetainedBytes reached (passed on as an ordinary message)');
      }
      return undefined;
    },

    /**
     * Milliseconds to hold this client's next message (0: go now). Virtual scheduling: each
     * client may send a second's worth at once, then one every 1/rate s.
     */
    throttle(client: Client): number {
      if (!o.maxMessageRate) return 0;
      const now = Date.now();
      const due = Math.max(dueAt.get(client) ?? 0, now - 1000) + 1000 / o.maxMessageRate;
      dueAt.set(client, due);
      if (due <= now) return 0;
      if (!slowed.has(client)) {
        slowed.add(client);
        refuse('rate-limited', { clientId: label(client.id), limit: o.maxMessageRate }, `client publishes faster than broker.maxMessageRate (${o.maxMessageRate}/s): slowed down (nothing is dropped)`);
      }
      return due - now;
    },

    /** Whether this client may publish to `topic` (taken literally). */
    mayPublish(client: Client, topic: string): boolean {
      if (!authRequired) return true;
      const user = userOf.get(client);
      return user !== undefined && aclOf(user).publish(topic);
    },

    /** The subscription as granted, or null (refused: SUBACK 0x80). */
    subscribe(client: Client, sub: Subscription): Subscription | null {
      // Distinct filters granted to this connection (subscribing again to one does not count).
      const granted = subscriptions.get(client) ?? new Set<string>();
      subscriptions.set(client, granted);
      const max = o.maxSubscriptions ?? 100;
      if (!granted.has(sub.topic) && granted.size >= max) {
        refuse('too-many-subscriptions', { clientId: label(client.id), limit: max }, `subscription refused: one connection may make broker.maxSubscriptions (${max})`);
        return null;
      }
      const user = userOf.get(client);
      if (authRequired && (!user || !user.subscribe.some((f) => filterCovers(f, sub.topic)))) {
        refuse('subscribe-acl', { clientId: label(client.id), username: label(user?.username), topic: sub.topic.slice(0, 200) }, 'subscription refused by ACL');
        return null;
      }
      if (!authRequired && !o.allowAnonymousWildcards && catchAll(sub.topic)) {
        refuse('subscribe-wildcard', { clientId: label(client.id), topic: sub.topic.slice(0, 200) }, 'subscription refused: without broker.auth, anonymous clients may not subscribe to everything ("#", "+/...", "$SYS/..."); set broker.allowAnonymousWildcards: true to allow it');
        return null;
      }
      granted.add(sub.topic);
      return sub;
    },

    /** The packet to deliver, or null: never hand a client what its current user may not read. */
    forward<P extends { topic: string }>(client: Client, packet: P): P | null {
      if (!authRequired) return packet;
      const user = userOf.get(client);
      if (user && aclOf(user).subscribe(packet.topic)) return packet;
      refuse('forward-acl', { clientId: label(client.id), username: label(user?.username), topic: packet.topic.slice(0, 200) }, 'message not delivered: the session\'s current user may not read its topic');
      return null;
    },
  };
}

/** A filter that reads everything, or the broker's own topics. */
function catchAll(filter: string): boolean {
  const first = filter.split('/', 1)[0]!;
  return first === '#' || first === '+' || first.startsWith('$');
}
