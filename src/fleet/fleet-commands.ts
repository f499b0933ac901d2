// Commands from the fleet to its devices (DESIGN.md "Commands", docs/commands.md). A command is
// checked against the device's catalog (the same zod as the agent's), logged (the audit: who
// sent what, when), signed when the fleet holds the private key, and published QoS 1 on
// <prefix>/cmd/<name> on a connection of its own (MQTT 5: the Response Topic is
// <prefix>/cmd-result and the Correlation Data the id; 3.1.1: the reply's id correlates).
// Replies arrive with the rest of the device's feed (fleet-consumer.ts). Pending commands are
// published again at every connect until they expire: the device answers a repeat from its
// record, never running it twice.
import { randomUUID, type KeyObject } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import { COMMAND_NAMES, isCommandName, parseArgs } from '../commands/command-args.js';
import { signedBytes, type CommandRequest } from '../wire/command-wire.js';
import { readKey, signBytes } from '../commands/command-signature.js';
import { parseDuration } from '../config/units.js';
import { redactUrl } from '../config/redact.js';
import type { Logger } from '../ops/logger.js';
import type { FleetConfig } from './fleet-config.js';
import type { FleetStore } from './fleet-store.js';
import type { LogEntry } from './projection.js';
import { listCommands } from './command-queries.js';
import { fleetBrokerOptions } from './broker-options.js';
import { refusedProtocol, sendAtOnce } from '../ops/mqtt-client.js';

export interface FleetCommands {
  /** POST /api/devices/{device}/commands: the HTTP status and body to answer. */
  send(device: string, body: Record<string, unknown>, who: string): Promise<{ status: number; body: unknown }>;
  close(): Promise<void>;
}

const MAX_TTL_MS = 7 * 86_400_000;

export function startFleetCommands(cfg: FleetConfig, store: FleetStore, log: Logger, changed: (c: Record<string, unknown>) => void): FleetCommands {
  const b = cfg.broker;
  const key = cfg.commands.privateKey === undefined ? undefined : (readKey(cfg.commands.privateKey, 'private') as KeyObject);
  let version: 4 | 5 = 5;
  let client: MqttClient | undefined;
  let closing = false;

  const accept = (entries: LogEntry[]) => store.accept(entries).then((fresh) => fresh.forEach((e) => changed({ kind: e.kind, device: e.device })));

  const publish = (c: MqttClient, device: string, prefix: string, name: string, req: CommandRequest) => {
    c.publish(`${prefix}/cmd/${name}`, JSON.stringify(req), { qos: 1, ...(version === 5 && { properties: { responseTopic: `${prefix}/cmd-result`, correlationData: Buffer.from(req.id) } }) }, (err) => {
      if (err) return log.warn({ id: req.id, err: err.message }, 'fleet: command not taken by the broker yet (sent again at the next connect)');
      void accept([{ key: `cmd-sent:${req.id}`, kind: 'command-sent', device, seq: null, prefix, payload: JSON.stringify({ id: req.id, name, at: new Date().toISOString() }), receivedAt: Date.now() }]).catch((e: Error) => log.warn({ err: e.message }, 'fleet: command-sent not logged'));
    });
  };

  /** Commands still pending (not yet taken by the broker) and not expired: published again. */
  const resend = async (c: MqttClient) => {
    const rows = await store.db.all<{ device: string; prefix: string; payload: string }>(
      "SELECT l.device, l.prefix, l.payload FROM commands c JOIN log l ON l.key = 'cmd:' || c.id AND l.device = c.device WHERE c.state = 'pending' AND c.expires_at > ?",
      [Date.now()],
    );
    for (const r of rows) {
      const m = JSON.parse(r.payload) as { request: CommandRequest; name: string };
      publish(c, r.device, r.prefix, m.name, m.request);
    }
    if (rows.length > 0) log.info({ commands: rows.length }, 'fleet: pending commands published again');
  };

  const connect = () => {
    if (closing) return;
    const c = mqtt.connect(b.url, { ...fleetBrokerOptions(b), clientId: `${b.clientId}-commands`, clean: true, protocolVersion: version });
    client = c;
    c.on('connect', () => {
      sendAtOnce(c);
      void resend(c).catch((err: Error) => log.warn({ err: err.message }, 'fleet: pending commands not read'));
    });
    c.on('error', (err: Error & { code?: unknown }) => {
      if (version === 5 && refusedProtocol(err)) {
        log.info({ url: redactUrl(b.url) }, 'fleet broker does not speak MQTT 5: commands go on 3.1.1 (replies correlate by id)');
        version = 4;
        c.end(true);
        connect();
      }
    });
  };
  connect();

  return {
    async send(device, body, who) {
      const name = body.name;
      if (typeof name !== 'string' || !isCommandName(name)) return { status: 400, body: { error: `name: one of ${COMMAND_NAMES.join(', ')}` } };
      const args = body.args === undefined ? {} : body.args;
      const checked = parseArgs(name, args);
      if (!checked.ok) return { status: 400, body: { error: checked.problems.join('; '), problems: checked.problems } };
      const ttl = body.ttl === undefined ? cfg.commands.ttl : typeof body.ttl === 'string' ? parseDuration(body.ttl) : undefined;
      if (ttl === undefined || ttl <= 0 || ttl > MAX_TTL_MS) return { status: 400, body: { error: 'ttl: a duration up to 7d, e.g. 10m' } };
      const gap = body.closesGap;
      if (gap !== undefined && !(Array.isArray(gap) && gap.length === 2 && gap.every((n) => Number.isSafeInteger(n) && n > 0) && gap[0] <= gap[1] && name === 'replay')) {
        return { status: 400, body: { error: 'closesGap: [first, last] seqs, with a replay' } };
      }
      const dev = await store.db.get<{ prefix: string | null }>('SELECT prefix FROM devices WHERE device = ?', [device]);
      if (!dev?.prefix) return { status: 404, body: { error: `no device ${JSON.stringify(device)} (not heard from yet)` } };
      const now = Date.now();
      const request: CommandRequest = { v: 1, id: randomUUID(), args: args as Record<string, unknown>, expiresAt: new Date(now + ttl).toISOString(), issuedBy: who.slice(0, 200) };
      if (key) request.sig = signBytes(signedBytes(device, name, request), key);
      const payload = { id: request.id, name, args, expiresAt: request.expiresAt, issuedBy: request.issuedBy, at: new Date(now).toISOString(), ...(gap && { closesGap: gap }), request };
      await accept([{ key: `cmd:${request.id}`, kind: 'command', device, seq: null, prefix: dev.prefix, payload: JSON.stringify(payload), receivedAt: now }]);
      await store.audit(who, `command ${name}`, `${device} ${request.id}`, now);
      log.info({ id: request.id, device, name, by: who, signed: key !== undefined }, 'fleet: command sent');
      if (client?.connected) publish(client, device, dev.prefix, name, request);
      const [view] = await listCommands(store.db, { id: request.id, device });
      return { status: 202, body: view };
    },
    async close() {
      closing = true;
      await client?.endAsync().catch(() => undefined);
    },
  };
}
