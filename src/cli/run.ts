// `outpost run --config FILE`: the agent as a long-running service.
import { loadConfigFile } from '../config/load.js';
import { createLogger } from '../ops/logger.js';
import { createAgent } from '../agent/agent.js';
import { reportProblems } from './check-config.js';
import type { Io } from './io.js';

export async function run(file: string, io: Io): Promise<number> {
  const loaded = loadConfigFile(file);
  if (!loaded.ok) return reportProblems(file, loaded, io);
  const log = createLogger(loaded.config.log.level);
  const agent = createAgent({ config: loaded.config, log });
  try {
    await agent.start();
  } catch (err) {
    log.fatal({ err: (err as Error).message }, 'outpost cannot start');
    io.err(`outpost: ${(err as Error).message}`);
    await agent.stop().catch(() => undefined);
    return 1;
  }
  return new Promise<number>((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        log.warn({ signal }, 'second signal: exiting without waiting');
        process.exit(1);
      }
      stopping = true;
      log.info({ signal }, 'stopping');
      agent.stop().then(
        () => resolve(0),
        (err: Error) => {
          log.error({ err: err.message }, 'unclean stop');
          resolve(1);
        },
      );
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}
