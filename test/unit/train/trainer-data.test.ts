/**
 * The trainer's data side: validation hold-out, the masked-LM batch source (resumable state, micro-batches cut
 * from one k·B batch, dropout keep-rates) and the fixed validation feeds.
 */
import { holdOut, loadBlocks, selectBlocks, HOLD_OUT_FRACTION } from '../../../src/train/data-source.js';
import { tokenizeCsv } from '../../../src/tokenizer/tokenize-csv.js';
import { fixedEvalFeeds, microBatch, MlmBatchSource } from '../../../src/train/mlm-batches.js';
import { maskBatch } from '../../../src/train/masking.js';
import { PackedDataset } from '../../../src/train/packing.js';
import { Rng } from '../../../src/util/rng.js';
import { FIXTURE, tmp } from './trainer-helpers.js';
import { join } from 'node:path';
import { rmSync } from 'node:fs';

/** Documents of random lengths with ids 1000+ (no specials). */
async function dataset(docs: number, T: number, seed = 1): Promise<PackedDataset> {
  const rng = new Rng(seed);
  const list = Array.from({ length: docs }, () => Uint16Array.from({ length: 1 + rng.int(40) }, () => 1000 + rng.int(20000)));
  return PackedDataset.pack(list, { seqLen: T });
}

const blocks = (d: PackedDataset) => Array.from({ length: d.length }, (_, i) => Array.from(d.block(i)));

