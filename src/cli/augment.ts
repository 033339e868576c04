import type { Command } from 'commander';
import { augmentCsv } from '../data/augment.js';
import { log } from '../util/log.js';
import { progress } from '../util/progress.js';
import { example, float, globals, int } from './options.js';

/** `compactlm augment`: adds `augmented_text` (WordNet synonym replacement, then synonym insertion). */
export function registerAugment(program: Command): void {
  const cmd = program
    .command('augment')
    .description('add an augmented_text column: WordNet synonym replacement, then random insertion of synonyms')
    .argument('<input>', 'input CSV')
    .requiredOption('-o, --output <file>', 'output CSV (all input columns + augmented_text; written atomically)')
    .option('--text-column <name>', 'column holding the text', 'cleaned_text')
    .option('--synonym-p <p>', 'share of words replaced by a synonym (at least one when > 0)', float(0, 1), 0.1)
    .option('--insert-p <p>', 'share of words for which a synonym is inserted (at least one when > 0)', float(0, 1), 0.1)
    .option('--max-changes <n>', 'most words replaced (and inserted) per row, as nlpaug aug_max', int(1, 1_000_000), 10)
    .option('--seed <n>', 'random seed (overrides the global one)', int(0, 2 ** 32 - 1))
    .option('--json', 'print the summary as JSON on stdout', false)
    .action(async (input: string, o: { output: string; textColumn: string; synonymP: number; insertP: number; maxChanges: number; json: boolean }, command: Command) => {
      const { seed } = globals(command);
      const bar = progress('augment', 0, 'rows');
      const summary = await augmentCsv({
        input,
        output: o.output,
        textColumn: o.textColumn,
        synonymP: o.synonymP,
        insertP: o.insertP,
        maxChanges: o.maxChanges,
        seed,
        onProgress: (rows) => bar.update(rows),
      }).finally(() => bar.stop());
      log().info(
        { ...summary, seconds: +summary.seconds.toFixed(3), rowsPerSec: Math.round(summary.rowsPerSec), wordnetLoadMs: Math.round(summary.wordnetLoadMs) },
        `augmented ${summary.rows} rows (${summary.rowsChanged} changed): ${summary.wordsReplaced} words replaced, ${summary.wordsInserted} inserted, ${Math.round(summary.rowsPerSec)} rows/s`,
      );
      if (o.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
    });
  example(
    cmd,
    'compactlm augment data/clean.csv -o data/augmented.csv --synonym-p 0.1 --insert-p 0.1 --seed 7',
    'compactlm augment reviews.csv -o reviews.aug.csv --text-column review --json',
  );
}
