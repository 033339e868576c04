import { statSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import type { Command } from 'commander';
import { preprocessCsv, RECIPE_NAMES, type PreprocessOptions } from '../data/clean.js';
import { log } from '../util/log.js';
import { progress } from '../util/progress.js';
import { DEFAULT_TEXT_COLUMN } from './defaults.js';
import { choice, example, frozen, nonEmpty, refuseOverwritingInputs } from './options.js';
import { addWorkersOption } from './workers-option.js';

interface Flags {
  output?: string;
  textColumn: string;
  recipe: string;
  skipBadRows: boolean;
  workers: number;
  json: boolean;
}

/** raw.csv → raw.clean.csv, next to the input. */
export function defaultCleanOutput(input: string): string {
  const ext = extname(input);
  return join(dirname(input), `${basename(input, ext)}.clean.csv`);
}

/** The checked, frozen settings `preprocess` runs with (callbacks are added by the action). */
export function preprocessSettings(input: string, o: Flags): Readonly<Omit<PreprocessOptions, 'onBadRow' | 'onProgress'>> {
  const output = o.output ?? defaultCleanOutput(input);
  refuseOverwritingInputs([{ what: o.output === undefined ? 'the default output' : '-o', path: output }], [{ what: 'the input', path: input }]);
  return frozen({ input, output, textColumn: o.textColumn, recipe: o.recipe, skipBadRows: o.skipBadRows, workers: o.workers });
}

/** `compactlm preprocess`: clean a text column into `cleaned_text`, streaming, keeping every other column. */
export function registerPreprocess(program: Command): void {
  const cmd = program
    .command('preprocess')
    .description('Clean the text column of a CSV into a new cleaned_text column (streams any file size).')
    .argument('<input>', 'input CSV (UTF-8, with a header row)')
    .option('-o, --output <file>', 'output CSV: every input column plus cleaned_text (default: <input>.clean.csv next to the input)', nonEmpty)
    .option('--text-column <name>', 'column holding the text', nonEmpty, DEFAULT_TEXT_COLUMN)
    .option('--recipe <name>', `cleaning recipe: ${RECIPE_NAMES.join(' | ')} (see below)`, choice(RECIPE_NAMES), 'lm')
    .option('--skip-bad-rows', 'skip rows with the wrong number of fields (warning with file:line) instead of failing', false)
    .option('--json', 'print the summary as JSON on stdout', false)
    .addHelpText(
      'after',
      `
Recipes:
  lm    text for LM training: Unicode NFKC, control and invisible characters removed, newlines and tabs turned
        into spaces, whitespace collapsed and trimmed; case, digits, punctuation and stopwords are kept.
  seed  the original Python seed's clean_text: lowercase, delete everything but ASCII letters and whitespace
        (Python 3's whitespace, which includes U+001C-U+001F and U+0085), split on whitespace, drop NLTK's
        English stopwords, join with single spaces.
Rows whose text is empty after cleaning are dropped and counted. The input is never overwritten.`,
    )
    .action(async (input: string, o: Flags) => {
      const settings = preprocessSettings(input, o);
      const where = o.output === undefined ? `wrote ${settings.output} (the default: no -o given)` : `wrote ${settings.output}`;
      const size = statSync(input, { throwIfNoEntry: false })?.size ?? 0;
      const bar = progress('preprocess', size / 1e6, 'MB');
      try {
        const summary = await preprocessCsv({
          ...settings,
          onBadRow: (message) => log().warn(`skipped ${message}`),
          onProgress: (rows, bytes) => bar.update(bytes / 1e6, { rows }),
        });
        bar.stop();
        const { rowsIn, rowsOut, dropped, skipped, mbPerSec } = summary;
        log().info(
          { rowsIn, rowsOut, dropped, skipped, mbPerSec: +mbPerSec.toFixed(2), output: settings.output },
          `preprocess: ${rowsIn} rows in, ${rowsOut} out, ${dropped} dropped (empty after cleaning), ${skipped} skipped (bad rows); ${mbPerSec.toFixed(1)} MB/s; ${where}`,
        );
        if (o.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
      } finally {
        bar.stop();
      }
    });
  addWorkersOption(cmd);
  example(
    cmd,
    'compactlm preprocess raw.csv                                                  # → raw.clean.csv',
    'compactlm preprocess reviews.csv -o reviews.clean.csv --text-column review',
    'compactlm preprocess reviews.csv -o seed.csv --recipe seed --skip-bad-rows --json',
  );
}
