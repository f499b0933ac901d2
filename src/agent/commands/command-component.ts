// Remote commands as a component: after the stream (the commands act on it) and before the
// sources. It subscribes to <prefix>/cmd/+ at QoS 1 on the uplink's persistent session (so
// commands sent while the device was offline arrive when it returns), answers the commands an
// earlier run left unfinished, and waits (bounded) for long ones at stop.
import { readKey } from '../../commands/command-signature.js';
import { upstreamEncoder } from '../../wire/render.js';
import { bump } from '../../ops/stats.js';
import { pruneCommands } from '../../store/command-records.js';
import type { Component } from '../lifecycle.js';
import type { AgentContext, AgentParts } from '../agent-parts.js';
import type { ReplayFilter, ReplayResult } from '../dead-letter-replay.js';
import { createCommandRunner, type CommandRunner } from './command-runner.js';
import { commandHandlers } from './command-handlers.js';
import { createReplyWriter } from './command-reply.js';

const STOP_WAIT_MS = 2000;
const PRUNE_MS = 3_600_000;

export function commandComponent(ctx: AgentContext, parts: AgentParts, api: { status(): Promise<unknown>; replayDeadLetters(f: ReplayFilter): Promise<ReplayResult> }): Component {
  const { config, log, clock, stats } = ctx;
  const device = config.device.id;
  let runner: CommandRunner | undefined;
  let pruner: NodeJS.Timeout | undefined;
  return {
    name: 'commands',
    async start() {
      const key = config.commands.publicKey === undefined ? undefined : readKey(config.commands.publicKey, 'public');
      if (typeof key === 'string') throw new Error(`commands.publicKey: ${key}`);
      if (!key) log.info({ topic: `${config.uplink.topicPrefix}/cmd/+` }, 'commands are taken unsigned (no commands.publicKey): the fleet broker\'s ACL decides who may send them');
      const db = parts.db!;
      const writer = parts.writer!;
      const replies = createReplyWriter(writer, device, clock, (s) => bump(stats.commandsByStatus, s));
      const r = createCommandRunner({
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
      await r.sweep();
      runner = r;
      parts.replies = replies;
      parts.commandInbox?.attach((topic, payload, props) => r.handle(topic, payload, props));
      const prune = () => void pruneCommands(db, clock()).catch((err: Error) => log.warn({ err: err.message }, 'old command records could not be pruned'));
      prune();
      pruner = setInterval(prune, PRUNE_MS);
      pruner.unref();
    },
    async stop() {
      clearInterval(pruner);
      const r = runner;
      runner = undefined;
      // Later deliveries are never acknowledged (mqtt.js holds their PUBACK until the connection
      // closes a moment later): the broker sends them again to the next run.
      parts.commandInbox?.detach();
      if (!r) return;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([r.running(), new Promise((res) => (timer = setTimeout(res, STOP_WAIT_MS)))]);
      clearTimeout(timer);
    },
  };
}
