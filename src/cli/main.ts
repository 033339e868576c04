import { CommanderError } from 'commander';
import { removeTempsSync } from '../util/atomic.js';
import { fsError, UserError } from '../util/errors.js';
import { terminal } from '../util/progress.js';
import { buildProgram } from './program.js';

/** One line on stderr, after clearing a progress bar. */
function errorLine(message: string): void {
  terminal().close();
  terminal().writeLog(`compactlm: error: ${message}\n`);
}

/**
 * A closed pipe (`compactlm … | head -1`) ends the command quietly with exit 0, as `cat` does; any other stdout
 * failure (a full disk, /dev/full) is one line and exit 1. Either way nothing more is written.
 */
function handleStdoutErrors(): void {
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    removeTempsSync();
    if (e.code === 'EPIPE') process.exit(0);
    const worded = fsError(e, 'stdout');
    errorLine(worded instanceof Error ? worded.message : `stdout: ${e.message}`);
    process.exit(1);
  });
}

/**
 * Ctrl-C or `kill`: remove this process's temporary files and folders, then exit 128 + signal. A command that
 * handles the signal itself (serve drains its requests) registers its own listener; then this one stands aside.
 */
function handleSignals(): void {
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    process.on(signal, () => {
      if (process.listenerCount(signal) > 1) return;
      removeTempsSync();
      errorLine(`interrupted (${signal}); temporary files removed`);
      process.exit(code);
    });
  }
}

/** Entry point of bin/compactlm: one line per error, a stack trace only with --verbose. */
async function main(argv: string[]): Promise<void> {
  handleStdoutErrors();
  handleSignals();
  const program = (await buildProgram(argv.slice(2))).exitOverride();
  const verbose = argv.includes('--verbose');
  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      // commander already printed its message (or help/version)
      process.exitCode = e.exitCode;
      return;
    }
    const err = fsError(e) as Error;
    if (verbose) {
      terminal().close();
      terminal().writeLog(`${(e as Error).stack ?? err.message}\n`);
    } else errorLine(err.message.split('\n')[0]);
    process.exitCode = err instanceof UserError ? err.exitCode : 1;
  }
}

await main(process.argv);
