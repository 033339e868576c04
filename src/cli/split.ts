import { statSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { splitCsv, type SplitOptions } from '../data/split.js';
import { log } from '../util/log.js';
import { progress } from '../util/progress.js';
import { addDeprecatedAlias, example, frozen, globals, int, nonEmpty, preferAlias, refuseOverwritingInputs, usageError } from './options.js';
import { addWorkersOption } from './workers-option.js';

interface Flags {
  out?: string;
  outDir?: string;
  ratios: string;
  stratify?: string;
  workers: number;
  json: boolean;
}

/** The files split writes into --out. */
export const SPLIT_OUTPUTS = ['train.csv', 'val.csv', 'test.csv', 'split.json'] as const;

const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)$/;

/** --ratios: three non-negative decimals (train,val,test) that sum to 1 (within 1e-6). */
export function ratiosValue(v: string): string {
  const items = v.split(',').map((s) => s.trim());
  if (items.length !== 3) throw new InvalidArgumentError(`expected 3 comma-separated numbers (train,val,test), got ${items.length}.`);
  for (const item of items) {
    if (!DECIMAL.test(item)) throw new InvalidArgumentError(`"${item}" is not a decimal number.`);
    if (Number(item) < 0) throw new InvalidArgumentError(`"${item}" is negative.`);
  }
  const sum = items.reduce((a, s) => a + Number(s), 0);
  if (Math.abs(sum - 1) > 1e-6) throw new InvalidArgumentError(`the ratios must sum to 1, they sum to ${+sum.toPrecision(12)}.`);
  return v;
}

/** The checked, frozen settings `split` runs with. */
export function splitSettings(input: string, o: Flags, command: Command, seed: number): Readonly<Omit<SplitOptions, 'onProgress'>> {
  const outDir = preferAlias<string | undefined>(command, 'out', 'outDir', '--out', '--out-dir');
  if (outDir === undefined) throw usageError('split: where to? pass --out <dir> (the folder for train.csv, val.csv, test.csv and split.json)');
  refuseOverwritingInputs(SPLIT_OUTPUTS.map((f) => ({ what: '--out', path: join(outDir, f) })), [{ what: 'the input', path: input }]);
  return frozen({ input, outDir, ratios: o.ratios, seed, workers: o.workers, ...(o.stratify !== undefined ? { stratify: o.stratify } : {}) });
}

/** `compactlm split`: train/val/test CSVs with exact, seeded, optionally stratified counts. */
export function registerSplit(program: Command): void {
  const cmd = program
    .command('split')
    .description('Split a CSV into train.csv, val.csv and test.csv (+ split.json) with exact counts; two streaming passes.')
    .argument('<input>', 'input CSV (UTF-8, with a header row)')
    .option('--out <dir>', 'folder for train.csv, val.csv, test.csv and split.json (created if missing; required)', nonEmpty)
    .option('--ratios <train,val,test>', 'fractions of the rows for each part; must sum to 1', ratiosValue, '0.7,0.15,0.15')
    .option('--seed <n>', 'random seed (default: the global --seed, 42)', int(0, 2 ** 32 - 1))
    .option('--stratify <column>', 'keep each class of this column in the same proportion in every part', nonEmpty)
    .option('--json', 'print the summary (the content of split.json) on stdout', false);
  addDeprecatedAlias(cmd, '--out-dir <dir>', nonEmpty)
    .addHelpText(
      'after',
      `
Counts are exact: each part gets floor(n x ratio) rows and the rows left over go one each to the parts with the
largest fractional remainders, ties to the earlier part (largest-remainder rounding): 1000 rows -> 700/150/150,
7 rows -> 5/1/1. With --stratify the same rounding is applied per class and adjusted so the part totals are
still exact and every class is within one row of its exact share in every part. Which rows go where is drawn
with the seed; rows keep their original order within each part. Same input + seed = byte-identical output.
Nothing is written to --out unless all four files are complete; the input is never overwritten.`,
    )
    .action(async (input: string, o: Flags, command: Command) => {
      const settings = splitSettings(input, o, command, globals(command).seed);
      // Two passes over the file: the bar counts the MB read in both.
      const size = statSync(input, { throwIfNoEntry: false })?.size ?? 0;
      const bar = progress('split', (2 * size) / 1e6, 'MB');
      try {
        const summary = await splitCsv({
          ...settings,
          onProgress: (pass, bytes, total) => bar.update(((pass - 1) * total + bytes) / 1e6, { pass: `${pass}/2` }),
        });
        bar.stop();
        const { train, val, test } = summary.counts;
        log().info({ ...summary.counts, rows: summary.rows, out: settings.outDir }, `split: ${summary.rows} rows -> train ${train}, val ${val}, test ${test} in ${settings.outDir}`);
        if (o.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
      } finally {
        bar.stop();
      }
    });
  addWorkersOption(cmd);
  example(
    cmd,
    'compactlm split reviews.clean.csv --out data/ --ratios 0.8,0.1,0.1 --seed 7 --stratify label',
  );
}
