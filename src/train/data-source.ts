/**
 * Training text → packed blocks of token ids (packing.ts), from either input `pretrain` accepts:
 *   - a CSV file: the text column is tokenized on the fly (bert-base-uncased, no truncation: packing cuts long
 *     documents into blocks, so nothing is lost) and each row is one document;
 *   - a shards folder from `compactlm tokenize` (manifest.json): read with openShards, already tokenized.
 *
 *   const all = await loadBlocks('corpus.csv', { seqLen: 128, textColumn: 'text' });
 *   const { train, val } = await holdOut(all, new Rng(seed));   // without --val
 *
 * Hold-out without --val: a seeded 5% of the blocks (at least 1, at most 1,000), chosen uniformly at random, is
 * the validation set; the rest is the training set. Blocks keep their exact content and order within each part.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { readCsv } from '../data/csv.js';
import { openShards } from '../tokenizer/shards.js';
import { loadTokenizer, type Tokenizer } from '../tokenizer/tokenizer.js';
import { VOCAB_SHA256, VOCAB_SIZE } from '../tokenizer/vocab.js';
import { UserError } from '../util/errors.js';
import { log } from '../util/log.js';
import type { Rng } from '../util/rng.js';
import { PackedDataset } from './packing.js';

export const HOLD_OUT_FRACTION = 0.05;
export const HOLD_OUT_MAX_BLOCKS = 1000;

export interface LoadOptions {
  seqLen: number;
  /** CSV column holding the text (default "text"). */
  textColumn?: string;
  tokenizer?: Tokenizer;
  /** Called with (bytes read, total bytes) while a CSV is tokenized. */
  onProgress?: (done: number, total: number) => void;
}

export interface LoadedBlocks {
  data: PackedDataset;
  documents: number;
  tokens: number;
}

/** Reads and packs a CSV file or a shards folder. */
export async function loadBlocks(path: string, opts: LoadOptions): Promise<LoadedBlocks> {
  const st = existsSync(path) ? statSync(path) : null;
  if (!st) throw new UserError(`${path}: file or folder not found`);
  if (st.isDirectory()) return loadShards(path, opts);
  return loadCsv(path, opts);
}

async function loadCsv(path: string, opts: LoadOptions): Promise<LoadedBlocks> {
  const column = opts.textColumn ?? 'text';
  const tokenizer = opts.tokenizer ?? (await loadTokenizer());
  const csv = await readCsv(path, { requireColumns: [column] });
  let documents = 0;
  let tokens = 0;
  async function* docs(): AsyncGenerator<Uint16Array> {
    for await (const { record } of csv.rows) {
      const ids = tokenizer.ids(record[column] ?? '');
      documents++;
      tokens += ids.length;
      if (documents % 256 === 0) opts.onProgress?.(csv.bytesRead(), csv.size);
      yield Uint16Array.from(ids);
    }
    opts.onProgress?.(csv.size, csv.size);
  }
  const data = await packOrExplain(docs(), path, opts.seqLen);
  return { data, documents, tokens };
}

async function loadShards(dir: string, opts: LoadOptions): Promise<LoadedBlocks> {
  if (!existsSync(join(dir, 'manifest.json'))) {
    throw new UserError(`${dir}: a folder given as training data must be a shards folder from \`compactlm tokenize\` (no manifest.json)`);
  }
  const shards = await openShards(dir);
  try {
    const m = shards.manifest;
    if (m.vocab_size !== VOCAB_SIZE || m.tokenizer?.vocab_sha256 !== VOCAB_SHA256) {
      throw new UserError(`${join(dir, 'manifest.json')}: shards were made with another vocabulary (${m.tokenizer?.name ?? 'unknown'}, ${m.vocab_size} tokens); CompactLM trains on bert-base-uncased ids`);
    }
    let documents = 0;
    let tokens = 0;
    async function* docs(): AsyncGenerator<Uint16Array> {
      for await (const doc of shards.sequences()) {
        documents++;
        tokens += Math.max(0, doc.length - 2); // without [CLS]/[SEP], as for CSV input
        yield doc;
      }
    }
    const data = await packOrExplain(docs(), dir, opts.seqLen);
    return { data, documents, tokens };
  } finally {
    await shards.close();
  }
}

async function packOrExplain(docs: AsyncIterable<Uint16Array>, source: string, seqLen: number): Promise<PackedDataset> {
  try {
    return await PackedDataset.pack(docs, { seqLen });
  } catch (e) {
    if (e instanceof UserError && /no tokens/.test(e.message)) throw new UserError(`${source}: ${e.message}`);
    throw e;
  }
}

/**
 * Re-packs a subset of blocks (in the given order) into a dataset whose blocks are exactly those blocks. Packing a
 * full block's content as a document fills exactly one block; the padded last block, if chosen, is put last.
 */
export async function selectBlocks(data: PackedDataset, indices: readonly number[]): Promise<PackedDataset> {
  const last = data.length - 1;
  const order = [...indices.filter((i) => i !== last || data.realLength(i) === data.seqLen)];
  if (indices.includes(last) && data.realLength(last) !== data.seqLen) order.push(last);
  const docs = order.map((i) => data.block(i).subarray(0, data.realLength(i)));
  return PackedDataset.pack(docs, { seqLen: data.seqLen, specials: data.specials });
}

/** Splits off a seeded ~5% of the blocks as a validation set (see the file comment). */
export async function holdOut(data: PackedDataset, rng: Rng, source = 'the training data'): Promise<{ train: PackedDataset; val: PackedDataset }> {
  if (data.length < 2) {
    throw new UserError(`${source}: only ${data.length} block of ${data.seqLen} tokens, too little to hold out a validation set; add text, lower --seq-len or pass --val`);
  }
  const n = Math.min(HOLD_OUT_MAX_BLOCKS, Math.max(1, Math.round(data.length * HOLD_OUT_FRACTION)));
  const order = Uint32Array.from({ length: data.length }, (_, i) => i);
  rng.shuffle(order);
  const chosen = new Set(order.subarray(0, n));
  const valIdx: number[] = [];
  const trainIdx: number[] = [];
  for (let i = 0; i < data.length; i++) (chosen.has(i) ? valIdx : trainIdx).push(i);
  const [train, val] = [await selectBlocks(data, trainIdx), await selectBlocks(data, valIdx)];
  log().debug({ train: train.length, val: val.length }, 'held out validation blocks');
  return { train, val };
}
