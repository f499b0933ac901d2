// The embedded broker's options (the sockets' settings; who may do what is broker-policy.ts)
// and its API: a message feed for the MQTT sources, a drain and a close for the agent's stop.
import type { MessageFeed } from '../sources/mqtt/message-feed.js';
import type { PolicyOptions } from './broker-policy.js';

export interface BrokerTls {
  port: number;
  cert: string;
  key: string;
  ca?: string;
  requireClientCert: boolean;
}

/** The sockets' settings here; who may do what (users, limits, counters) is the policy's. */
export interface EmbeddedBrokerOptions extends Omit<PolicyOptions, 'connected'> {
  host: string;
  port: number;
  /** false: no plain TCP listener (TLS only). */
  plaintext?: boolean;
  tls?: BrokerTls;
  /** Largest MQTT packet in bytes; a larger one closes the connection before it is buffered. */
  maxPacketBytes?: number;
  /** Milliseconds a socket has to complete CONNECT. */
  connectTimeoutMs?: number;
  /** Sockets that have not completed CONNECT, at most (more evict the oldest). */
  maxPendingConnections?: number;
}

export interface EmbeddedBroker extends MessageFeed {
  /** The plain TCP port (or the TLS one when there is no plain listener). */
  readonly port: number;
  readonly tlsPort: number | undefined;
  /**
   * Stops taking publishes (a sensor that sends one now is disconnected unacknowledged and sends
   * it again later) and waits, up to `timeoutMs`, until every publish taken is acknowledged: a
   * stop then leaves no reading that was committed but never acknowledged (it would be resent,
   * and counted twice).
   */
  drain(timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

