import { CommanderError } from 'commander';
import { UserError } from '../util/errors.js';
import { terminal } from '../util/progress.js';
import { buildProgram } from './program.js';

/** Entry point of bin/compactlm: one line per error, a stack trace only with --verbose. */
async function main(argv: string[]): Promise<void> {
  const program = buildProgram().exitOverride();
  const verbose = argv.includes('--verbose');
  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      // commander already printed its message (or help/version)
      process.exitCode = e.exitCode;
      return;
    }
    const err = e as Error;
    terminal().close(); // clear a progress bar: the error gets its own line
    if (verbose) terminal().writeLog(`${err.stack ?? err.message}\n`);
    else terminal().writeLog(`compactlm: error: ${err.message.split('\n')[0]}\n`);
    process.exitCode = e instanceof UserError ? e.exitCode : 1;
  }
}

await main(process.argv);
