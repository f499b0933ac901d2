// One connection to the fleet broker at a time: TLS and credentials (client-options.ts), the
// retained online/offline status with its last will, MQTT 5 first and 3.1.1 once the broker
// refuses 5 (`protocol: auto`), reconnects with exponential backoff and jitter, and errors
// explained in words. It knows nothing of the outbox: the forwarder hears onOnline/onOffline.
import mqtt, { type MqttClient, type IClientOptions } from 'mqtt';
import { clientOptions, explainUplinkError, refusedProtocol, type ProtocolVersion } from './client-options.js';
import { redactUrl } from '../../config/redact.js';
import type { UplinkState } from './uplink-types.js';
import type { AgentConfig } from '../../config/load.js';
import type { Logger } from '../../ops/logger.js';

export interface UplinkConnectionOptions {
  uplink: AgentConfig['uplink'];
  log: Logger;
  clock: () => number;
  /** Connected: `receiveMaximum` is the broker's (MQTT 5 CONNACK), Infinity when it set none. */
  onOnline(client: MqttClient, receiveMaximum: number): void;
  /** The connection went; `wasOnline` whether it had been connected. */
  onOffline(wasOnline: boolean): void;
  /** A message on a watched topic (see watch()). */
  onMessage?(topic: string, payload: Buffer): void;
}

export interface UplinkConnection {
  start(): void;
  /** The client while online, else undefined. Compare before using it after an await. */
  online(): MqttClient | undefined;
  /** Records the latest problem for health (the forwarder's refusals too). */
  note(error: string): void;
  /** Subscribes to `filter` (QoS 0) on this and every later connection; messages go to onMessage. */
  watch(filter: string): void;
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
  const watched = new Set<string>();

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
      attempt = 0;
      connects++;
      lastError = null;
      setState('online');
      log.info({ url, protocol: version === 5 ? '5' : '3.1.1' }, 'uplink connected');
      c.publish(statusTopic, 'online', { qos: 1, retain: true });
      if (watched.size > 0) c.subscribe([...watched], { qos: 0 });
      opts.onOnline(c, connack.properties?.receiveMaximum ?? Infinity);
    });
    c.on('message', (topic, payload) => {
      if (c === client) opts.onMessage?.(topic, payload);
    });
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
    watch(filter) {
      if (watched.has(filter)) return;
      watched.add(filter);
      if (state === 'online') client?.subscribe(filter, { qos: 0 });
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
