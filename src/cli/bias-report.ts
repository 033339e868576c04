import type { Command } from 'commander';
import { UserError } from '../util/errors.js';

// PLACEHOLDER during development: replaced by the real command before commit.
export function registerBiasReport(program: Command): void {
  program.command('bias-report').description('(being built)').action(() => {
    throw new UserError('bias-report: not built yet');
  });
}
