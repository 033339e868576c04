import { Rng } from '../../../src/util/rng.js';
import { defaultMaxPredictions, maskBatch, type MlmBatch, type TokenBatch } from '../../../src/train/masking.js';
import { Batcher, PackedDataset } from '../../../src/train/packing.js';
import { IGNORE_INDEX } from '../../../src/model/losses.js';
import { SPECIAL_IDS as SP } from '../../../src/tokenizer/vocab.js';

const V = 30522;
const SPECIAL = new Set([SP.pad, SP.unk, SP.cls, SP.sep, SP.mask]);

/** B full rows [CLS] words… [SEP] with ids in [1000, 30000). */
function fullBatch(rng: Rng, B: number, T: number): TokenBatch {
  const ids = new Int32Array(B * T);
  for (let b = 0; b < B; b++) {
    ids[b * T] = SP.cls;
    for (let t = 1; t < T - 1; t++) ids[b * T + t] = 1000 + rng.int(29000);
    ids[b * T + T - 1] = SP.sep;
  }
  return { batchSize: B, seqLen: T, ids, attentionMask: new Uint8Array(B * T).fill(1) };
}

/** Checks the gather list against the dense labels and the original ids. */
function checkGather(batch: TokenBatch, mlm: MlmBatch): void {
  const { batchSize: B, seqLen: T } = batch;
  const M = mlm.maxPredictions;
  let scored = 0;
  for (let b = 0; b < B; b++) {
    const rowScored: number[] = [];
    for (let t = 0; t < T; t++) if (mlm.labels[b * T + t] !== IGNORE_INDEX) rowScored.push(b * T + t);
    expect(rowScored.length).toBeLessThanOrEqual(M);
    const want: number[] = [];
    const got: number[] = [];
    for (let j = 0; j < M; j++) {
      const pos = Number(mlm.maskedPositions[b * M + j]);
      got.push(pos, Number(mlm.maskedLabels[b * M + j]));
      if (j < rowScored.length) want.push(rowScored[j], batch.ids[rowScored[j]]);
      else want.push(b * T, IGNORE_INDEX);
    }
    expect(got).toEqual(want);
    scored += rowScored.length;
  }
  expect(mlm.numPredictions).toBe(scored);
}

