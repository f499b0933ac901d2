// Remote commands on the device (DESIGN.md "Commands", docs/commands.md). A command arrives
// on <prefix>/cmd/<name> (QoS 1, the persistent session) and is acknowledged to the broker only
// once this settles. In order: the envelope is checked; the signature, when a public key is
// configured; a known id is answered from its record (duplicate) and never run again; then its
// expiry, name and args; then its id is recorded (committed) before it runs. Short commands
// reply done or failed; long ones reply accepted first. Refusals are answered too, at most
// REFUSALS_PER_MINUTE a minute (a flood of junk cannot fill the outbox).
import type { KeyObject } from 'node:crypto';
import type { Database } from '../../store/sqlite.js';
import { findCommand, recordCommand } from '../../store/command-records.js';
import { commandRequest, signedBytes, type CommandRequest } from '../../wire/command-wire.js';
import { verifyBytes } from '../../commands/command-signature.js';
import { COMMANDS, defaultAllowed, isCommandName, parseArgs, type CommandName } from '../../commands/command-args.js';
import type { AgentConfig } from '../../config/load.js';
import type { Logger } from '../../ops/logger.js';
import { replyRoute, type CommandRef, type ReplyBody, type ReplyRoute, type ReplyWriter } from './command-reply.js';

/** What a handler answers: done (with a result) or failed (with an error); `later`: someone else finishes it. */
export type Outcome = { status: 'done'; result?: unknown } | { status: 'failed'; error: string; result?: unknown } | { later: true };

export type Handler = (args: unknown, cmd: CommandRef & { route: ReplyRoute }) => Promise<Outcome>;

export interface RunnerDeps {
  device: string;
  prefix: string;
  config: AgentConfig['commands'];
  publicKey: KeyObject | undefined;
  db: Database;
  replies: ReplyWriter;
  handlers: Record<CommandName, Handler>;
  /** Ids of commands someone finishes across a reload (config.apply): not interrupted. */
  continuing: () => readonly string[];
  clock: () => number;
  log: Logger;
}

/** Answers to refused or repeated commands a minute, at most (a flood cannot fill the outbox). */
const REFUSALS_PER_MINUTE = 60;
/** A finished command's record is kept at least this long after its expiry (ms). */
const KEEP_AFTER_EXPIRY_MS = 86_400_000;

export interface CommandRunner {
  /** One message from <prefix>/cmd/+; resolves when it may be acknowledged. */
  handle(topic: string, payload: Buffer, props: { responseTopic?: string; correlationData?: Buffer }): Promise<void>;
  /** Long commands still running, awaited by a stop (bounded by the caller). */
  running(): Promise<void>;
}

