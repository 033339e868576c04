import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openShards } from '../../../src/tokenizer/shards.js';
import { tokenizeCsv } from '../../../src/tokenizer/tokenize-csv.js';
import { loadTokenizer } from '../../../src/tokenizer/tokenizer.js';

const fixture = fileURLToPath(new URL('../../fixtures/tok-small.csv', import.meta.url));
let dir: string;
beforeAll(async () => {
  await loadTokenizer(); // once per file: the first load of transformers.js is the slow part
});
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tok-csv-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function readAll(out: string): Promise<number[][]> {
  const set = await openShards(out);
  const seqs: number[][] = [];
  for await (const s of set.sequences()) seqs.push(Array.from(s));
  return seqs;
}

test('one [CLS] … [SEP] sequence per row with text; empty rows skipped and counted', async () => {
  const out = join(dir, 'shards');
  const m = await tokenizeCsv({ input: fixture, textColumn: 'text', out });
  const tok = await loadTokenizer();
  const seqs = await readAll(out);
  expect(seqs.map((s) => tok.idsToTokens(s))).toEqual([
    ['[CLS]', 'hello', ',', 'world', '!', '[SEP]'],
    ['[CLS]', 'paris', 'is', 'the', '[MASK]', 'of', 'france', '.', '[SEP]'],
    ['[CLS]', 'a', 'quoted', 'new', '##line', ',', 'and', '"', 'quotes', '"', '.', '[SEP]'],
    ['[CLS]', '日', '本', '語', 'テ', '##キ', '##ス', '##ト', '[SEP]'],
    ['[CLS]', 'i', 'love', '[UNK]', 'it', '[SEP]'],
  ]);
  expect(seqs[0]).toEqual([101, 7592, 1010, 2088, 999, 102]);
  // rows 2 and 4 are blank, row 8 holds only control characters
  expect(m.source).toEqual({ file: fixture, text_column: 'text', rows: 8, skipped_empty: 3 });
  expect(m).toMatchObject({ format: 'compactlm-token-shards', version: 1, dtype: 'uint16', vocab_size: 30522, max_length: 512 });
  expect(m.tokenizer).toEqual({ name: 'bert-base-uncased', vocab_sha256: '07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3' });
  const tokens = 6 + 9 + 12 + 9 + 6;
  expect(m.stats).toMatchObject({ sequences: 5, tokens, truncated: 0, max_length_seen: 12 });
  expect(m.stats.mean_length).toBeCloseTo(tokens / 5, 3);
  expect(m.stats.unk_rate).toBeCloseTo(1 / (tokens - 10), 6);
  expect(m.stats.tokens_per_s).toBeGreaterThan(0);
});

test('--max-length truncates every row to max_length ids ending in [SEP]', async () => {
  const out = join(dir, 'shards');
  const m = await tokenizeCsv({ input: fixture, textColumn: 'text', out, maxLength: 5 });
  const seqs = await readAll(out);
  expect(seqs.map((s) => s.length)).toEqual([5, 5, 5, 5, 5]);
  for (const s of seqs) expect([s[0], s[4]]).toEqual([101, 102]);
  expect(m.stats).toMatchObject({ truncated: 5, max_length_seen: 5, tokens: 25 });
});

test('a long text gives exactly 512 ids', async () => {
  const input = join(dir, 'long.csv');
  writeFileSync(input, `text\n"${'token '.repeat(1000)}"\nshort\n`);
  const out = join(dir, 'shards');
  const m = await tokenizeCsv({ input, textColumn: 'text', out });
  const seqs = await readAll(out);
  expect(seqs[0]).toHaveLength(512);
  expect([seqs[0][0], seqs[0][511]]).toEqual([101, 102]);
  expect(m.stats.truncated).toBe(1);
});

test('errors leave no output: missing column, missing file, no text at all', async () => {
  const out = join(dir, 'shards');
  await expect(tokenizeCsv({ input: fixture, textColumn: 'body', out })).rejects.toThrow(/tok-small.csv:1: no column "body" \(columns: "id", "text", "label"\)/);
  await expect(tokenizeCsv({ input: join(dir, 'nope.csv'), textColumn: 'text', out })).rejects.toThrow(/nope.csv: file not found/);
  const blank = join(dir, 'blank.csv');
  writeFileSync(blank, 'text,x\n,1\n" ",2\n');
  await expect(tokenizeCsv({ input: blank, textColumn: 'text', out })).rejects.toThrow(/column "text" has no text in any of its 2 rows/);
  await expect(tokenizeCsv({ input: fixture, textColumn: 'text', out, maxLength: 1 })).rejects.toThrow(/sequence length 1/);
  expect(readdirSync(dir).sort()).toEqual(['blank.csv']);
});