describe('maskBatch', () => {
  test('selects ~15% of candidates, then 80% [MASK] / 10% random / 10% unchanged (HF proportions)', () => {
    const data = new Rng(1);
    const rng = new Rng(2);
    let candidates = 0;
    let selected = 0;
    let masked = 0;
    let replaced = 0;
    let unchanged = 0;
    let changedUnscored = 0;
    for (let n = 0; n < 150; n++) {
      const batch = fullBatch(data, 16, 128);
      const mlm = maskBatch(batch, rng, { vocabSize: V, maxPredictions: 128 });
      expect(mlm.numDropped).toBe(0);
      candidates += 16 * 126;
      for (let i = 0; i < batch.ids.length; i++) {
        if (mlm.labels[i] === IGNORE_INDEX) {
          if (Number(mlm.inputIds[i]) !== batch.ids[i]) changedUnscored++;
          continue;
        }
        selected++;
        const now = Number(mlm.inputIds[i]);
        if (now === SP.mask) masked++;
        else if (now === batch.ids[i]) unchanged++;
        else replaced++;
      }
    }
    expect(changedUnscored).toBe(0);
    // Binomial standard deviations: selection 0.0006, shares ≈0.002 (tolerances are 5σ or more).
    expect(Math.abs(selected / candidates - 0.15)).toBeLessThan(0.003);
    expect(Math.abs(masked / selected - 0.8)).toBeLessThan(0.01);
    expect(Math.abs(replaced / selected - 0.1)).toBeLessThan(0.01);
    expect(Math.abs(unchanged / selected - 0.1)).toBeLessThan(0.01);
  });

  test('never selects [PAD] [UNK] [CLS] [SEP] [MASK] or attention-masked positions', () => {
    const T = 64;
    const B = 8;
    const ids = new Int32Array(B * T);
    const attentionMask = new Uint8Array(B * T);
    const gen = new Rng(3);
    for (let b = 0; b < B; b++) {
      const len = 20 + gen.int(T - 20);
      ids[b * T] = SP.cls;
      for (let t = 1; t < len - 1; t++) {
        const r = gen.int(10);
        ids[b * T + t] = r === 0 ? SP.unk : r === 1 ? SP.mask : r === 2 ? SP.sep : 2000 + gen.int(100);
      }
      ids[b * T + len - 1] = SP.sep;
      attentionMask.fill(1, b * T, b * T + len);
      // ids under attention 0 that are not [PAD] must not be selected either
      if (len < T) ids[b * T + len] = 5000;
    }
    const batch = { batchSize: B, seqLen: T, ids, attentionMask };
    const rng = new Rng(4);
    const bad: number[] = [];
    let scored = 0;
    for (let n = 0; n < 200; n++) {
      const mlm = maskBatch(batch, rng, { vocabSize: V, maxPredictions: T, probability: 0.5 });
      for (let i = 0; i < B * T; i++) {
        if ((SPECIAL.has(ids[i]) || attentionMask[i] === 0) && (mlm.labels[i] !== IGNORE_INDEX || Number(mlm.inputIds[i]) !== ids[i])) bad.push(i);
        if (Number(mlm.attentionMask[i]) !== attentionMask[i] || mlm.tokenTypeIds[i] !== 0n) bad.push(i);
      }
      scored += mlm.numPredictions;
      if (n % 20 === 0) checkGather(batch, mlm);
    }
    expect(bad).toEqual([]);
    expect(scored).toBeGreaterThan(1000); // p = 0.5: plenty of chances to get it wrong
  });

  test('random replacements are uniform over the vocabulary minus the specials', () => {
    const batch = fullBatch(new Rng(5), 16, 128);
    const rng = new Rng(6);
    const V2 = 110; // small vocabulary so the five specials (0,100..103) would be hit often if not excluded
    let seen = 0;
    const counts = new Array(V2).fill(0);
    for (let n = 0; n < 100; n++) {
      const mlm = maskBatch(batch, rng, { vocabSize: V2, maxPredictions: 128, maskShare: 0, randomShare: 1 });
      for (let i = 0; i < batch.ids.length; i++) {
        if (mlm.labels[i] === IGNORE_INDEX) continue;
        counts[Number(mlm.inputIds[i])]++;
        seen++;
      }
    }
    expect(counts.reduce((a, c) => a + c, 0)).toBe(seen); // every draw in [0, V)
    const expected = seen / (V2 - 5);
    for (let v = 0; v < V2; v++) {
      if (SPECIAL.has(v)) expect(counts[v]).toBe(0);
      else expect(Math.abs(counts[v] - expected)).toBeLessThan(6 * Math.sqrt(expected));
    }
  });

  test('more than M selected: a random subset of M is scored and the rest of the input is untouched', () => {
    const batch = fullBatch(new Rng(7), 4, 64);
    const mlm = maskBatch(batch, new Rng(8), { vocabSize: V, maxPredictions: 5, probability: 0.5 });
    expect(mlm.numPredictions).toBe(4 * 5);
    expect(mlm.numDropped).toBeGreaterThan(0);
    for (let i = 0; i < batch.ids.length; i++) {
      if (mlm.labels[i] === IGNORE_INDEX) expect(Number(mlm.inputIds[i])).toBe(batch.ids[i]);
    }
    checkGather(batch, mlm);
    // the kept subset is spread over the row, not the first M selected
    const last = new Set<number>();
    for (let n = 0; n < 20; n++) {
      const m = maskBatch(batch, new Rng(100 + n), { vocabSize: V, maxPredictions: 5, probability: 0.5 });
      last.add(Number(m.maskedPositions[4]) % 64);
    }
    expect(Math.max(...last)).toBeGreaterThan(40);
  });

  test("'exact' selection scores min(M, max(1, round(p·n))) per sequence (BERT's create_pretraining_data)", () => {
    const T = 128;
    const ids = new Int32Array(3 * T);
    const attentionMask = new Uint8Array(3 * T);
    [128, 40, 5].forEach((len, b) => {
      ids[b * T] = SP.cls;
      for (let t = 1; t < len - 1; t++) ids[b * T + t] = 3000 + t;
      ids[b * T + len - 1] = SP.sep;
      attentionMask.fill(1, b * T, b * T + len);
    });
    const batch = { batchSize: 3, seqLen: T, ids, attentionMask };
    const mlm = maskBatch(batch, new Rng(9), { vocabSize: V, maxPredictions: 20, selection: 'exact' });
    const perRow = [0, 1, 2].map((b) => mlm.labels.subarray(b * T, (b + 1) * T).filter((l) => l !== IGNORE_INDEX).length);
    expect(perRow).toEqual([19, 6, 1]);
    checkGather(batch, mlm);
  });

  test('a batch never ends up with nothing to predict', () => {
    const batch = fullBatch(new Rng(10), 2, 4);
    for (let seed = 0; seed < 20; seed++) {
      const mlm = maskBatch(batch, new Rng(seed), { vocabSize: V, maxPredictions: 2, probability: 1e-9 });
      expect(mlm.numPredictions).toBe(1);
      checkGather(batch, mlm);
    }
  });

  test('deterministic by seed; another seed gives other masks', () => {
    const batch = fullBatch(new Rng(11), 8, 128);
    const a = maskBatch(batch, new Rng(12), { vocabSize: V, maxPredictions: 32 });
    const b = maskBatch(batch, new Rng(12), { vocabSize: V, maxPredictions: 32 });
    const c = maskBatch(batch, new Rng(13), { vocabSize: V, maxPredictions: 32 });
    expect(b).toEqual(a);
    expect(c.inputIds).not.toEqual(a.inputIds);
  });

  test('restoring the batcher and masking RNG states reproduces the next batches exactly', async () => {
    const gen = new Rng(14);
    const docs = Array.from({ length: 40 }, () => Uint16Array.from({ length: 5 + gen.int(60) }, () => 1000 + gen.int(20000)));
    const data = await PackedDataset.pack(docs, { seqLen: 32 });
    const opts = { vocabSize: V, maxPredictions: defaultMaxPredictions(32) };
    const batcher = new Batcher(data, { batchSize: 5, seed: 15 });
    const maskRng = new Rng(16);
    for (let i = 0; i < 7; i++) maskBatch(batcher.next(), maskRng, opts);
    const saved = JSON.parse(JSON.stringify({ batcher: batcher.state(), rng: maskRng.getState() }));
    const expected = Array.from({ length: 6 }, () => maskBatch(batcher.next(), maskRng, opts));

    const resumedBatcher = new Batcher(data, { batchSize: 5 }, saved.batcher);
    const resumedRng = new Rng(saved.rng);
    const got = Array.from({ length: 6 }, () => maskBatch(resumedBatcher.next(), resumedRng, opts));
    expect(got).toEqual(expected);
  });

  test('defaultMaxPredictions: binomial tail ≤ 0.001', () => {
    expect(defaultMaxPredictions(128)).toBe(32);
    // direct check of the definition for a few lengths
    for (const T of [16, 64, 128, 512]) {
      const M = defaultMaxPredictions(T);
      const tail = (m: number) => 1 - binomCdf(T - 2, 0.15, m);
      expect(tail(M)).toBeLessThanOrEqual(1e-3);
      if (M > 1) expect(tail(M - 1)).toBeGreaterThan(1e-3);
    }
  });

  test('bad settings are one-line errors', () => {
    const batch = fullBatch(new Rng(17), 1, 8);
    expect(() => maskBatch(batch, new Rng(1), { vocabSize: V, maxPredictions: 0 })).toThrow(/max predictions/);
    expect(() => maskBatch(batch, new Rng(1), { vocabSize: V, maxPredictions: 2, probability: 0 })).toThrow(/probability/);
    expect(() => maskBatch(batch, new Rng(1), { vocabSize: V, maxPredictions: 2, maskShare: 0.95, randomShare: 0.1 })).toThrow(/share/);
  });
});

/** Binomial CDF by direct summation of C(n,k) p^k (1−p)^(n−k) with exact-ish big products (n ≤ 510). */
function binomCdf(n: number, p: number, m: number): number {
  let sum = 0;
  for (let k = 0; k <= m; k++) {
    let logC = 0;
    for (let j = 1; j <= k; j++) logC += Math.log(n - k + j) - Math.log(j);
    sum += Math.exp(logC + k * Math.log(p) + (n - k) * Math.log(1 - p));
  }
  return sum;
}
