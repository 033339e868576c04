import { Rng } from '../../../src/util/rng.js';
import { UserError } from '../../../src/util/errors.js';
import { Batcher, PackedDataset, toInt64 } from '../../../src/train/packing.js';
import { SPECIAL_IDS as SP } from '../../../src/tokenizer/vocab.js';

/** Documents as a tokenizer shard yields them: [CLS] ids… [SEP], ids never special. */
function makeDocs(seed: number, n: number, maxLen: number): Uint16Array[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => {
    const len = rng.int(maxLen + 1); // includes empty documents
    return Uint16Array.from([SP.cls, ...Array.from({ length: len }, () => 1000 + rng.int(29000)), SP.sep]);
  });
}

async function* asAsync<T>(items: T[]): AsyncGenerator<T> {
  for (const x of items) yield x;
}

describe('PackedDataset', () => {
  test('blocks are [CLS] piece [SEP], and the pieces are every document in order, joined by [SEP]', async () => {
    const T = 16;
    const cap = T - 2;
    const docs = makeDocs(1, 60, 40);
    const data = await PackedDataset.pack(asAsync(docs), { seqLen: T });
    const stream: number[] = [];
    for (let i = 0; i < data.length; i++) {
      const block = data.block(i);
      const n = data.realLength(i);
      expect(block[0]).toBe(SP.cls);
      expect(block[n - 1]).toBe(SP.sep);
      for (let t = n; t < T; t++) expect(block[t]).toBe(SP.pad);
      if (i < data.length - 1) expect(n).toBe(T);
      stream.push(...block.subarray(1, n - 1));
    }
    // Walk the documents through the stream: a [SEP] goes between two documents unless the first one ended
    // exactly at a block boundary.
    let at = 0;
    let first = true;
    for (const doc of docs) {
      const content = [...doc.subarray(1, doc.length - 1)];
      if (content.length === 0) continue;
      if (!first) {
        if (at % cap !== 0) expect(stream[at++]).toBe(SP.sep);
        else expect(stream[at]).not.toBe(SP.sep);
      }
      first = false;
      expect(stream.slice(at, at + content.length)).toEqual(content);
      at += content.length;
    }
    expect(at).toBe(stream.length);
    expect(data.length).toBe(Math.ceil(stream.length / cap));
  });

  test("the last short block is padded by default and dropped with last: 'drop'", async () => {
    const docs = [Uint16Array.from([SP.cls, 5000, 5001, 5002, 5003, 5004, SP.sep])];
    const padded = await PackedDataset.pack(docs, { seqLen: 5 }); // 3 content tokens per block
    expect(padded.length).toBe(2);
    expect([...padded.tokens]).toEqual([SP.cls, 5000, 5001, 5002, SP.sep, SP.cls, 5003, 5004, SP.sep, SP.pad]);
    expect(padded.realLength(1)).toBe(4);
    const dropped = await PackedDataset.pack(docs, { seqLen: 5, last: 'drop' });
    expect(dropped.length).toBe(1);
    expect([...dropped.tokens]).toEqual([SP.cls, 5000, 5001, 5002, SP.sep]);
  });

  test('documents without [CLS]/[SEP] are accepted; an empty corpus is a one-line error', async () => {
    const data = await PackedDataset.pack([Uint16Array.from([7000, 7001]), Uint16Array.from([7002])], { seqLen: 8 });
    expect([...data.block(0)]).toEqual([SP.cls, 7000, 7001, SP.sep, 7002, SP.sep, SP.pad, SP.pad]);
    await expect(PackedDataset.pack([Uint16Array.from([SP.cls, SP.sep])], { seqLen: 8 })).rejects.toThrow(UserError);
    await expect(PackedDataset.pack([Uint16Array.from([7000])], { seqLen: 8, last: 'drop' })).rejects.toThrow(/no tokens to fill/);
    await expect(PackedDataset.pack([], { seqLen: 2 })).rejects.toThrow(/sequence length/);
  });
});

describe('Batcher', () => {
  test('each epoch visits every block once, in a fresh seeded order, with batches spanning epoch ends', async () => {
    const data = await PackedDataset.pack(makeDocs(2, 50, 30), { seqLen: 12 });
    const L = data.length;
    const B = 7;
    expect(L % B).not.toBe(0);
    const batcher = new Batcher(data, { batchSize: B, seed: 3 });
    const seen: number[] = [];
    while (seen.length < 3 * L) seen.push(...batcher.next().blocks);
    const epochs = [0, 1, 2].map((e) => seen.slice(e * L, (e + 1) * L));
    for (const e of epochs) expect([...e].sort((a, b) => a - b)).toEqual(Array.from({ length: L }, (_, i) => i));
    expect(epochs[0]).not.toEqual(epochs[1]);
    expect(epochs[0]).not.toEqual(Array.from({ length: L }, (_, i) => i));
    // another batcher with the same seed walks the same order
    const again = new Batcher(data, { batchSize: B, seed: 3 });
    expect([...again.next().blocks]).toEqual(seen.slice(0, B));
  });

  test('batch rows are the blocks, attention_mask marks their real length, shuffle: false keeps corpus order', async () => {
    const data = await PackedDataset.pack(makeDocs(4, 9, 20), { seqLen: 10 });
    const batcher = new Batcher(data, { batchSize: data.length, shuffle: false });
    const batch = batcher.next();
    expect([...batch.blocks]).toEqual(Array.from({ length: data.length }, (_, i) => i));
    for (let b = 0; b < data.length; b++) {
      expect([...batch.ids.subarray(b * 10, b * 10 + 10)]).toEqual([...data.block(b)]);
      const mask = [...batch.attentionMask.subarray(b * 10, b * 10 + 10)];
      expect(mask).toEqual(Array.from({ length: 10 }, (_, t) => (t < data.realLength(b) ? 1 : 0)));
    }
    expect(data.realLength(data.length - 1)).toBeLessThan(10); // the padded block is there
    expect(toInt64(batch.ids)[1]).toBe(BigInt(batch.ids[1]));
  });

  test('a saved state (through JSON) resumes at exactly the next batch, across epoch boundaries', async () => {
    const data = await PackedDataset.pack(makeDocs(5, 30, 25), { seqLen: 10 });
    const batcher = new Batcher(data, { batchSize: 4, seed: 6 });
    for (let i = 0; i < 11; i++) batcher.next();
    const state = JSON.parse(JSON.stringify(batcher.state()));
    const expected = Array.from({ length: 3 * data.length }, () => batcher.next());
    const resumed = new Batcher(data, { batchSize: 4, seed: 999 }, state);
    expect(Array.from({ length: 3 * data.length }, () => resumed.next())).toEqual(expected);
    expect(resumed.epochs).toBeCloseTo(batcher.epochs, 12);
  });

  test('resuming on different data is refused', async () => {
    const a = await PackedDataset.pack(makeDocs(7, 30, 25), { seqLen: 10 });
    const b = await PackedDataset.pack(makeDocs(8, 10, 25), { seqLen: 10 });
    const state = new Batcher(a, { batchSize: 2, seed: 1 }).state();
    expect(() => new Batcher(b, { batchSize: 2 }, state)).toThrow(/same data/);
  });
});
