// What each command does on the device (the names and args: src/commands/command-args.ts).
// Each handler gets its checked args and answers done or failed; config.apply hands the work to
// the process that owns the config file (cli/run.ts), which answers after the reload.
import { readFileSync } from 'node:fs';
import type { AgentConfig } from '../../config/load.js';
import { parseConfigText } from '../../config/load.js';
import { redactConfigText, redactConfigValue, unredactConfigText } from '../../config/redact-config.js';
import { compileGlob } from '../../stream/glob.js';
import type { Stream, StreamOutput, Summary } from '../../stream/stream.js';
import type { GroupCommit } from '../../store/group-commit-types.js';
import type { Database } from '../../store/sqlite.js';
import type { Encoder } from '../../wire/render.js';
import type { Logger } from '../../ops/logger.js';
import type { AlarmControl } from '../../outputs/gpio-alarms/gpio-alarm-output.js';
import type { ReplayFilter, ReplayResult } from '../dead-letter-replay.js';
import { rerunJournal, TooManyOutputs } from '../backfill.js';
import type { CommandArgs, CommandName } from '../../commands/command-args.js';
import type { Handler } from './command-runner.js';
import type { AgentHost } from '../agent-types.js';
import { dirname, resolve } from 'node:path';

/** A replay may queue at most this many summaries (a wider range: several commands). */
export const MAX_REPLAYED = 100_000;
/** Summaries queued per commit by a replay. */
const REPLAY_CHUNK = 2000;

export interface HandlerDeps {
  config: AgentConfig;
  host: AgentHost | undefined;
  db: Database;
  writer: GroupCommit;
  encode: Encoder;
  encodeReplayed: Encoder;
  stream: () => Stream | undefined;
  alarms: () => AlarmControl | undefined;
  status: () => Promise<unknown>;
  replayDeadLetters: (f: ReplayFilter) => Promise<ReplayResult>;
  log: Logger;
  clock: () => number;
}

