#!/usr/bin/env node
// The `outpost` command. Each subcommand lives in its own file and returns an exit code.
import { Command, InvalidArgumentError } from 'commander';
import { processIo } from './io.js';
import type { DeadLetterArgs } from './deadletter.js';
// Commands are loaded when run: the agent's process (`run`) then holds only what it uses.

const int = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('must be a whole number');
  return n;
};
const positive = (v: string) => {
  const n = Number(v);
  if (!(n > 0)) throw new InvalidArgumentError('must be a positive number');
  return n;
};
/** The event catalog's version: the messages' "v" as major (docs/event-catalog.md). */
const CATALOG_VERSION = '1.0.0';

const exit = (code: number) => {
  process.exitCode = code;
};

/**
 * A development tool (demo, simulate, nab) from src/tools/: in a repository clone, not in
 * what a device installs (package.json "files" leaves dist/tools and the NAB corpus out).
 */
async function tool<T>(name: string): Promise<T> {
  try {
    return (await import(`../tools/${name}.js`)) as T;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND' || !String((err as Error).message).includes(`tools/${name}.js`)) throw err;
    process.stderr.write(`this is a development tool and is not installed on devices: run it from a clone of the Outpost repository (${name})\n`);
    process.exit(69);
  }
}

const program = new Command('outpost')
  .description('Edge stream runtime: sensors in over MQTT and GPIO, windows and anomalies out to a fleet broker')
  .showHelpAfterError();

program
  .command('run')
  .description('run the agent')
  .requiredOption('-c, --config <file>', 'YAML config file')
  .action(async (o: { config: string }) => exit(await (await import('./run.js')).run(o.config, processIo)));

program
  .command('check-config')
  .description('validate a config file: exit 0, or 78 with every problem as "path: message"')
  .argument('<file>')
  .option('--no-secrets', 'do not read ${env:} and ${file:} references (check a device config elsewhere)')
  .action(async (file: string, o: { secrets: boolean }) => exit((await import('./check-config.js')).checkConfig(file, processIo, { resolveSecrets: o.secrets })));

program
  .command('schema')
  .description('print the config JSON Schema, or with --messages the JSON Schema of every upstream message')
  .option('--messages', 'the upstream messages (summary, anomaly, health, status, daily) instead of the config')
  .action(async (o: { messages?: boolean }) =>
    processIo.out(JSON.stringify(o.messages ? (await import('../wire/catalog.js')).messageJsonSchemas() : (await import('../config/json-schema.js')).configJsonSchema(), null, 2)),
  );

program
  .command('asyncapi')
  .description('print the AsyncAPI 3 document of the topics a device publishes (the event catalog)')
  .action(async () => processIo.out(JSON.stringify((await import('../wire/catalog.js')).asyncApiDocument(CATALOG_VERSION), null, 2)));

program
  .command('status')
  .description('backlog, uplink state and latest summaries, from the running agent or its database')
  .requiredOption('-c, --config <file>', 'YAML config file')
  .option('--json', 'print JSON')
  .action(async (o: { config: string; json?: boolean }) => exit(await (await import('./status.js')).status(o.config, processIo, o)));

program
  .command('replay')
  .description('re-run journaled readings through the config\'s pipelines (backfill): JSON lines, or --publish')
  .requiredOption('-c, --config <file>', 'YAML config file')
  .option('--from <time>', 'ISO 8601, inclusive (event time)')
  .option('--to <time>', 'ISO 8601, exclusive (event time)')
  .option('--sensor <glob>', 'only these sensors, e.g. "greenhouse/*"')
  .option('--publish', 'queue the results in the outbox (marked "replayed": true) instead of printing them')
  .action(async (o: { config: string; from?: string; to?: string; sensor?: string; publish?: boolean }) => exit(await (await import('./replay.js')).replay(o, processIo)));

