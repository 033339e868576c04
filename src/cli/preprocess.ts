import type { Command } from 'commander';
import { preprocessCsv, RECIPE_NAMES } from '../data/clean.js';
import { log } from '../util/log.js';
import { progress } from '../util/progress.js';
import { example } from './options.js';

/** `compactlm preprocess`: clean a text column into `cleaned_text`, streaming, keeping every other column. */
export function registerPreprocess(program: Command): void {
  const cmd = program
    .command('preprocess')
    .description('Clean the text column of a CSV into a new cleaned_text column (streams any file size).')
    .argument('<input>', 'input CSV (UTF-8, with a header row)')
    .requiredOption('-o, --output <file>', 'output CSV: every input column plus cleaned_text')
    .option('--text-column <name>', 'column holding the text', 'text')
    .option('--recipe <name>', `cleaning recipe: ${RECIPE_NAMES.join(' | ')} (see below)`, 'lm')
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
Rows whose text is empty after cleaning are dropped and counted.`,
    )
    .action(async (input: string, o: { output: string; textColumn: string; recipe: string; skipBadRows: boolean; json: boolean }) => {
      const bar = progress('preprocess', 0, 'MB');
      try {
        const summary = await preprocessCsv({
          input,
          output: o.output,
          textColumn: o.textColumn,
          recipe: o.recipe,
          skipBadRows: o.skipBadRows,
          onBadRow: (message) => log().warn(`skipped ${message}`),
          onProgress: (_rows, bytes) => bar.update(Math.round(bytes / 1e6)),
        });
        bar.stop();
        const { rowsIn, rowsOut, dropped, skipped, mbPerSec } = summary;
        log().info(
          { rowsIn, rowsOut, dropped, skipped, mbPerSec: +mbPerSec.toFixed(2) },
          `preprocess: ${rowsIn} rows in, ${rowsOut} out, ${dropped} dropped (empty after cleaning), ${skipped} skipped (bad rows); ${mbPerSec.toFixed(1)} MB/s`,
        );
        if (o.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
      } finally {
        bar.stop();
      }
    });
  example(
    cmd,
    'compactlm preprocess reviews.csv -o reviews.clean.csv --text-column review',
    'compactlm preprocess reviews.csv -o seed.csv --recipe seed --skip-bad-rows --json',
  );
}