describe('hold-out', () => {
  test('selectBlocks keeps the chosen blocks exactly, the padded last one included', async () => {
    const d = await dataset(50, 16);
    expect(d.realLength(d.length - 1)).toBeLessThan(16); // the test needs a padded last block
    const pick = [d.length - 1, 3, 0, 7];
    const s = await selectBlocks(d, pick);
    expect(blocks(s)).toEqual([3, 0, 7, d.length - 1].map((i) => Array.from(d.block(i))));
    expect(s.realLength(s.length - 1)).toBe(d.realLength(d.length - 1));
  });

  test('a seeded 5% goes to validation, the rest to training, no block lost or shared', async () => {
    const d = await dataset(400, 16);
    const a = await holdOut(d, new Rng(3));
    const b = await holdOut(d, new Rng(3));
    expect(blocks(a.val)).toEqual(blocks(b.val));
    expect(a.val.length).toBe(Math.round(d.length * HOLD_OUT_FRACTION));
    expect(a.train.length + a.val.length).toBe(d.length);
    const all = [...blocks(a.train), ...blocks(a.val)].map((x) => x.join(',')).sort();
    expect(all).toEqual(blocks(d).map((x) => x.join(',')).sort());
    const single = await PackedDataset.pack([Uint16Array.of(1000, 1001, 1002)], { seqLen: 16 });
    await expect(holdOut(single, new Rng(1))).rejects.toThrow(/too little to hold out/);
  });

  test('CSV input is tokenized and packed; a missing column is a one-line error', async () => {
    const { data, documents, tokens } = await loadBlocks(FIXTURE, { seqLen: 32 });
    expect(documents).toBe(80);
    expect(data.length).toBe(Math.ceil((tokens + documents - 1) / 30));
    expect(data.block(0)[0]).toBe(101);
    await expect(loadBlocks(FIXTURE, { seqLen: 32, textColumn: 'body' })).rejects.toThrow(/body/);
    await expect(loadBlocks('/nonexistent.csv', { seqLen: 32 })).rejects.toThrow(/not found/);
  });

  test('a shards folder from `compactlm tokenize` gives the same blocks as the CSV', async () => {
    const dir = tmp();
    try {
      await tokenizeCsv({ input: FIXTURE, textColumn: 'text', out: join(dir, 'shards') });
      const fromShards = await loadBlocks(join(dir, 'shards'), { seqLen: 32 });
      const fromCsv = await loadBlocks(FIXTURE, { seqLen: 32 });
      expect(fromShards.documents).toBe(80);
      expect(fromShards.tokens).toBe(fromCsv.tokens);
      expect(Array.from(fromShards.data.tokens)).toEqual(Array.from(fromCsv.data.tokens));
      await expect(loadBlocks(dir, { seqLen: 32 })).rejects.toThrow(/must be a shards folder .*no manifest\.json/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('MlmBatchSource', () => {
  const sites = [{ name: 'dropout.x', shape: [4, 16, 8], keepProb: 0.9 }];
  const opts = { batchSize: 4, maxPredictions: 5, vocabSize: 30522, dropoutSites: sites, seed: 11 };

  test('a restored state yields exactly the batches that came next', async () => {
    const d = await dataset(200, 16);
    const a = new MlmBatchSource(d, opts);
    for (let i = 0; i < 7; i++) a.next(2);
    const saved = JSON.parse(JSON.stringify(a.state()));
    const b = new MlmBatchSource(d, opts, saved);
    for (let i = 0; i < 5; i++) expect(b.next(2)).toEqual(a.next(2));
  });

  test('k micro-batches of B are one batch of k·B, cut', async () => {
    const d = await dataset(200, 16);
    const two = new MlmBatchSource(d, opts).next(2);
    const one = new MlmBatchSource(d, { ...opts, batchSize: 8, dropoutSites: [{ ...sites[0], shape: [8, 16, 8] }] }).next(1)[0];
    const cat = (key: string) => {
      const x = two.map((f) => Array.from(f[key].data as ArrayLike<number | bigint>, Number));
      return key === 'masked_positions' ? [...x[0], ...x[1].map((p) => p + 4 * 16)] : [...x[0], ...x[1]];
    };
    for (const key of ['input_ids', 'attention_mask', 'masked_labels', 'masked_positions', 'dropout.x']) {
      expect(cat(key)).toEqual(Array.from(one[key].data as ArrayLike<number | bigint>, Number));
    }
    expect(two[0]['dropout.x'].dims).toEqual([4, 16, 8]);
  });

  test('dropout keep-masks keep ~90%', async () => {
    const d = await dataset(200, 16);
    const feeds = new MlmBatchSource(d, opts).next(4);
    const kept = feeds.reduce((s, f) => s + (f['dropout.x'].data as Uint8Array).reduce((a, b) => a + b, 0), 0);
    const n = 4 * 4 * 16 * 8;
    expect(Math.abs(kept / n - 0.9)).toBeLessThan(4 * Math.sqrt(0.09 / n));
  });

  test('microBatch feeds only the scored slots, and one unscored slot when nothing is masked', () => {
    const ids = Int32Array.from({ length: 4 * 8 }, (_, i) => (i % 8 === 0 ? 101 : i % 8 === 7 ? 102 : 2000 + i));
    const mlm = maskBatch({ batchSize: 4, seqLen: 8, ids, attentionMask: new Uint8Array(32).fill(1) }, new Rng(5), { vocabSize: 30522, maxPredictions: 6 });
    const f = microBatch(mlm, 0, 4);
    const labels = Array.from(f.masked_labels.data as BigInt64Array, Number);
    expect(labels).toEqual(Array.from(mlm.maskedLabels, Number).filter((y) => y !== -100));
    expect(f.masked_positions.dims).toEqual([labels.length]);
    const none = maskBatch({ batchSize: 2, seqLen: 8, ids: new Int32Array(16), attentionMask: new Uint8Array(16) }, new Rng(5), { vocabSize: 30522, maxPredictions: 6 });
    const empty = microBatch(none, 0, 2);
    expect([Array.from(empty.masked_positions.data as BigInt64Array, Number), Array.from(empty.masked_labels.data as BigInt64Array, Number)]).toEqual([[0], [-100]]);
  });

  test('microBatch rebases positions into its own rows', () => {
    const ids = Int32Array.from({ length: 4 * 8 }, (_, i) => (i % 8 === 0 ? 101 : i % 8 === 7 ? 102 : 2000 + i));
    const mlm = maskBatch({ batchSize: 4, seqLen: 8, ids, attentionMask: new Uint8Array(32).fill(1) }, new Rng(5), { vocabSize: 30522, maxPredictions: 3 });
    const f = microBatch(mlm, 2, 2);
    const pos = Array.from(f.masked_positions.data as BigInt64Array, Number);
    const labels = Array.from(f.masked_labels.data as BigInt64Array, Number);
    pos.forEach((p, j) => {
      expect(p).toBeGreaterThanOrEqual(0);
      expect(p).toBeLessThan(16);
      if (labels[j] !== -100) expect(labels[j]).toBe(ids[2 * 8 + p]);
    });
  });
});

test('fixed validation feeds do not depend on the batch size', async () => {
  const d = await dataset(60, 16);
  const o = { maxPredictions: 5, vocabSize: 30522, seed: 9 };
  const flat = (feeds: ReturnType<typeof fixedEvalFeeds>, B: number, key: string) =>
    feeds.flatMap((f, b) => Array.from(f[key].data as BigInt64Array, (v) => Number(v) + (key === 'masked_positions' ? b * B * 16 : 0)));
  const a = fixedEvalFeeds(d, { ...o, batchSize: 3 });
  const b = fixedEvalFeeds(d, { ...o, batchSize: 8 });
  expect(a).toHaveLength(Math.ceil(d.length / 3));
  expect(flat(a, 3, 'input_ids').slice(0, d.length * 16)).toEqual(flat(b, 8, 'input_ids').slice(0, d.length * 16));
  // Only scored slots are fed: the same labels in the same order, whatever the batch size.
  const scored = (feeds: ReturnType<typeof fixedEvalFeeds>) => flat(feeds, 0, 'masked_labels').filter((y) => y !== -100);
  expect(scored(a).length).toBeGreaterThan(d.length);
  expect(scored(a)).toEqual(scored(b));
  expect(fixedEvalFeeds(d, { ...o, batchSize: 3 })).toEqual(a);
});