program
  .command('rules')
  .description('rules across sensors (docs/rules.md)')
  .command('test')
  .description('backtest: run the config\'s rules and derived sensors over the journal and print when each would have raised and cleared')
  .requiredOption('-c, --config <file>', 'YAML config file (its storage.path is read; the agent may be running)')
  .option('--from <time>', 'ISO 8601: print events from this time (the rules still run over all the journal before it)')
  .option('--to <time>', 'ISO 8601: stop here (exclusive)')
  .option('--json', 'the events as they would go upstream (JSON lines)')
  .action(async (o: { config: string; from?: string; to?: string; json?: boolean }) => exit(await (await import('./rules-test.js')).rulesTest(o, processIo)));

program
  .command('simulate')
  .description('publish simulated sensor readings to a broker')
  .option('-u, --url <url>', 'broker to publish to', 'mqtt://127.0.0.1:1883')
  .option('-c, --config <file>', 'take the sensors of this config\'s simulated sources')
  .option('-n, --sensors <n>', 'number of generated sine sensors (without --config)', int, 10)
  .option('-r, --rate <hz>', 'readings per second per generated sensor', positive, 1)
  .option('-p, --prefix <topic>', 'topic prefix; the sensor id follows it', 'sensors/')
  .option('--seed <n>', 'random seed', int, 1)
  .option('--qos <0|1>', 'MQTT QoS', int, 0)
  .option('-d, --duration <duration>', 'stop after this long, e.g. 60s')
  .option('--username <name>')
  .option('--password <secret>')
  .action(async (o: { url: string; config?: string; sensors: number; rate: number; prefix: string; seed: number; qos: number; duration?: string; username?: string; password?: string }) =>
    exit(await (await tool<typeof import('../tools/simulate.js')>('simulate')).simulate({ ...o, qos: o.qos === 1 ? 1 : 0 }, processIo)),
  );

program
  .command('demo')
  .description('the whole story on this machine: simulated sensors, the agent, a stand-in fleet broker')
  .option('-d, --duration <duration>', 'stop after this long (default: until Ctrl-C)')
  .option('--outage-at <duration>', 'when the fleet broker goes down', '30s')
  .option('--outage-for <duration>', 'how long it stays down', '10s')
  .action(async (o: { duration?: string; outageAt: string; outageFor: string }) => exit(await (await tool<typeof import('../tools/demo.js')>('demo')).demo(o, processIo)));

// Positional: `outpost fleet --config F` is the service, `outpost fleet rebuild --config F` the
// subcommand's own option (without it the parent took --config and rebuild never saw it).
program.enablePositionalOptions();
const fleetCmd = program
  .command('fleet')
  .description('the fleet side: consume the devices\' upstream topics into a read model, with an HTTP API and a dashboard')
  .option('-c, --config <file>', 'fleet YAML config file')
  .action(async (o: { config?: string }) => {
    if (!o.config) {
      processIo.err('outpost fleet: --config <file> is required (see docs/fleet.md)');
      return exit(64);
    }
    exit(await (await import('./fleet.js')).fleet(o.config, processIo));
  });
fleetCmd
  .command('check')
  .description('validate a fleet config only: exit 0, or 78 with every problem as path: message')
  .requiredOption('-c, --config <file>', 'fleet YAML config file')
  .action(async (o: { config: string }) => exit((await import('./fleet.js')).check(o.config, processIo)));
fleetCmd
  .command('rebuild')
  .description('drop the projections and replay the event log into them')
  .requiredOption('-c, --config <file>', 'fleet YAML config file')
  .action(async (o: { config: string }) => exit(await (await import('./fleet.js')).rebuild(o.config, processIo)));

