import type { Command } from 'commander';
import { defaultWorkers } from '../data/chunk-pool.js';
import { int } from './options.js';

/** `--workers <n>` of the data commands: the worker threads that parse and transform chunks of rows. */
export function addWorkersOption(cmd: Command): Command {
  return cmd.option(
    '--workers <n>',
    'worker threads that parse and transform chunks of rows, one per core by default (1: all in one thread); the output is the same for any n',
    int(1, 256),
    defaultWorkers(),
  );
}