export function commandHandlers(d: HandlerDeps): Record<CommandName, Handler> {
  /** Summaries the stream did not emit in its own course (a backfill, a flush), into the outbox. */
  const queue = (summaries: readonly Summary[], encode: Encoder) => {
    for (const o of summaries) d.writer.writeOutside({ kind: 'summary', sensor: o.sensor, render: (seq) => ({ payload: encode(seq, o).payload }) }, d.clock());
  };
  let levelTimer: NodeJS.Timeout | undefined;
  let replaying: Promise<unknown> = Promise.resolve();
  const alarms = () => {
    const a = d.alarms();
    if (!a) throw new Error('this device has no alarm outputs (gpio.alarms)');
    return a;
  };
  return {
    ping: async () => ({ status: 'done', result: { pong: true, at: new Date(d.clock()).toISOString() } }),
    status: async () => ({ status: 'done', result: await d.status() }),
    async replay(raw) {
      const a = raw as CommandArgs<'replay'>;
      const matches = a.sensors ? compileGlob(a.sensors) : () => true;
      // One replay at a time: each reads the whole journal.
      const mine = replaying.then(() => rerunJournal(d.db, d.config.pipelines, { from: a.from, to: a.to, matches, maxOutputs: 2 * MAX_REPLAYED }, d.config.derived));
      replaying = mine.catch(() => undefined);
      let rerun;
      try {
        rerun = await mine;
      } catch (err) {
        if (err instanceof TooManyOutputs) return { status: 'failed', error: `the range makes more than ${MAX_REPLAYED} summaries: replay a narrower range (or fewer sensors)` };
        throw err;
      }
      const { outputs, readings } = rerun;
      const summaries = outputs.filter((o): o is Summary => o.kind === 'summary');
      if (summaries.length > MAX_REPLAYED) return { status: 'failed', error: `the range makes ${summaries.length} summaries, more than ${MAX_REPLAYED} at once: replay a narrower range` };
      // In commits of a bounded size, each durable before the next is queued.
      for (let i = 0; i < summaries.length; i += REPLAY_CHUNK) {
        queue(summaries.slice(i, i + REPLAY_CHUNK), d.encodeReplayed);
        await d.writer.durable();
      }
      const oldest = await d.db.get<{ t: number | null }>('SELECT MIN(first_received) AS t FROM journal');
      return { status: 'done', result: { readings, summaries: summaries.length, journalFrom: oldest?.t ? new Date(oldest.t).toISOString() : null } };
    },
    async flush() {
      const s = d.stream();
      if (!s) return { status: 'failed', error: 'the stream is not running' };
      const out: StreamOutput[] = [];
      s.flush(out); // partial summaries only
      queue(out.filter((o): o is Summary => o.kind === 'summary'), d.encode);
      await d.writer.durable();
      return { status: 'done', result: { partialSummaries: out.length } };
    },
    async 'deadletter.replay'(raw) {
      const a = raw as CommandArgs<'deadletter.replay'>;
      const r = await d.replayDeadLetters({ ...(a.reason !== undefined && { reason: a.reason }), ...(a.ids !== undefined && { ids: a.ids }) });
      return { status: 'done', result: r };
    },
    async 'config.get'() {
      const file = d.host?.configFile;
      return { status: 'done', result: { file: file ?? null, yaml: file ? redactConfigText(readFileSync(file, 'utf8')) : null, effective: redactConfigValue(d.config) } };
    },
    async 'config.apply'(raw, cmd) {
      const a = raw as CommandArgs<'config.apply'>;
      const host = d.host;
      if (!host) return { status: 'failed', error: 'this agent was not started from a config file (outpost run --config): config.apply is not available' };
      const current = readFileSync(host.configFile, 'utf8');
      // A new ${file:} or ${env:} reference would let the sender read any file or variable
      // back through config.get (or hang the agent on /dev/zero): only those the file has.
      const refs = (t: string) => new Set(t.match(/\$\{(?:file|env):[^}]*\}/g) ?? []);
      const known = refs(current);
      const added = [...refs(a.yaml)].filter((r) => !known.has(r));
      if (added.length > 0) return { status: 'failed', error: `the new config names ${added.slice(0, 3).join(', ')}, which the current one does not: a remote config may only use the secrets references already in the file; nothing changed` };
      const text = unredactConfigText(a.yaml, current);
      const checked = parseConfigText(text, { dir: dirname(resolve(host.configFile)), label: 'config.apply' });
      if (!checked.ok) {
        const problems = checked.problems.map((p) => `${p.path}: ${p.message}`);
        return { status: 'failed', error: `the new config has problems; nothing changed: ${problems.slice(0, 5).join('; ')}`, result: { problems } };
      }
      const busy = host.applyConfig(cmd, text, a.rollbackAfter ?? d.config.commands.rollbackAfter);
      return busy ? { status: 'failed', error: `${busy}; nothing changed` } : { later: true };
    },
    async 'gpio.set'(raw) {
      const a = raw as CommandArgs<'gpio.set'>;
      alarms().force(a.pin, a.value === 1, a.for);
      return { status: 'done', result: { pin: a.pin, value: a.value, ...(a.for && { forS: a.for / 1000 }) } };
    },
    async 'alarm.ack'(raw) {
      const a = raw as CommandArgs<'alarm.ack'>;
      const all = alarms();
      if (a.pin !== undefined && !all.pins().includes(a.pin)) return { status: 'failed', error: `pin ${a.pin} is not an alarm output (gpio.alarms: ${all.pins().join(', ')})` };
      return { status: 'done', result: { released: all.release(a.pin) } };
    },
    async 'detector.reset'(raw) {
      const a = raw as CommandArgs<'detector.reset'>;
      const s = d.stream();
      if (!s) return { status: 'failed', error: 'the stream is not running' };
      const sensors = s.resetDetectors(compileGlob(a.sensors));
      d.writer.requestCheckpoint(); // kept across a restart from the next commit on
      await d.writer.flush();
      return { status: 'done', result: { sensors } };
    },
    async 'log.level'(raw) {
      const a = raw as CommandArgs<'log.level'>;
      const before = d.log.level;
      d.log.level = a.level;
      clearTimeout(levelTimer);
      if (a.for) {
        levelTimer = setTimeout(() => {
          if (d.log.level !== a.level) return; // changed since (another command, a reload)
          d.log.level = d.config.log.level;
          d.log.info({ level: d.config.log.level }, 'log level back to the config\'s (log.level command time is up)');
        }, a.for);
        levelTimer.unref();
      }
      return { status: 'done', result: { level: a.level, was: before, ...(a.for && { untilS: a.for / 1000 }) } };
    },
  };
}
