import type { Command } from 'commander';
import { tokenizeCsv } from '../tokenizer/tokenize-csv.js';
import { loadTokenizer } from '../tokenizer/tokenizer.js';
import { checkMaxLength, MODEL_MAX_LENGTH } from '../tokenizer/truncate.js';
import { UserError } from '../util/errors.js';
import { log } from '../util/log.js';
import { progress } from '../util/progress.js';
import { example, int } from './options.js';

interface TokenizeOptions {
  text?: string;
  pair?: string;
  textColumn?: string;
  out?: string;
  maxLength: number;
  json: boolean;
}

const USAGE = 'give --text "<text>" to see its tokens, or <input.csv> --text-column <c> --out <dir> to write training shards';

/** `compactlm tokenize`: ids of one text (JSON on stdout), or a CSV column → token-id shards for pretraining. */
export function registerTokenize(program: Command): void {
  const cmd = program
    .command('tokenize')
    .description('bert-base-uncased WordPiece ids of a text (JSON), or of a CSV text column as training shards')
    .argument('[input]', 'CSV file whose --text-column is tokenized into shards in --out')
    .option('--text <text>', 'tokenize this text and print {input_ids, attention_mask, token_type_ids, tokens}')
    .option('--pair <text>', 'second segment with --text ([CLS] text [SEP] pair [SEP])')
    .option('--text-column <name>', 'CSV column holding the text')
    .option('--out <dir>', 'folder for manifest.json and shard-NNNNN.bin/.idx (see datasets/README-shards.md)')
    .option('--max-length <n>', 'ids per sequence, specials included; longer texts are truncated', int(1, 1e9), MODEL_MAX_LENGTH)
    .option('--json', 'print the shard statistics as JSON on stdout', false)
    .action(async (input: string | undefined, o: TokenizeOptions) => {
      if (o.text !== undefined) {
        if (input !== undefined) throw new UserError(`tokenize: both --text and an input file given; ${USAGE}`, 2);
        checkMaxLength(o.maxLength, o.pair !== undefined);
        const tokenizer = await loadTokenizer();
        const { truncated: _t, ...encoding } = tokenizer.encode(o.text, o.pair ?? null, o.maxLength);
        process.stdout.write(`${JSON.stringify(encoding)}\n`);
        return;
      }
      if (input === undefined) throw new UserError(`tokenize: nothing to tokenize; ${USAGE}`, 2);
      if (o.pair !== undefined) throw new UserError('tokenize: --pair goes with --text, not with an input file', 2);
      if (!o.textColumn) throw new UserError(`tokenize: ${input}: --text-column is required with an input file`, 2);
      if (!o.out) throw new UserError(`tokenize: ${input}: --out <dir> is required with an input file`, 2);
      checkMaxLength(o.maxLength, false);
      const bar = progress('tokenize', 0, 'MB');
      let manifest;
      try {
        manifest = await tokenizeCsv({
          input,
          textColumn: o.textColumn,
          out: o.out,
          maxLength: o.maxLength,
          onProgress: (bytes, size, sequences) => bar.update(Math.round(bytes / 1e6), { of: `${Math.round(size / 1e6)}MB`, sequences }),
        });
      } finally {
        bar.stop();
      }
      const { stats, source, shards } = manifest;
      log().info({ out: o.out, rows: source.rows, skipped_empty: source.skipped_empty, shards: shards.length, ...stats }, 'tokenize: shards written');
      if (o.json) process.stdout.write(`${JSON.stringify({ out: o.out, rows: source.rows, skipped_empty: source.skipped_empty, shards: shards.length, ...stats })}\n`);
    });
  example(
    cmd,
    'compactlm tokenize --text "Héllo, wörld!"',
    'compactlm tokenize --text "Is it sunny?" --pair "It is raining." --max-length 64',
    'compactlm tokenize datasets/sotu.csv --text-column text --out data/sotu-shards --json',
  );
}
