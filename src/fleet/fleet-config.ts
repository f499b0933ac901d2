// The fleet service's config (DESIGN.md "Fleet service"), defined once in zod.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { duration, port, topicFilter } from '../config/fields.js';
import { parseWithSchema } from '../config/load.js';
import type { ConfigProblem } from '../config/problems.js';
import { readKey } from '../commands/command-signature.js';

const LOOPBACK = ['127.0.0.1', 'localhost', '::1'];
const retention = duration('30d').default(30 * 86_400_000).describe('summaries, anomalies and the log older than this are deleted');

export const fleetConfigSchema = z
  .strictObject({
    broker: z.strictObject({
      url: z.string().regex(/^(mqtts?|tcp|ssl):\/\//, 'must start with mqtt:// or mqtts://'),
      username: z.string().optional(),
      password: z.string().optional(),
      clientId: z.string().min(1).max(128).default('outpost-fleet').describe('the persistent session: keep it stable, or messages sent while the service was down are lost (with shareGroup: each instance needs its own)'),
      shareGroup: z
        .string()
        .regex(/^[^/+#]{1,64}$/, 'a name without "/", "+" or "#"')
        .optional()
        .describe('several instances split the feed: each subscribes with $share/<shareGroup>/..., so each message goes to one of them (needs store.type postgres)'),
      tls: z.strictObject({ ca: z.string().optional(), cert: z.string().optional(), key: z.string().optional(), rejectUnauthorized: z.boolean().default(true) }).optional(),
    }),
    topics: z
      .array(topicFilter.refine((f) => !f.includes('#'), 'is a device prefix: no "#" (outpost/+ follows every device under outpost/)'))
      .min(1)
      .default(['outpost/+'])
      .describe('device prefixes to follow (each device publishes under one)'),
    store: z
      .union([
        z.strictObject({
          type: z.literal('postgres'),
          url: z.string().regex(/^postgres(ql)?:\/\//, 'must start with postgres:// (e.g. postgres://outpost:${env:PGPASSWORD}@db.example.com/outpost)'),
          retention,
        }),
        z.strictObject({
          type: z.literal('sqlite').default('sqlite'),
          path: z.string().min(1).default('./fleet.db').describe('relative to the config file'),
          retention,
        }),
      ])
      .prefault({})
      .describe('sqlite (one instance, default) or postgres (several instances on shared subscriptions: docs/fleet.md)'),
    http: z
      .strictObject({
        host: z.string().default('127.0.0.1'),
        port: port.default(8080),
        token: z.string().min(16).optional().describe('bearer token for the API and write actions (scripts); this or auth is required on any address but loopback'),
        auth: z
          .strictObject({
            users: z
              .array(z.strictObject({ username: z.string().min(1).max(100), password: z.string().min(1).describe('a scrypt hash from `outpost hash-password` (recommended), or the password itself') }))
              .min(1),
          })
          .optional()
          .describe('dashboard users: a login gives a session cookie (HttpOnly, SameSite=Strict); write actions also need its CSRF token'),
        allowedHosts: z.array(z.string()).default([]),
      })
      .prefault({}),
    commands: z
      .strictObject({
        privateKey: z.string().optional().describe('Ed25519 private key (PEM, e.g. "${file:/etc/outpost/fleet.key}" from `outpost keygen`): commands are signed with it'),
        ttl: duration('10m').default(600_000).describe('a command expires this long after it is sent unless the request says otherwise'),
      })
      .prefault({}),
    log: z.strictObject({ level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal']).default('info') }).prefault({}),
  })
  .superRefine((c, ctx) => {
    if (c.broker.shareGroup !== undefined && c.store.type !== 'postgres') {
      ctx.addIssue({ code: 'custom', path: ['broker', 'shareGroup'], message: 'needs store.type: postgres (instances that split the feed must share one read model)' });
    }
    if (c.commands.privateKey !== undefined) {
      const key = readKey(c.commands.privateKey, 'private');
      if (typeof key === 'string') ctx.addIssue({ code: 'custom', path: ['commands', 'privateKey'], message: key });
      // Whoever can POST a command gets it signed: not every process on this machine.
      if (c.http.token === undefined && c.http.auth === undefined) ctx.addIssue({ code: 'custom', path: ['commands', 'privateKey'], message: 'needs http.token or http.auth: the fleet signs every command its API takes, so the API must know who asks' });
    }
    if (!LOOPBACK.includes(c.http.host) && c.http.token === undefined && c.http.auth === undefined) {
      ctx.addIssue({ code: 'custom', path: ['http', 'token'], message: `(or http.auth) is required when http.host is ${c.http.host} (not loopback): the dashboard and its acknowledge action would be open to the network` });
    }
  });

export type FleetConfig = z.output<typeof fleetConfigSchema>;

export function loadFleetConfig(file: string): { ok: true; config: FleetConfig } | { ok: false; problems: ConfigProblem[] } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    return { ok: false, problems: [{ path: file, message: `cannot read config file (${(err as NodeJS.ErrnoException).code ?? err})` }] };
  }
  const dir = resolve(file, '..');
  const r = parseWithSchema(fleetConfigSchema, text, { dir, label: file });
  if (!r.ok) return r;
  const store = r.value.store;
  return { ok: true, config: { ...r.value, store: store.type === 'sqlite' ? { ...store, path: resolve(dir, store.path) } : store } };
}
