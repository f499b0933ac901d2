// JSON logs to stdout, which systemd sends to the journal; nothing is written to the SD card
// by the logger itself.
import type { Logger as PinoLogger, DestinationStream } from 'pino';
import { requireCjs } from './require-cjs.js';

const { pino } = requireCjs('pino') as typeof import('pino');

export type Logger = PinoLogger;

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino({ level, base: undefined, redact: { paths: ['*.password', 'password'], censor: '[redacted]' } }, destination);
}

/** A logger that discards everything (tests, CLI commands that print for humans). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
