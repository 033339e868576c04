import type { Command } from 'commander';
import { augmentCsv, type AugmentCsvOptions } from '../data/augment.js';
import { log } from '../util/log.js';
import { progress, type Progress } from '../util/progress.js';
import { DEFAULT_TEXT_COLUMN } from './defaults.js';
import { example, float, frozen, globals, int, nonEmpty, refuseOverwritingInputs } from './options.js';
import { addWorkersOption } from './workers-option.js';

interface Flags {
  output: string;
  textColumn: string;
  synonymP: number;
  insertP: number;
  maxChanges: number;
  workers: number;
  json: boolean;
}

/** The checked, frozen settings `augment` runs with. */
export function augmentSettings(input: string, o: Flags, seed: number): Readonly<Omit<AugmentCsvOptions, 'onProgress'>> {
  refuseOverwritingInputs([{ what: '-o', path: o.output }], [{ what: 'the input', path: input }]);
  return frozen({ input, output: o.output, textColumn: o.textColumn, synonymP: o.synonymP, insertP: o.insertP, maxChanges: o.maxChanges, seed, workers: o.workers });
}

/** `compactlm augment`: adds `augmented_text` (WordNet synonym replacement, then synonym insertion). */
export function registerAugment(program: Command): void {
  const cmd = program
    .command('augment')
    .description('add an augmented_text column: WordNet synonym replacement, then random insertion of synonyms')
    .argument('<input>', 'input CSV')
    .requiredOption('-o, --output <file>', 'output CSV (all input columns + augmented_text; written atomically)', nonEmpty)
    .option('--text-column <name>', 'column holding the text (after `compactlm preprocess`: cleaned_text)', nonEmpty, DEFAULT_TEXT_COLUMN)
    .option('--synonym-p <p>', 'share of words replaced by a synonym (at least one when > 0)', float(0, 1), 0.1)
    .option('--insert-p <p>', 'share of words for which a synonym is inserted (at least one when > 0)', float(0, 1), 0.1)
    .option('--max-changes <n>', 'most words replaced (and inserted) per row, as nlpaug aug_max', int(1, 1_000_000), 10)
    .option('--seed <n>', 'random seed (overrides the global one)', int(0, 2 ** 32 - 1))
    .option('--json', 'print the summary as JSON on stdout', false)
    .action(async (input: string, o: Flags, command: Command) => {
      const settings = augmentSettings(input, o, globals(command).seed);
      let bar: Progress | undefined;
      const summary = await augmentCsv({
        ...settings,
        onProgress: (rows, bytes, size) => (bar ??= progress('augment', size / 1e6, 'MB')).update(bytes / 1e6, { rows }),
      }).finally(() => bar?.stop());
      log().info(
        { ...summary, seconds: +summary.seconds.toFixed(3), rowsPerSec: Math.round(summary.rowsPerSec), wordnetLoadMs: Math.round(summary.wordnetLoadMs) },
        `augmented ${summary.rows} rows (${summary.rowsChanged} changed): ${summary.wordsReplaced} words replaced, ${summary.wordsInserted} inserted, ${Math.round(summary.rowsPerSec)} rows/s`,
      );
      if (o.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
    });
  addWorkersOption(cmd);
  example(
    cmd,
    'compactlm augment data/clean.csv -o data/augmented.csv --text-column cleaned_text --synonym-p 0.1 --insert-p 0.1 --seed 7',
    'compactlm augment reviews.csv -o reviews.aug.csv --text-column review --json',
  );
}
