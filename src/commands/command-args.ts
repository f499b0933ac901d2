// The commands a device knows and the arguments of each, in zod: the agent validates a command's
// args with them (each problem with its path) and the fleet checks a command before sending it.
// `long` commands reply `accepted` first, then `done` or `failed`. docs/commands.md explains each.
import { z } from 'zod';
import { duration } from '../config/fields.js';

const time = z.iso.datetime({ offset: true }).transform((t) => Date.parse(t));
const glob = z.string().min(1).max(1000).describe('sensor glob, e.g. "pump1/*"');
const none = z.strictObject({});

export const COMMANDS = {
  ping: { long: false, args: none, summary: 'answers at once: round trip and liveness' },
  status: { long: false, args: none, summary: 'the health document (as /status)' },
  replay: {
    long: true,
    args: z
      .strictObject({ from: time, to: time, sensors: glob.optional() })
      .refine((a) => a.from < a.to, { message: 'from must be before to', path: ['to'] }),
    summary: 're-runs the journal of [from, to) through the pipelines and queues the summaries marked "replayed" (a backfill)',
  },
  flush: { long: false, args: none, summary: 'sends every open window now as a partial summary (the windows continue)' },
  'deadletter.replay': {
    long: true,
    args: z
      .strictObject({ reason: z.string().min(1).max(100).optional(), ids: z.array(z.number().int().positive()).min(1).max(10_000).optional(), all: z.literal(true).optional() })
      .refine((a) => a.reason !== undefined || a.ids !== undefined || a.all === true, { message: 'name a reason, ids, or all: true' })
      .refine((a) => a.all === undefined || (a.reason === undefined && a.ids === undefined), { message: 'all: true replays every dead letter: it takes no reason or ids (those together select the letters with both)' }),
    summary: 'dead letters back through their sources (after a fix)',
  },
  'config.get': { long: false, args: none, summary: 'the config file as written (literal secrets redacted) and in effect (redacted)' },
  'config.apply': {
    long: true,
    args: z.strictObject({ yaml: z.string().min(1).max(1_000_000), rollbackAfter: duration('60s').optional() }),
    summary: 'validates a new config, writes it beside the old one, reloads; back to the old one unless healthy and forwarding within rollbackAfter',
  },
  'gpio.set': {
    long: false,
    args: z.strictObject({ pin: z.number().int().min(0).max(1023), value: z.union([z.literal(0), z.literal(1)]), for: duration('30s').optional() }),
    summary: 'drives an alarm output pin (gpio.alarms) on or off, for a while or until the next anomaly decides',
  },
  'alarm.ack': { long: false, args: z.strictObject({ pin: z.number().int().min(0).max(1023).optional() }), summary: 'releases alarm outputs (one pin, or all) until the next matching anomaly' },
  'detector.reset': { long: false, args: z.strictObject({ sensors: glob }), summary: 'forgets the detector state of matching sensors: they learn again' },
  'log.level': {
    long: false,
    args: z.strictObject({ level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal']), for: duration('10m').optional() }),
    summary: 'changes the log level, for a while (back to the config\'s after `for`) or until restart',
  },
} as const;

export type CommandName = keyof typeof COMMANDS;
export const COMMAND_NAMES = Object.keys(COMMANDS) as CommandName[];
export type CommandArgs<N extends CommandName> = z.output<(typeof COMMANDS)[N]['args']>;

export const isCommandName = (name: string): name is CommandName => Object.prototype.hasOwnProperty.call(COMMANDS, name);

/** The args checked for a command, or its problems as "path: message". */
export function parseArgs(name: CommandName, args: unknown): { ok: true; args: unknown } | { ok: false; problems: string[] } {
  const r = COMMANDS[name].args.safeParse(args);
  if (r.success) return { ok: true, args: r.data };
  return { ok: false, problems: r.error.issues.map((i) => `args${i.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('')}: ${i.message}`) };
}

/** What a device takes without `commands.allow`: everything when commands are signed; else not the config or the actuators. */
export function defaultAllowed(signed: boolean): CommandName[] {
  return signed ? [...COMMAND_NAMES] : COMMAND_NAMES.filter((n) => n !== 'config.apply' && n !== 'gpio.set');
}
