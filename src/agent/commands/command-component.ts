// Remote commands as a component: after the stream (the commands act on it) and before the
// sources. It subscribes to <prefix>/cmd/+ at QoS 1 on the uplink's persistent session (so
// commands sent while the device was offline arrive when it returns), answers the commands an
// earlier run left unfinished, and waits (bounded) for long ones at stop. The runner, with the
// command and config schemas it checks against (zod, yaml: about 250 ms of start and 8 MB
// resident), is loaded at the first command: most devices get few or none.
import { readKey } from '../../commands/command-signature.js';
import { upstreamEncoder } from '../../wire/render.js';
import { bump } from '../../ops/stats.js';
import { pruneCommands } from '../../store/command-records.js';
import type { Component } from '../lifecycle.js';
import type { AgentContext, AgentParts } from '../agent-parts.js';
import type { ReplayFilter, ReplayResult } from '../dead-letter-replay.js';
import type { CommandRunner } from './command-runner.js';
import { createReplyWriter } from './command-reply.js';
import { answerInterrupted } from './command-sweep.js';

const STOP_WAIT_MS = 2000;
const PRUNE_MS = 3_600_000;

export function commandComponent(ctx: AgentContext, parts: AgentParts, api: { status(): Promise<unknown>; replayDeadLetters(f: ReplayFilter): Promise<ReplayResult> }): Component {
  const { config, log, clock, stats } = ctx;
  const device = config.device.id;
  /** The runner, once a first command has asked for it. */
  let loading: Promise<CommandRunner> | undefined;
  let stopped = false;
  let pruner: NodeJS.Timeout | undefined;
  return {
    name: 'commands',
    async start() {
      loading = undefined;
      stopped = false;
      const key = config.commands.publicKey === undefined ? undefined : readKey(config.commands.publicKey, 'public');
      if (typeof key === 'string') throw new Error(`commands.publicKey: ${key}`);
      if (!key) log.info({ topic: `${config.uplink.topicPrefix}/cmd/+` }, 'commands are taken unsigned (no commands.publicKey): the fleet broker\'s ACL decides who may send them');
      const db = parts.db!;
      const writer = parts.writer!;
      const replies = createReplyWriter(writer, device, clock, (s) => bump(stats.commandsByStatus, s));
      const load = async (): Promise<CommandRunner> => {
        const [{ createCommandRunner }, { commandHandlers }] = await Promise.all([import('./command-runner.js'), import('./command-handlers.js')]);
        return createCommandRunner({
          device,
          prefix: config.uplink.topicPrefix,
          config: config.commands,
          publicKey: key,
          db,
          replies,
          handlers: commandHandlers({
            config,
            host: ctx.opts.host,
            db,
            writer,
            encode: upstreamEncoder(device),
            encodeReplayed: upstreamEncoder(device, { replayed: true }),
            stream: () => parts.stream,
            alarms: () => parts.alarms,
            status: api.status,
            replayDeadLetters: api.replayDeadLetters,
            log,
            clock,
          }),
          continuing: () => ctx.opts.host?.continuing() ?? [],
          clock,
          log,
        });
      };
      await answerInterrupted({ db, replies, continuing: ctx.opts.host?.continuing() ?? [], clock, log });
      parts.replies = replies;
      // The inbox hands over one command at a time, so the first one loads the runner alone. A
      // command whose runner was still loading when the component stopped is not run (nor
      // acknowledged: the broker sends it again next session); a load that failed is tried again
      // by the next command.
      parts.commandInbox?.attach(async (topic, payload, props) => {
        const pending = (loading ??= load());
        let r: CommandRunner;
        try {
          r = await pending;
        } catch (err) {
          if (loading === pending) loading = undefined;
          log.error({ err: (err as Error).message }, 'the command runner could not be loaded: the command is not acknowledged (sent again)');
          throw err;
        }
        if (stopped) throw new Error('commands are not being taken now: sent again next session');
        return r.handle(topic, payload, props);
      });
      const prune = () => void pruneCommands(db, clock()).catch((err: Error) => log.warn({ err: err.message }, 'old command records could not be pruned'));
      prune();
      pruner = setInterval(prune, PRUNE_MS);
      pruner.unref();
    },
    async stop() {
      stopped = true;
      clearInterval(pruner);
      // Later deliveries are never acknowledged (mqtt.js holds their PUBACK until the connection
      // closes a moment later): the broker sends them again to the next run.
      parts.commandInbox?.detach();
      // A runner still loading for a first command is waited for like one that runs it.
      const r = await loading?.catch(() => undefined);
      loading = undefined;
      if (!r) return;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([r.running(), new Promise((res) => (timer = setTimeout(res, STOP_WAIT_MS)))]);
      clearTimeout(timer);
    },
  };
}
