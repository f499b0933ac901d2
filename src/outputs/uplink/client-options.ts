// mqtt.js options for one uplink connection attempt: TLS (mutual TLS with a client certificate),
// credentials, the retained `offline` last will, a persistent session, and the protocol
// version (MQTT 5 first when `protocol: auto`, 3.1.1 once the broker refused 5).
import { readFileSync } from 'node:fs';
import type { IClientOptions } from 'mqtt';
import type { AgentConfig } from '../../config/load.js';

export type ProtocolVersion = 4 | 5;

/** Seconds a persistent MQTT 5 session outlives a disconnect (the broker may cap it). */
const SESSION_EXPIRY_S = 7 * 24 * 3600;

export function clientOptions(uplink: AgentConfig['uplink'], statusTopic: string, version: ProtocolVersion): IClientOptions {
  const tls = uplink.tls;
  const read = (what: string, path: string | undefined) => {
    if (!path) return undefined;
    try {
      return readFileSync(path);
    } catch (err) {
      throw new Error(`uplink.tls.${what} ${path} cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
  };
  return {
    clientId: uplink.clientId,
    clean: !uplink.persistentSession,
    ...(version === 5 && uplink.persistentSession && { properties: { sessionExpiryInterval: SESSION_EXPIRY_S } }),
    reconnectPeriod: 0, // we reconnect ourselves, with a fresh client and jittered backoff
    connectTimeout: 10_000,
    keepalive: Math.max(1, Math.round(uplink.keepalive / 1000)),
    protocolVersion: version,
    // mqtt-packet would otherwise pre-build 65,536 Buffers (~8 MB of heap) for message ids.
    writeCache: false,
    username: uplink.username,
    password: uplink.password,
    will: { topic: statusTopic, payload: Buffer.from('offline'), qos: 1, retain: true },
    ...(tls && {
      ca: read('ca', tls.ca),
      cert: read('cert', tls.cert),
      key: read('key', tls.key),
      rejectUnauthorized: tls.rejectUnauthorized,
    }),
  };
}

/** Turns TLS and connection errors into a sentence that says what to check. */
export function explainUplinkError(err: Error & { code?: unknown }, url: string): string {
  const code = typeof err.code === 'string' ? err.code : '';
  // OpenSSL's "...:SSL routines:ssl3_read_bytes:tlsv1 alert unknown ca:..." -> "tlsv1 alert unknown ca"
  const message = (/SSL routines:[^:]*:([^:]+)/.exec(err.message)?.[1] ?? err.message).trim();
  if (/alert|handshake failure|bad certificate|unknown ca|certificate required/i.test(message)) {
    return `TLS: ${message} (the broker refused our client certificate: check uplink.tls.cert and uplink.tls.key, and that the broker trusts their CA)`;
  }
  if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/i.test(code) || /certificate/i.test(message)) {
    return `TLS: ${message} (check uplink.tls.ca is the CA that signed ${url}'s certificate, and that the host name matches)`;
  }
  if (/Not authorized|Bad username or password/i.test(message)) return `${message} (check uplink.username and uplink.password)`;
  if (code === 'ECONNREFUSED') return `connection refused by ${url} (broker down, or wrong port)`;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `cannot resolve the host of ${url}`;
  return message;
}
