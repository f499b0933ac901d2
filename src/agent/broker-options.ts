// The embedded broker's options from its slice of the config (config.broker).
import type { AgentConfig } from '../config/load.js';
import type { EmbeddedBrokerOptions } from '../broker/embedded-broker.js';
import type { Logger } from '../ops/logger.js';

export function brokerOptions(b: AgentConfig['broker'], log: Logger, onRejected: (reason: string) => void): EmbeddedBrokerOptions {
  return {
    host: b.host,
    port: b.port,
    plaintext: b.plaintext,
    tls: b.tls,
    users: b.auth?.users,
    maxConnections: b.maxConnections,
    maxMessageRate: b.maxMessageRate,
    maxPacketBytes: b.maxPacketSize,
    connectTimeoutMs: b.connectTimeout,
    maxPendingConnections: b.maxPendingConnections,
    maxRetained: b.maxRetained,
    maxRetainedBytes: b.maxRetainedBytes,
    maxSubscriptions: b.maxSubscriptions,
    allowAnonymousWildcards: b.allowAnonymousWildcards,
    log,
    onRejected,
  };
}
