import { createRequire } from 'node:module';
import type { Logger } from 'pino';
import { terminal, type Terminal } from './progress.js';

/**
 * Structured logs on stderr (stdout is for results). Readable lines by default; one JSON object per line with
 * --log-json. Every line goes through the terminal that progress bars share (src/util/progress.ts): on a TTY it
 * clears the bar, is written, and the bar is redrawn below it. Writes are synchronous, so nothing is lost when the
 * CLI exits on an error.
 *
 * pino and pino-pretty are loaded on the first line logged, not at start: a command that logs nothing (a one-text
 * `compactlm infer`) does not pay for them.
 */
const require = createRequire(import.meta.url);

export interface LoggerOptions {
  json: boolean;
  verbose: boolean;
  /** Where lines go (default: the process-wide terminal, looked up at each line). */
  terminal?: Terminal;
}

let options: LoggerOptions = { json: false, verbose: false };
let current: Logger | null = null;

export function createLogger(opts: LoggerOptions): Logger {
  const pino = require('pino') as typeof import('pino').default;
  const level = process.env.COMPACTLM_LOG_LEVEL ?? (opts.verbose ? 'debug' : 'info');
  const out = () => opts.terminal ?? terminal();
  if (opts.json) return pino({ level, base: undefined }, { write: (line: string) => out().writeLog(line) });
  const { prettyFactory } = require('pino-pretty') as typeof import('pino-pretty');
  const colorize = opts.terminal ? !!opts.terminal.stream.isTTY : !!process.stderr.isTTY;
  const pretty = prettyFactory({ colorize, ignore: 'pid,hostname', singleLine: true });
  return pino({ level, base: undefined }, { write: (line: string) => out().writeLog(pretty(line)) });
}

/** Sets the options of the process-wide logger (made when first used). */
export function configureLogger(opts: LoggerOptions): void {
  options = opts;
  current = null;
}

/** The process-wide logger, configured by the CLI's global flags. */
export function log(): Logger {
  current ??= createLogger(options);
  return current;
}
