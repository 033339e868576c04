import { statSync } from 'node:fs';
import type { Command } from 'commander';
import { tokenizeCsv } from '../tokenizer/tokenize-csv.js';
import { loadTokenizer } from '../tokenizer/tokenizer.js';
import { MODEL_MAX_LENGTH, specialsCount } from '../tokenizer/truncate.js';
import { log } from '../util/log.js';
import { progress } from '../util/progress.js';
import { DEFAULT_TEXT_COLUMN } from './defaults.js';
import { addDeprecatedAlias, example, frozen, int, nonEmpty, preferAlias, refuseOverwritingInputs, usageError } from './options.js';

interface Flags {
  text?: string;
  pair?: string;
  textColumn: string;
  out?: string;
  seqLen: number;
  maxLength?: number;
  json: boolean;
}

/** One text (`text`, optionally `pair`) or a CSV column into shards (`input`, `out`). */
export type TokenizeSettings =
  | { mode: 'text'; text: string; pair?: string; seqLen: number; json: boolean }
  | { mode: 'csv'; input: string; textColumn: string; out: string; seqLen: number; json: boolean };

const USAGE = 'give --text "<text>" to see its tokens, or <input.csv> --out <dir> to write training shards';
const SEQ_LEN = int(specialsCount(false), MODEL_MAX_LENGTH);

/** The checked, frozen settings `tokenize` runs with. */
export function tokenizeSettings(input: string | undefined, o: Flags, command: Command): Readonly<TokenizeSettings> {
  const seqLen = preferAlias<number>(command, 'seqLen', 'maxLength', '--seq-len', '--max-length');
  if (o.text !== undefined) {
    if (input !== undefined) throw usageError(`tokenize: both --text and an input file given; ${USAGE}`);
    if (o.out !== undefined) throw usageError('tokenize: --out goes with an input file, not with --text');
    if (o.pair !== undefined && seqLen < specialsCount(true)) {
      throw usageError(`--seq-len ${seqLen} is too short with --pair: [CLS] A [SEP] B [SEP] needs at least ${specialsCount(true)}`);
    }
    return frozen({ mode: 'text', text: o.text, ...(o.pair !== undefined ? { pair: o.pair } : {}), seqLen, json: o.json });
  }
  if (input === undefined) throw usageError(`tokenize: nothing to tokenize; ${USAGE}`);
  if (o.pair !== undefined) throw usageError('tokenize: --pair goes with --text, not with an input file');
  if (o.out === undefined) throw usageError(`tokenize: ${input}: --out <dir> is required with an input file`);
  refuseOverwritingInputs([{ what: '--out', path: o.out }], [{ what: 'the input', path: input }]);
  return frozen({ mode: 'csv', input, textColumn: o.textColumn, out: o.out, seqLen, json: o.json });
}

/** `compactlm tokenize`: ids of one text (a table, or JSON), or a CSV column → token-id shards for pretraining. */
export function registerTokenize(program: Command): void {
  const cmd = program
    .command('tokenize')
    .description('bert-base-uncased WordPiece ids of a text, or of a CSV text column as training shards')
    .argument('[input]', 'CSV file whose --text-column is tokenized into shards in --out')
    .option('--text <text>', 'tokenize this text and print its tokens (--json: {input_ids, attention_mask, token_type_ids, tokens})')
    .option('--pair <text>', 'second segment with --text ([CLS] text [SEP] pair [SEP])')
    .option('--text-column <name>', 'CSV column holding the text', nonEmpty, DEFAULT_TEXT_COLUMN)
    .option('--out <dir>', 'folder for manifest.json and shard-NNNNN.bin/.idx (see datasets/README-shards.md)', nonEmpty)
    .option('--seq-len <n>', `ids per sequence, specials included (2–${MODEL_MAX_LENGTH}, 3 with --pair); longer texts are truncated, [SEP] kept`, SEQ_LEN, MODEL_MAX_LENGTH)
    .option('--json', 'print the result as JSON on stdout (--text: the encoding; a CSV: the shard statistics)', false);
  addDeprecatedAlias(cmd, '--max-length <n>', SEQ_LEN)
    .action(async (input: string | undefined, flags: Flags, command: Command) => {
      const s = tokenizeSettings(input, flags, command);
      if (s.mode === 'text') {
        const tokenizer = await loadTokenizer();
        const { truncated, ...encoding } = tokenizer.encode(s.text, s.pair ?? null, s.seqLen);
        process.stdout.write(s.json ? `${JSON.stringify(encoding)}\n` : formatTokens(encoding, truncated, s.pair !== undefined));
        return;
      }
      const size = statSync(s.input, { throwIfNoEntry: false })?.size ?? 0;
      const bar = progress('tokenize', size / 1e6, 'MB');
      const manifest = await tokenizeCsv({
        input: s.input,
        textColumn: s.textColumn,
        out: s.out,
        maxLength: s.seqLen,
        onProgress: (bytes, _size, sequences) => bar.update(bytes / 1e6, { sequences }),
      }).finally(() => bar.stop());
      const { stats, source, shards } = manifest;
      const summary = { out: s.out, rows: source.rows, skipped_empty: source.skipped_empty, shards: shards.length, ...stats };
      log().info(summary, `tokenize: ${source.rows} rows → ${stats.sequences} sequences, ${stats.tokens} tokens in ${shards.length} shard(s) in ${s.out}`);
      if (s.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
    });
  example(
    cmd,
    'compactlm tokenize --text "Héllo, wörld!"',
    'compactlm tokenize --text "Is it sunny?" --pair "It is raining." --seq-len 64 --json',
    'compactlm tokenize datasets/sotu.csv --text-column text --out data/sotu-shards --seq-len 128 --json',
  );
}

/** One row per token: position, token, id (and segment with a pair). */
function formatTokens(e: { input_ids: number[]; token_type_ids: number[]; tokens: string[] }, truncated: boolean, pair: boolean): string {
  const w = Math.max(5, ...e.tokens.map((t) => t.length));
  const lines = [`${'pos'.padStart(4)}  ${'token'.padEnd(w)}  ${'id'.padStart(5)}${pair ? '  segment' : ''}`];
  e.tokens.forEach((t, i) => lines.push(`${String(i).padStart(4)}  ${t.padEnd(w)}  ${String(e.input_ids[i]).padStart(5)}${pair ? `  ${e.token_type_ids[i]}` : ''}`));
  lines.push(`${e.tokens.length} tokens${truncated ? ' (truncated)' : ''}`);
  return `${lines.join('\n')}\n`;
}