const dead = program.command('deadletter').description('inputs Outpost refused, with their reasons: list, replay (after a fix), purge');
const ids = (v: string, prev: number[] = []) => [...prev, int(v)];
for (const [action, what] of [
  ['list', 'show dead letters, newest first'],
  ['replay', 'feed dead letters back through the running agent (after fixing the config or the sensor); replayed ones are deleted'],
  ['purge', 'delete dead letters'],
] as const) {
  const c = dead
    .command(action)
    .description(what)
    .requiredOption('-c, --config <file>', 'YAML config file')
    .option('--reason <reason>', 'only this reason, e.g. too-many-sensors')
    .option('--id <n>', 'only this id (repeatable)', ids);
  if (action !== 'replay') c.option('--before <time>', 'only those received before this ISO 8601 time');
  if (action === 'purge') c.option('--all', 'every dead letter');
  if (action !== 'purge') c.option('--limit <n>', 'at most this many', int);
  if (action === 'list') c.option('--json', 'one JSON object per line');
  c.action(async (o: DeadLetterArgs) => exit(await (await import('./deadletter.js')).deadLetter(action, o, processIo)));
}

program
  .command('nab')
  .description('score detectors on the Numenta Anomaly Benchmark (corpus in nab/) and print the table')
  .option('--nab <dir>', 'a NAB directory (data/, labels/, results/)')
  .option('--detector <type>', 'only this detector (repeatable): novelty, zscore, ewma, cusum, mad, variance, flatline, windowedGaussian', (v: string, prev: string[] = []) => [...prev, v])
  .option('--json', 'print JSON')
  .action(async (o: { nab?: string; detector?: string[]; json?: boolean }) => exit(await (await tool<typeof import('../tools/nab-command.js')>('nab-command')).nab(o, processIo)));

program
  .command('keygen')
  .description('make an Ed25519 key pair for signed commands: <out>.key for the fleet, <out>.pub for the devices')
  .option('--out <prefix>', 'file name prefix', 'outpost-commands')
  .action(async (o: { out: string }) => exit((await import('./keygen.js')).keygen(o, processIo)));

program
  .command('cmd')
  .description('send a command to a device through the fleet service, wait for its reply; exit 0 done, 1 failed, 2 rejected, 3 expired, 4 timed out, 5 no fleet service')
  .requiredOption('--fleet <file>', 'the fleet YAML config (its http address and token)')
  .argument('<device>')
  .argument('<name>', 'ping, status, replay, flush, deadletter.replay, config.get, config.apply, gpio.set, alarm.ack, detector.reset, log.level')
  .option('--arg <key=value>', 'an argument (repeatable); the value is JSON when it parses', (v: string, prev: string[] = []) => [...prev, v])
  .option('--json <object>', 'the arguments as one JSON object')
  .option('--ttl <duration>', 'expires this long after it is sent (the fleet\'s commands.ttl by default)')
  .option('--timeout <duration>', 'how long to wait for the final reply', '30s')
  .option('--url <url>', 'the fleet service (default: from the config\'s http)')
  .action(async (device: string, name: string, o: Omit<import('./cmd.js').CmdArgs, 'device' | 'name'>) => exit(await (await import('./cmd.js')).cmd({ ...o, device, name }, processIo)));

program
  .command('evaluate')
  .description('run detectors over any corpus in NAB layout and print event-level figures (faults caught, false alarms per hour, delay, recall within 60 s vs chance), per sensor and per device (devices.json)')
  .option('--corpus <dir>', 'a corpus in NAB layout (default: nab/)')
  .option('--labels <file>', 'the windows file under labels/', 'combined_windows.json')
  .option('--detector <type>', 'only this detector (repeatable): novelty, zscore, ewma, cusum, mad, flatline', (v: string, prev: string[] = []) => [...prev, v])
  .option('--json', 'print JSON')
  .action(async (o: { corpus?: string; labels?: string; detector?: string[]; json?: boolean }) => exit(await (await tool<typeof import('../tools/evaluate-command.js')>('evaluate-command')).evaluateCommand(o, processIo)));

program
  .command('hash-password')
  .description('print a scrypt hash of a password (typed, or piped in) for broker.auth.users[].password')
  .action(async () => exit(await (await import('./hash-password.js')).hashPasswordCommand(processIo)));

await program.parseAsync();
// Every command has finished its work here (run only returns after a stop signal); timers that
// libraries leave behind must not keep the process alive.
process.exit(process.exitCode ?? 0);
