import type { Command } from 'commander';
import { UserError } from '../util/errors.js';

// PLACEHOLDER during development: replaced by the real command before commit.
export function registerSplit(program: Command): void {
  program.command('split').description('(being built)').action(() => {
    throw new UserError('split: not built yet');
  });
}
