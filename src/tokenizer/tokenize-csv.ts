import { readCsv } from '../data/csv.js';
import { UserError } from '../util/errors.js';
import { ShardWriter, SHARD_FORMAT, SHARD_VERSION, type ShardManifest } from './shards.js';
import { loadTokenizer, type Tokenizer } from './tokenizer.js';
import { checkMaxLength, MODEL_MAX_LENGTH } from './truncate.js';
import { TOKENIZER_NAME, VOCAB_SHA256 } from './vocab.js';

/**
 * CSV text column → token-id shards for pretraining: one [CLS] … [SEP] sequence per row, truncated to max_length.
 * Rows are read as a stream and tokenized in batches between reads (tokenizing is synchronous, so a batch costs
 * one await instead of one per row); memory stays bounded by one batch plus one write buffer.
 */

export interface TokenizeCsvOptions {
  input: string;
  textColumn: string;
  out: string;
  maxLength?: number;
  shardBytes?: number;
  batchRows?: number;
  onProgress?: (bytesRead: number, size: number, sequences: number) => void;
}

export async function tokenizeCsv(opts: TokenizeCsvOptions): Promise<ShardManifest> {
  const maxLength = opts.maxLength ?? MODEL_MAX_LENGTH;
  checkMaxLength(maxLength, false);
  const reader = await readCsv(opts.input, { requireColumns: [opts.textColumn] }); // bad input fails fast
  const writer = await ShardWriter.create(opts.out, { shardBytes: opts.shardBytes });
  let tokenizer: Tokenizer;
  try {
    tokenizer = await loadTokenizer();
  } catch (e) {
    await writer.abort();
    throw e;
  }
  const started = process.hrtime.bigint(); // throughput excludes the one-off tokenizer load
  const batchRows = opts.batchRows ?? 256;
  let rows = 0;
  let skipped = 0;
  let sequences = 0;
  let tokens = 0;
  let truncated = 0;
  let unk = 0;
  let maxSeen = 0;

  async function flush(texts: string[]): Promise<void> {
    const encoded = texts.map((t) => tokenizer.encodeUint16(t, maxLength));
    for (const e of encoded) {
      if (e.content === 0) {
        skipped++; // only whitespace/control characters: nothing to learn from
        continue;
      }
      await writer.add(e.ids);
      sequences++;
      tokens += e.ids.length;
      if (e.truncated) truncated++;
      if (e.ids.length > maxSeen) maxSeen = e.ids.length;
      for (let i = 1; i < e.ids.length - 1; i++) if (e.ids[i] === tokenizer.unkId) unk++;
    }
  }

  try {
    let batch: string[] = [];
    for await (const { record } of reader.rows) {
      rows++;
      const text = record[opts.textColumn] ?? '';
      if (text.trim() === '') {
        skipped++;
        continue;
      }
      batch.push(text);
      if (batch.length >= batchRows) {
        await flush(batch);
        batch = [];
        opts.onProgress?.(reader.bytesRead(), reader.size, sequences);
      }
    }
    await flush(batch);
    if (sequences === 0) {
      throw new UserError(`${opts.input}: column "${opts.textColumn}" has no text in any of its ${rows} rows`);
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const content = tokens - 2 * sequences;
    return await writer.commit({
      format: SHARD_FORMAT,
      version: SHARD_VERSION,
      dtype: 'uint16',
      vocab_size: tokenizer.vocabSize,
      max_length: maxLength,
      tokenizer: { name: TOKENIZER_NAME, vocab_sha256: VOCAB_SHA256 },
      source: { file: opts.input, text_column: opts.textColumn, rows, skipped_empty: skipped },
      stats: {
        sequences,
        tokens,
        truncated,
        mean_length: sequences ? round(tokens / sequences, 3) : 0,
        max_length_seen: maxSeen,
        unk_rate: content ? round(unk / content, 6) : 0,
        tokens_per_s: Math.round(tokens / Math.max(seconds, 1e-9)),
      },
    });
  } catch (e) {
    await writer.abort();
    throw e;
  }
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