export function createCommandRunner(d: RunnerDeps): CommandRunner {
  const { log, clock } = d;
  const allowed: readonly CommandName[] = d.config.allow ?? defaultAllowed(d.publicKey !== undefined);
  const active = new Map<string, Promise<void>>();
  let refusals = { minute: 0, count: 0 };
  const ts = () => new Date(clock()).toISOString();

  /** Refusals and repeats are answered at most REFUSALS_PER_MINUTE a minute: false past that. */
  const withinLimit = (what: string, id: string) => {
    const minute = Math.floor(clock() / 60_000);
    if (refusals.minute !== minute) refusals = { minute, count: 0 };
    if (++refusals.count <= REFUSALS_PER_MINUTE) return true;
    if (refusals.count === REFUSALS_PER_MINUTE + 1) log.warn({ perMinute: REFUSALS_PER_MINUTE }, 'commands: too many refused or repeated this minute; the rest are logged only');
    log.debug({ id, what }, 'command not answered: too many refusals and repeats this minute');
    return false;
  };
  const refuse = async (ref: CommandRef, route: ReplyRoute, status: 'rejected' | 'expired', error: string, result?: unknown) => {
    if (!withinLimit(error, ref.id)) return;
    await d.replies.write(ref, route, { status, error, ...(result !== undefined && { result }), ts: ts() });
  };

  const run = async (ref: CommandRef, route: ReplyRoute, name: CommandName, args: unknown) => {
    const long = COMMANDS[name].long;
    if (long) await d.replies.write(ref, route, { status: 'accepted', ts: ts() }, { record: 'accepted' });
    const work = (async () => {
      let outcome: Outcome;
      try {
        outcome = await d.handlers[name](args, { ...ref, route });
      } catch (err) {
        outcome = { status: 'failed', error: (err as Error).message };
      }
      if ('later' in outcome) return;
      // Fault injection for the crash tests (a real SIGKILL between a command's effect and its reply).
      if (process.env.OUTPOST_FAULT === 'kill-after-command') process.kill(process.pid, 'SIGKILL');
      const body: ReplyBody = outcome.status === 'done' ? { status: 'done', ...(outcome.result !== undefined && { result: outcome.result }), ts: ts() } : { status: 'failed', error: outcome.error, ...(outcome.result !== undefined && { result: outcome.result }), ts: ts() };
      log.info({ id: ref.id, name, status: body.status, error: body.error }, 'command finished');
      await d.replies.write(ref, route, body, { record: 'final' });
    })();
    if (!long) return work;
    // A long command runs on after the broker has its PUBACK (it was recorded and accepted).
    active.set(ref.id, work.catch((err: Error) => log.error({ id: ref.id, err: err.message }, 'command reply could not be written')).finally(() => active.delete(ref.id)));
  };

  return {
    async handle(topic, payload, props) {
      const name = topic.slice(d.prefix.length + '/cmd/'.length);
      const route = replyRoute(d.prefix, props);
      let doc: unknown;
      try {
        doc = JSON.parse(payload.toString('utf8'));
      } catch {
        doc = undefined;
      }
      const id = typeof (doc as { id?: unknown })?.id === 'string' ? ((doc as { id: string }).id.slice(0, 128)) : undefined;
      const parsed = commandRequest.safeParse(doc);
      const now = clock();
      if (!parsed.success || id === undefined) {
        log.warn({ topic, problem: parsed.success ? 'no id' : parsed.error.issues[0]?.message }, 'command refused: not a command envelope');
        if (id === undefined) return; // nothing to correlate a reply with
        const problems = parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.') || '(payload)'}: ${i.message}`);
        return refuse({ id, name, keepUntil: now }, route, 'rejected', `not a command: ${problems.join('; ')}`);
      }
      const cmd: CommandRequest = parsed.data;
      const ref: CommandRef = { id: cmd.id, name, keepUntil: Math.max(now, cmd.expiresAt ? Date.parse(cmd.expiresAt) : now + d.config.maxTtl) + KEEP_AFTER_EXPIRY_MS };
      if (d.publicKey) {
        const why = cmd.sig === undefined ? 'unsigned' : !verifyBytes(signedBytes(d.device, name, cmd), cmd.sig, d.publicKey) ? 'signature does not verify' : undefined;
        if (why) {
          log.warn({ id: cmd.id, name, issuedBy: cmd.issuedBy ?? null, why }, 'command refused: not signed by the fleet key (commands.publicKey)');
          return refuse(ref, route, 'rejected', `${why}: this device runs only commands signed with the fleet's key`);
        }
      }
      const known = await findCommand(d.db, cmd.id);
      if (known) {
        const still = active.has(cmd.id) || d.continuing().includes(cmd.id);
        log.info({ id: cmd.id, name, state: known.state }, 'command delivered again: answered, not run again');
        if (!withinLimit('repeat', cmd.id)) return;
        const body: ReplyBody = known.state === 'final' && known.reply ? (JSON.parse(known.reply) as ReplyBody) : still ? { status: 'accepted', ts: ts() } : { status: 'failed', error: 'interrupted: the agent stopped while it ran; not run again', ts: ts() };
        return d.replies.write({ ...ref, name: known.name }, route, body, { duplicate: true });
      }
      if (cmd.expiresAt && Date.parse(cmd.expiresAt) <= now) return refuse(ref, route, 'expired', `expired at ${cmd.expiresAt}; not run`);
      if (d.publicKey && !cmd.expiresAt) return refuse(ref, route, 'rejected', 'a signed command needs expiresAt');
      if (cmd.expiresAt && Date.parse(cmd.expiresAt) - now > d.config.maxTtl) return refuse(ref, route, 'rejected', `expiresAt is more than commands.maxTtl ahead`);
      if (!isCommandName(name) || !allowed.includes(name)) {
        const why = isCommandName(name) ? `command ${name} is not allowed on this device (commands.allow${d.publicKey ? '' : '; config.apply and gpio.set need signed commands, commands.publicKey, or an explicit allow list'})` : `unknown command ${JSON.stringify(name.slice(0, 60))}`;
        return refuse(ref, route, 'rejected', `${why}; this device takes: ${allowed.join(', ')}`, { known: allowed });
      }
      const args = parseArgs(name, cmd.args);
      if (!args.ok) return refuse(ref, route, 'rejected', args.problems.join('; '), { problems: args.problems });
      try {
        if (!(await recordCommand(d.db, { id: cmd.id, name, receivedAt: now, keepUntil: ref.keepUntil }))) return; // a twin delivery got here first
      } catch (err) {
        return d.replies.write(ref, route, { status: 'failed', error: `the device cannot record the command (${(err as Error).message}); not run`, ts: ts() });
      }
      log.info({ id: cmd.id, name, issuedBy: cmd.issuedBy ?? null }, 'command received');
      return run(ref, route, name, args.args);
    },
    running: async () => void (await Promise.allSettled([...active.values()])),
  };
}
