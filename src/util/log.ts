import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';

/**
 * Structured logs on stderr (stdout is for results). Readable lines on a TTY or by default; one JSON object per
 * line with --log-json. Synchronous destinations, so nothing is lost when the CLI exits on an error.
 */
let current: Logger = createLogger({ json: false, verbose: false });

export function createLogger(opts: { json: boolean; verbose: boolean }): Logger {
  const level = process.env.COMPACTLM_LOG_LEVEL ?? (opts.verbose ? 'debug' : 'info');
  if (opts.json) return pino({ level, base: undefined }, pino.destination({ fd: 2, sync: true }));
  const stream = pretty({ destination: 2, sync: true, colorize: process.stderr.isTTY, ignore: 'pid,hostname', singleLine: true });
  return pino({ level, base: undefined }, stream);
}

export function configureLogger(opts: { json: boolean; verbose: boolean }): Logger {
  current = createLogger(opts);
  return current;
}

/** The process-wide logger, configured by the CLI's global flags. */
export function log(): Logger {
  return current;
}
