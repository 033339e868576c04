import type { Command } from 'commander';
import { UserError } from '../util/errors.js';

// PLACEHOLDER during development: replaced by the real command before commit.
export function registerTokenize(program: Command): void {
  program.command('tokenize').description('(being built)').action(() => {
    throw new UserError('tokenize: not built yet');
  });
}
