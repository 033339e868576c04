import type { Command } from 'commander';
import { UserError } from '../util/errors.js';

// PLACEHOLDER during development: replaced by the real command before commit.
export function registerPlot(program: Command): void {
  program.command('plot').description('(being built)').action(() => {
    throw new UserError('plot: not built yet');
  });
}
