import type { Command } from 'commander';
import { UserError } from '../util/errors.js';

// PLACEHOLDER during development: replaced by the real command before commit.
export function registerAugment(program: Command): void {
  program.command('augment').description('(being built)').action(() => {
    throw new UserError('augment: not built yet');
  });
}
