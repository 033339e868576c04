import type { Command } from 'commander';
import { splitCsv } from '../data/split.js';
import { log } from '../util/log.js';
import { progress } from '../util/progress.js';
import { example, globals, int } from './options.js';

/** `compactlm split`: train/val/test CSVs with exact, seeded, optionally stratified counts. */
export function registerSplit(program: Command): void {
  const cmd = program
    .command('split')
    .description('Split a CSV into train.csv, val.csv and test.csv (+ split.json) with exact counts; two streaming passes.')
    .argument('<input>', 'input CSV (UTF-8, with a header row)')
    .requiredOption('--out-dir <dir>', 'folder for train.csv, val.csv, test.csv and split.json (created if missing)')
    .option('--ratios <train,val,test>', 'fractions of the rows for each part; must sum to 1', '0.7,0.15,0.15')
    .option('--seed <n>', 'random seed (default: the global --seed, 42)', int(0, 2 ** 32 - 1))
    .option('--stratify <column>', "keep each class of this column in the same proportion in every part")
    .option('--json', 'print the summary (the content of split.json) on stdout', false)
    .addHelpText(
      'after',
      `
Counts are exact: each part gets floor(n x ratio) rows and the rows left over go one each to the parts with the
largest fractional remainders, ties to the earlier part (largest-remainder rounding): 1000 rows -> 700/150/150,
7 rows -> 5/1/1. With --stratify the same rounding is applied per class and adjusted so the part totals are
still exact and every class is within one row of its exact share in every part. Which rows go where is drawn
with the seed; rows keep their original order within each part. Same input + seed = byte-identical output.
Nothing is written to --out-dir unless all four files are complete.`,
    )
    .action(async (input: string, o: { outDir: string; ratios: string; stratify?: string; json: boolean }, command: Command) => {
      const { seed } = globals(command);
      const bar = progress('split', 0, 'MB');
      try {
        const summary = await splitCsv({
          input,
          outDir: o.outDir,
          ratios: o.ratios,
          seed,
          stratify: o.stratify,
          onProgress: (pass, bytes, size) => bar.update(Math.round(((pass - 1) * size + bytes) / 1e6)),
        });
        bar.stop();
        const { train, val, test } = summary.counts;
        log().info({ ...summary.counts, rows: summary.rows, outDir: o.outDir }, `split: ${summary.rows} rows -> train ${train}, val ${val}, test ${test}`);
        if (o.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
      } finally {
        bar.stop();
      }
    });
  example(
    cmd,
    'compactlm split reviews.clean.csv --out-dir data/ --ratios 0.8,0.1,0.1 --seed 7 --stratify label',
  );
}
