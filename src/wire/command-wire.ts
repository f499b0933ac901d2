// A remote command on the wire (DESIGN.md "Commands"): the request the fleet publishes on
// `<prefix>/cmd/<name>`, the reply the device sends back through its outbox, and the bytes a
// signature covers. Defined once here, in zod: the agent checks requests with it and the fleet
// builds them and reads replies with it.
import { z } from 'zod';

/** Longest command id; ids are the sender's (a UUID from the fleet). */
export const MAX_COMMAND_ID = 128;

export const commandRequest = z.strictObject({
  v: z.literal(1),
  id: z
    .string()
    .min(1)
    .max(MAX_COMMAND_ID)
    .regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces'),
  args: z.record(z.string(), z.unknown()).default({}),
  expiresAt: z.iso.datetime({ offset: true }).optional(),
  issuedBy: z.string().max(200).optional(),
  sig: z.string().max(200).optional(),
});
export type CommandRequest = z.output<typeof commandRequest>;

export const COMMAND_STATUSES = ['accepted', 'done', 'failed', 'rejected', 'expired'] as const;
export type CommandStatus = (typeof COMMAND_STATUSES)[number];

export const commandReply = z.object({
  v: z.literal(1),
  /** The command's id (its correlation on `cmd-result`). */
  id: z.string(),
  /** This reply's own message id, `<device>:<seq>`: replies take a seq like every upstream message. */
  msgId: z.string().regex(/^[A-Za-z0-9_.-]{1,64}:[0-9]{1,16}$/, 'is <device>:<seq>'),
  device: z.string(),
  name: z.string(),
  status: z.enum(COMMAND_STATUSES),
  result: z.unknown().optional(),
  error: z.string().optional(),
  duplicate: z.literal(true).optional(),
  ts: z.string(),
});
export type CommandReply = z.output<typeof commandReply>;

/**
 * JSON with object keys sorted at every level and no spaces (the JSON Canonicalization Scheme,
 * RFC 8785, for the values JSON.parse gives: JavaScript's number and string forms are JCS's).
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/**
 * What a signature covers: the request without `sig`, plus the device it is for and the
 * command's name (both in the topic, not the payload), so a signed command cannot be moved to
 * another device or another command.
 */
export function signedBytes(device: string, name: string, r: Omit<CommandRequest, 'sig'> & { sig?: string }): Buffer {
  const { sig: _sig, ...rest } = r;
  return Buffer.from(canonicalJson({ ...rest, device, name }), 'utf8');
}
