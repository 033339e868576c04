import type { Command } from 'commander';
import { UserError } from '../util/errors.js';

// PLACEHOLDER during development: replaced by the real command before commit.
export function registerPreprocess(program: Command): void {
  program.command('preprocess').description('(being built)').action(() => {
    throw new UserError('preprocess: not built yet');
  });
}
