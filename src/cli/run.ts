// `outpost run --config FILE`: the agent as a long-running service. Under systemd
// (Type=notify) it says READY=1 once serving, feeds the watchdog from the pipeline's progress,
// and says STOPPING=1 on SIGTERM/SIGINT. SIGHUP reloads the config: a new config is checked
// first and, if it has problems, they are logged and the running one stays; otherwise the agent
// restarts on it in-process, and pipelines whose config is unchanged keep their state.
import type { AgentConfig } from '../config/load.js';
import { loadConfigIsolated } from '../config/load-isolated.js';
import { createLogger, type Logger } from '../ops/logger.js';
import type { Agent, AgentHost } from '../agent/agent-types.js';
import { createConfigHost, undoInterruptedApply, type Reloaded } from './config-apply.js';
import { connectSdNotify, startWatchdog, type SdNotify } from '../ops/sd-notify.js';
import { reportProblems } from './report-problems.js';
import type { Io } from './io.js';

export async function run(file: string, io: Io): Promise<number> {
  // One listener per signal for the whole run, never removed: Node drops a signal that arrives
  // while its last listener is swapped for another (found: a SIGTERM just as the agent finished
  // starting was lost, and the agent ran on). What a signal does depends on the phase.
  // SIGHUP too: before the agent serves, a reload asked for is remembered and done once it does
  // (without a listener, SIGHUP's default action would end the process).
  let onStop: (signal: NodeJS.Signals) => void = () => (stopBeforeStart = true);
  let onHup: () => void = () => (hupBeforeServing = true);
  let stopBeforeStart = false;
  let hupBeforeServing = false;
  const dispatch = (signal: NodeJS.Signals) => onStop(signal);
  const hup = () => onHup();
  process.on('SIGTERM', dispatch);
  process.on('SIGINT', dispatch);
  process.on('SIGHUP', hup);
  const phases: Phases = {
    onStop: (handler) => (onStop = handler),
    stopBeforeStart: () => stopBeforeStart,
    onHup: (handler) => {
      onHup = handler;
      if (hupBeforeServing) handler();
    },
  };
  try {
    return await runPhases(file, io, phases);
  } finally {
    process.off('SIGTERM', dispatch);
    process.off('SIGINT', dispatch);
    process.off('SIGHUP', hup);
  }
}

interface Phases {
  /** What SIGTERM and SIGINT do from now on. */
  onStop(handler: (signal: NodeJS.Signals) => void): void;
  /** Whether one came before the agent existed. */
  stopBeforeStart(): boolean;
  /** What SIGHUP does from now on (called at once if one came before). */
  onHup(handler: () => void): void;
}

