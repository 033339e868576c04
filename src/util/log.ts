import pino, { type Logger } from 'pino';
import { prettyFactory } from 'pino-pretty';
import { terminal, type Terminal } from './progress.js';

/**
 * Structured logs on stderr (stdout is for results). Readable lines by default; one JSON object per line with
 * --log-json. Every line goes through the terminal that progress bars share (src/util/progress.ts): on a TTY it
 * clears the bar, is written, and the bar is redrawn below it. Writes are synchronous, so nothing is lost when the
 * CLI exits on an error.
 */
let current: Logger = createLogger({ json: false, verbose: false });

export interface LoggerOptions {
  json: boolean;
  verbose: boolean;
  /** Where lines go (default: the process-wide terminal, looked up at each line). */
  terminal?: Terminal;
}

export function createLogger(opts: LoggerOptions): Logger {
  const level = process.env.COMPACTLM_LOG_LEVEL ?? (opts.verbose ? 'debug' : 'info');
  const out = () => opts.terminal ?? terminal();
  if (opts.json) return pino({ level, base: undefined }, { write: (line: string) => out().writeLog(line) });
  const colorize = opts.terminal ? !!opts.terminal.stream.isTTY : !!process.stderr.isTTY;
  const pretty = prettyFactory({ colorize, ignore: 'pid,hostname', singleLine: true });
  return pino({ level, base: undefined }, { write: (line: string) => out().writeLog(pretty(line)) });
}

export function configureLogger(opts: LoggerOptions): Logger {
  current = createLogger(opts);
  return current;
}

/** The process-wide logger, configured by the CLI's global flags. */
export function log(): Logger {
  return current;
}
