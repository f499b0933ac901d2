// One connection to the fleet broker at a time: TLS and credentials (client-options.ts), the
// retained online/offline status with its last will, MQTT 5 first and 3.1.1 once the broker
// refuses 5 (`protocol: auto`), reconnects with exponential backoff and jitter, and errors
// explained in words. It knows nothing of the outbox: the forwarder hears onOnline/onOffline.
import type { MqttClient, IClientOptions } from 'mqtt';
import { requireCjs } from '../../ops/require-cjs.js';
import { clientOptions, explainUplinkError, type ProtocolVersion } from './client-options.js';
import { refusedProtocol, sendAtOnce } from '../../ops/mqtt-client.js';
import { redactUrl } from '../../config/redact.js';
import { holdPubacks } from '../../ops/held-pubacks.js';
import type { UplinkState } from './uplink-types.js';
import type { AgentConfig } from '../../config/load.js';
import type { Logger } from '../../ops/logger.js';

const mqtt = requireCjs('mqtt') as typeof import('mqtt');

/** What a received message's MQTT 5 properties may carry that we use (request/response). */
export interface MessageProperties {
  responseTopic?: string;
  correlationData?: Buffer;
}

export interface UplinkConnectionOptions {
  uplink: AgentConfig['uplink'];
  log: Logger;
  clock: () => number;
  /** Connected: `receiveMaximum` is the broker's (MQTT 5 CONNACK), Infinity when it set none. */
  onOnline(client: MqttClient, receiveMaximum: number): void;
  /** The connection went; `wasOnline` whether it had been connected. */
  onOffline(wasOnline: boolean): void;
  /**
   * A message on a watched topic (see watch()). A QoS 1 message is acknowledged (PUBACK) only
   * once the promise returned resolves (a command is recorded before the broker forgets it),
   * and never if it rejects (the broker sends it again on the next session).
   */
  onMessage?(topic: string, payload: Buffer, properties: MessageProperties): void | Promise<void>;
}

export interface UplinkConnection {
  start(): void;
  /** The client while online, else undefined. Compare before using it after an await. */
  online(): MqttClient | undefined;
  /** Records the latest problem for health (the forwarder's refusals too). */
  note(error: string): void;
  /** Subscribes to `filter` (QoS 0 unless asked) on this and every later connection; messages go to onMessage. */
  watch(filter: string, qos?: 0 | 1): void;
  /** No new connection attempts (the connection in place stays). */
  holdReconnects(): void;
  /**
   * Says `offline` (retained) and disconnects, giving the goodbye until `deadline` (at least
   * 200 ms): a broker that stops answering cannot hold the stop up.
   */
  close(deadline: number): Promise<void>;
  status(): { state: UplinkState; since: number; lastError: string | null; connects: number; protocol: string };
}

export function createUplinkConnection(opts: UplinkConnectionOptions): UplinkConnection {
  const { uplink, log, clock } = opts;
  const statusTopic = `${uplink.topicPrefix}/status`;
  const url = redactUrl(uplink.url); // for logs and health
  let client: MqttClient | undefined;
  let state: UplinkState = 'offline';
  let since = clock();
  let lastError: string | null = null;
  let attempt = 0;
  let connects = 0;
  let reconnectTimer: NodeJS.Timeout | undefined;
  let stopping = false;
  let holding = false;
  let version: ProtocolVersion = uplink.protocol === '3.1.1' ? 4 : 5;
  const watched = new Map<string, 0 | 1>();

  const setState = (next: UplinkState) => {
    if (next === state) return;
    state = next;
    since = clock();
  };

  const scheduleReconnect = (delayMs?: number) => {
    if (stopping || holding || reconnectTimer) return;
    const base = Math.min(uplink.reconnect.max, uplink.reconnect.min * 2 ** Math.min(attempt, 20));
    const delay = delayMs ?? Math.round(base * (0.5 + Math.random() * 0.5)); // jitter: a fleet does not reconnect in step
    if (delayMs === undefined) attempt++;
    reconnectTimer = setTimeout(() => {
      reconnectTimer = undefined;
      connect();
    }, delay);
  };

  const discard = (c: MqttClient) => {
    c.removeAllListeners();
    c.on('error', () => undefined);
    c.end(true);
  };

  const disconnected = (c: MqttClient) => {
    if (c !== client) return;
    client = undefined;
    discard(c);
    const wasOnline = state === 'online';
    setState(stopping ? 'stopped' : 'offline');
    opts.onOffline(wasOnline);
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
      sendAtOnce(c); // a command's reply, an anomaly: now
      attempt = 0;
      connects++;
      lastError = null;
      setState('online');
      log.info({ url, protocol: version === 5 ? '5' : '3.1.1' }, 'uplink connected');
      c.publish(statusTopic, 'online', { qos: 1, retain: true });
      for (const qos of [0, 1] as const) {
        const filters = [...watched].filter(([, q]) => q === qos).map(([f]) => f);
        if (filters.length > 0) c.subscribe(filters, { qos });
      }
      opts.onOnline(c, connack.properties?.receiveMaximum ?? Infinity);
    });
    // Instead of the 'message' event. It calls back at once (the connection goes on: PUBACKs of
    // our own publishes, pings), while a QoS 1 message's PUBACK waits for the listener's
    // promise, and is never sent when it rejects (the broker sends the message again next session).
    const hold = holdPubacks(c, { dropOnFailure: true });
    c.handleMessage = (packet, callback) => {
      if (c !== client || !opts.onMessage) return callback();
      const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
      const p = packet.properties;
      let handled: void | Promise<void> = undefined;
      try {
        handled = opts.onMessage(packet.topic, payload, { responseTopic: p?.responseTopic, correlationData: p?.correlationData });
      } catch (err) {
        log.error({ topic: packet.topic, err: (err as Error).message }, 'a message from the fleet broker could not be handled');
        handled = Promise.reject(err as Error);
      }
      if (handled && packet.qos > 0 && packet.messageId !== undefined) {
        handled.catch(() => undefined);
        hold(packet.messageId, handled);
      }
      callback();
    };
    c.on('error', (err: Error & { code?: unknown }) => {
      if (c !== client) return;
      if (version === 5 && uplink.protocol === 'auto' && refusedProtocol(err)) {
        log.info({ url }, 'fleet broker does not speak MQTT 5: using 3.1.1');
        version = 4;
        client = undefined;
        discard(c);
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
    online: () => (state === 'online' ? client : undefined),
    note(error) {
      lastError = error;
    },
    watch(filter, qos = 0) {
      if (watched.get(filter) === qos) return;
      watched.set(filter, qos);
      if (state === 'online') client?.subscribe(filter, { qos });
    },
    holdReconnects() {
      holding = true;
      clearTimeout(reconnectTimer);
      reconnectTimer = undefined;
    },
    async close(deadline) {
      stopping = true;
      clearTimeout(reconnectTimer);
      const c = client;
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
    status: () => ({ state, since, lastError, connects, protocol: version === 5 ? '5' : '3.1.1' }),
  };
}