async function runPhases(file: string, io: Io, { onStop, stopBeforeStart, onHup }: Phases): Promise<number> {
  // The agent's modules load on this thread while the config is checked on another (its own
  // modules, zod among them): on two cores or more the two overlap (about 250 ms of a start).
  const agentModule = import('../agent/agent.js');
  agentModule.catch(() => undefined); // awaited below; a config that fails first must not leave it unhandled
  let undone: string | undefined;
  try {
    undone = undoInterruptedApply(file);
  } catch (err) {
    io.err(`outpost: an interrupted config.apply could not be undone: ${(err as Error).message}`);
  }
  const loaded = await loadConfigIsolated(file);
  if (!loaded.ok) return reportProblems(file, loaded, io);
  if (stopBeforeStart()) return 0; // stopped while the config was read: nothing was opened
  const log = createLogger(loaded.config.log.level);
  exitOnUnexpected(log);
  if (undone) log.warn({ file }, undone);
  const notify = await connectSdNotify(process.env, log);
  let agent: Agent;
  let stopping = false;
  let reloading: Promise<unknown> | undefined;
  // Reloads (SIGHUP, config.apply) one at a time; a stop waits for the one running.
  const reloadNow = (): Promise<Reloaded> => {
    const p = (reloading ?? Promise.resolve()).then(() => reload(file, agent, log, notify, host));
    const tracked = p.then(
      (r) => {
        agent = r.agent;
        if (reloading === tracked) reloading = undefined;
        return r;
      },
      (err: Error) => {
        log.fatal({ err: err.message }, 'reload failed and the previous config could not be restarted: exiting (systemd restarts the service)');
        process.exit(1);
      },
    );
    reloading = tracked;
    return tracked;
  };
  const host = createConfigHost({ file, log, reload: reloadNow, current: () => agent });
  const { createAgent } = await agentModule;
  agent = createAgent({ config: loaded.config, log, host });
  // A signal during a long start (recovery of a big journal) stops cleanly: what started is
  // stopped in reverse, the rest never starts. A second one exits at once.
  let stopDuringStart = stopBeforeStart();
  onStop((signal) => {
    if (stopDuringStart) {
      log.warn({ signal }, 'second signal while starting: exiting without waiting');
      process.exit(1);
    }
    stopDuringStart = true;
    log.info({ signal }, 'stopping while starting');
    void agent.stop().catch(() => undefined);
  });
  if (stopDuringStart) return 0;
  try {
    await agent.start();
  } catch (err) {
    if (stopDuringStart) return agent.stop().then(() => 0, () => 1);
    // start() has stopped what it had started, keeping open windows for the next start.
    log.fatal({ err: (err as Error).message }, 'outpost cannot start');
    io.err(`outpost: ${(err as Error).message}`);
    return 1;
  }
  if (stopDuringStart) return agent.stop().then(() => 0, () => 1);
  notify?.send(`READY=1\nSTATUS=serving ${loaded.config.device.id}\nMAINPID=${process.pid}`);
  const stopWatchdog = notify && startWatchdog({ notify, env: process.env, progressing: () => agent.progressing(), log });

  return new Promise<number>((resolve) => {
    onStop((signal) => {
      if (stopping) {
        log.warn({ signal }, 'second signal: exiting without waiting');
        process.exit(1);
      }
      stopping = true;
      log.info({ signal }, 'stopping');
      notify?.send('STOPPING=1');
      void (reloading ?? Promise.resolve())
        .then(() => agent.stop())
        .then(
          () => resolve(0),
          (err: Error) => {
            log.error({ err: err.message }, 'unclean stop');
            resolve(1);
          },
        )
        .finally(() => {
          stopWatchdog?.();
          notify?.close();
        });
    });
    onHup(() => {
      if (host.busy()) return log.warn('SIGHUP ignored: a config.apply is on trial (it reloads, and rolls back if it must)');
      if (stopping || reloading) return;
      void reloadNow();
    });
  });
}

async function reload(file: string, current: Agent, log: Logger, notify: SdNotify | undefined, host: AgentHost): Promise<Reloaded> {
  const { createAgent } = await import('../agent/agent.js');
  const loaded = await loadConfigIsolated(file);
  if (!loaded.ok) {
    log.error({ problems: loaded.problems.map((p) => `${p.path}: ${p.message}`) }, 'SIGHUP: the new config has problems; keeping the running one');
    return { agent: current, started: 'previous' };
  }
  notify?.send('RELOADING=1');
  log.info('SIGHUP: config checked; restarting the pipeline on it (unchanged pipelines keep their state)');
  const previous = current.config;
  await current.stop({ flushOpenWindows: false });
  const start = async (config: AgentConfig) => {
    const next = createAgent({ config, log, host });
    await next.start();
    return next;
  };
  let next: Reloaded;
  try {
    next = { agent: await start(loaded.config), started: 'new' };
  } catch (err) {
    log.error({ err: (err as Error).message }, 'SIGHUP: the new config does not start; back to the previous one');
    next = { agent: await start(previous), started: 'previous' };
  }
  notify?.send('READY=1');
  return next;
}

/**
 * The last line of defence. Input paths catch their own errors (a dead letter with reason
 * internal-error); anything that still escapes leaves state we cannot vouch for, so the agent
 * logs it with its stack and exits with 70 (EX_SOFTWARE): systemd restarts it with the reason
 * in the journal, and the restart recovers from the checkpoint and journal.
 */
export function exitOnUnexpected(log: Logger): void {
  const die = (kind: string) => (err: unknown) => {
    log.fatal({ kind, err: (err as Error)?.stack ?? String(err) }, `${kind}: exiting so systemd restarts the agent (please report this)`);
    log.flush?.();
    // Not unref'd: with nothing else left to run, the process would end with 0 and the journal
    // would show a clean exit.
    setTimeout(() => process.exit(70), 50);
  };
  process.on('uncaughtException', die('uncaught exception'));
  process.on('unhandledRejection', die('unhandled promise rejection'));
}
