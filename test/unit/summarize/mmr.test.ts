import { centroidRelevance, CentroidScorer, normalize, windows } from '../../../src/summarize/centroid.js';
import { mmrSelect } from '../../../src/summarize/mmr.js';
import type { Embedder } from '../../../src/infer/embed.js';
import type { Encoded } from '../../../src/infer/batches.js';
import { splitSentences } from '../../../src/summarize/sentences.js';

describe('mmrSelect (hand-computed)', () => {
  // relevance of 3 items and their pairwise similarities
  const relevance = [0.9, 0.85, 0.5];
  const S = [[1, 0.95, 0.1], [0.95, 1, 0.2], [0.1, 0.2, 1]];
  const sim = (i: number, j: number) => S[i][j];

  test('λ = 0.7: the near-duplicate of the first pick loses to a distinct item', () => {
    // step 1: 0.7·[0.9, 0.85, 0.5] → item 0
    // step 2: item 1: 0.7·0.85 − 0.3·0.95 = 0.310; item 2: 0.7·0.5 − 0.3·0.1 = 0.320 → item 2
    expect(mmrSelect(relevance, sim, 2, 0.7)).toEqual([{ index: 0, score: 0.9 }, { index: 2, score: 0.5 }]);
    expect(mmrSelect(relevance, sim, 3, 0.7).map((c) => c.index)).toEqual([0, 2, 1]);
  });

  test('λ = 1 is top-k by relevance; λ = 0.5 also penalizes the max similarity to any chosen item', () => {
    expect(mmrSelect(relevance, sim, 2, 1).map((c) => c.index)).toEqual([0, 1]);
    // λ = 0.5, step 2: item 1: 0.425 − 0.475 = −0.05; item 2: 0.25 − 0.05 = 0.2 → item 2;
    // step 3: item 1's redundancy is max(0.95, 0.2) = 0.95
    expect(mmrSelect(relevance, sim, 3, 0.5).map((c) => c.index)).toEqual([0, 2, 1]);
  });

  test('ties go to the lower index; k above n takes all; k = 0 takes none', () => {
    expect(mmrSelect([0.5, 0.5], () => 0, 1).map((c) => c.index)).toEqual([0]);
    expect(mmrSelect([0.1, 0.2], () => 0, 5).map((c) => c.index)).toEqual([1, 0]);
    expect(mmrSelect([0.1], () => 0, 0)).toEqual([]);
  });
});

describe('centroid relevance', () => {
  test('cosine of each normalized vector to the normalized mean (hand-computed)', () => {
    // unit vectors (1,0), (0,1), (1,0): mean (2/3, 1/3), normalized (2, 1)/√5 → cosines 2/√5, 1/√5, 2/√5
    const r = centroidRelevance([Float64Array.of(1, 0), Float64Array.of(0, 1), Float64Array.of(1, 0)]);
    expect(Array.from(r)).toEqual([2 / Math.sqrt(5), 1 / Math.sqrt(5), 2 / Math.sqrt(5)].map((x) => expect.closeTo(x, 12)));
    expect(Array.from(normalize(Float64Array.of(3, 4)))).toEqual([0.6, 0.8]);
    expect(Array.from(normalize(Float64Array.of(0, 0)))).toEqual([0, 0]);
  });
});

/** One token per character of each word (a stand-in tokenizer: counts are easy to check). */
const charTokenizer = { ids: (t: string) => Array.from(t.replace(/\s+/g, ''), (c) => c.charCodeAt(0)) };

describe('windows', () => {
  test('a text that fits is one piece; a longer one is cut between words into pieces that fit', () => {
    expect(windows('ab cd', charTokenizer, 4)).toEqual([{ text: 'ab cd', weight: 1 }]);
    expect(windows('ab cd ef  g', charTokenizer, 4)).toEqual([{ text: 'ab cd', weight: 4 }, { text: 'ef  g', weight: 3 }]);
    // a word longer than the window is a piece of its own (the encoder truncates it)
    expect(windows('abcdef gh', charTokenizer, 4)).toEqual([{ text: 'abcdef', weight: 4 }, { text: 'gh', weight: 2 }]);
  });
});

/**
 * A fake embedder: the "embedding" of a text is [count of a/A, count of b/B] over its letters, so the centroid and
 * the windowed mean can be worked out by hand. maxLength 6 → windows of 4 tokens.
 */
function fakeEmbedder(): { embedder: Embedder; runs: string[][] } {
  const runs: string[][] = [];
  const embedder = {
    config: { hidden_size: 2 },
    tokenizer: charTokenizer,
    task: () => ({
      maxLength: 6,
      maxBatch: Infinity,
      maxBatchTokens: 1 << 16,
      encode: (text: string): Encoded => ({ text, ids: [101, ...charTokenizer.ids(text).slice(0, 4), 102], tokens: [], truncated: false }),
      runBatch: async (batch: readonly Encoded[]) => {
        runs.push(batch.map((e) => e.text));
        return batch.map((e) => ({ text: e.text, dim: 2, embedding: [[...e.text.toLowerCase()].filter((c) => c === 'a').length, [...e.text.toLowerCase()].filter((c) => c === 'b').length] }));
      },
    }),
    close: async () => {},
  } as unknown as Embedder;
  return { embedder, runs };
}

describe('CentroidScorer', () => {
  test('sentences encoded one by one, batched; a long one as the token-weighted mean of its windows', async () => {
    const { embedder, runs } = fakeEmbedder();
    const scorer = new CentroidScorer(embedder, { batchSize: 2 });
    // "aaaa bbbb bb": 10 tokens > 4 → windows "aaaa" (4 tokens: [4, 0]) and "bbbb" (4: [0, 4]) and "bb" (2: [0, 2])
    // sum 4·[4,0] + 4·[0,4] + 2·[0,2] = [16, 20] → normalized [16, 20]/√656
    const v = await scorer.vectors(['aa', 'aaaa bbbb bb', 'b']);
    // five pieces, at most two per run (inferBatches may reorder within its window; results come back in order)
    expect(runs.flat().sort()).toEqual(['aa', 'aaaa', 'b', 'bb', 'bbbb']);
    expect(Math.max(...runs.map((r) => r.length))).toBe(2);
    expect(Array.from(v[0])).toEqual([1, 0]);
    expect(Array.from(v[1]).map((x) => +x.toFixed(12))).toEqual([16, 20].map((x) => +(x / Math.sqrt(656)).toFixed(12)));
    expect(Array.from(v[2])).toEqual([0, 1]);
  });

  test('choose: MMR over cosine to the centroid', async () => {
    const { embedder } = fakeEmbedder();
    const scorer = new CentroidScorer(embedder, { lambda: 0.7 });
    // vectors (1,0), (1,0), (0,1), (1,1)/√2: mean ∝ (2 + 1/√2, 1 + 1/√2) ≈ (2.707, 1.707) → cosines .846, .846, .533, .974
    const doc = 'Aa aa. Aaa. Bb. Ab.';
    const sentences = splitSentences(doc);
    expect(sentences.map((s) => s.text)).toEqual(['Aa aa.', 'Aaa.', 'Bb.', 'Ab.']);
    const chosen = await scorer.choose(sentences, 2);
    // step 1: "Ab." (0.974); step 2: 0.7·0.846 − 0.3·0.707 = 0.380 for each "a" sentence vs 0.7·0.533 − 0.3·0.707 = 0.161
    expect(chosen.map((c) => c.index)).toEqual([3, 0]);
    expect(chosen[0].score).toBeCloseTo((2.707107 + 1.707107) / Math.sqrt(2) / Math.hypot(2.707107, 1.707107), 5);
  });
});
