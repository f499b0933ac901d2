// What every connection of the fleet service to its broker shares: credentials, TLS files and
// mqtt.js's own reconnects. Each connection adds its client id, session and protocol.
import { readFileSync } from 'node:fs';
import type { IClientOptions } from 'mqtt';
import type { FleetConfig } from './fleet-config.js';

export function fleetBrokerOptions(b: FleetConfig['broker']): IClientOptions {
  const read = (p?: string) => (p ? readFileSync(p) : undefined);
  return {
    username: b.username,
    password: b.password,
    reconnectPeriod: 2000,
    ...(b.tls && { ca: read(b.tls.ca), cert: read(b.tls.cert), key: read(b.tls.key), rejectUnauthorized: b.tls.rejectUnauthorized }),
  };
}
