/**
 * How the trained summarizer picks sentences from its scores (BertSumExt's trigram blocking, summarize/trained.ts)
 * and the validation ROUGE that selects `finetune --task extractive`'s best checkpoint from the eval logits.
 */
import type { ExtractiveExamples } from '../../../src/finetune/extractive-data.js';
import { validationRouge } from '../../../src/finetune/extractive-finetune.js';
import { rougeScores } from '../../../src/summarize/rouge.js';
import { trigramBlockedTopK } from '../../../src/summarize/trained.js';

const texts = [
  'The cat sat on the mat today.',
  'Yesterday the cat sat on the mat too.', // shares "the cat sat", "cat sat on", … with the first
  'Dogs bark loudly at night.',
  'Birds sing.',
];

test('top-k by score, skipping a sentence that shares a trigram with one already chosen', () => {
  expect(trigramBlockedTopK(texts, [0.9, 0.8, 0.5, 0.1], 2)).toEqual([{ index: 0, score: 0.9 }, { index: 2, score: 0.5 }]);
  expect(trigramBlockedTopK(texts, [0.9, 0.8, 0.5, 0.1], 3).map((c) => c.index)).toEqual([0, 2, 3]);
  // trigrams are rouge_score tokens: case and punctuation do not hide a repeat
  expect(trigramBlockedTopK(['A B C d.', 'a, b; c!', 'x y'], [3, 2, 1], 2).map((c) => c.index)).toEqual([0, 2]);
});

test('k always come back: blocked sentences fill in, best first, when too few survive; ties go to the earlier one', () => {
  expect(trigramBlockedTopK(texts, [0.9, 0.8, 0.5, 0.1], 4).map((c) => c.index)).toEqual([0, 2, 3, 1]);
  expect(trigramBlockedTopK(['same words here', 'same words here', 'same words here'], [1, 1, 1], 2).map((c) => c.index)).toEqual([0, 1]);
  expect(trigramBlockedTopK(['only'], [0.2], 1)).toEqual([{ index: 0, score: 0.2 }]);
});

test('validation ROUGE: each document\'s top 3 from its slice of the batched logits, in document order, stemmed', () => {
  const val = {
    sentences: [
      ['Rain fell on Monday.', 'The council approved the budget.', 'Taxes will rise.', 'A dog barked.'],
      ['Markets rallied.', 'Stocks closed higher on Friday.'],
      ['One sentence only.'],
    ],
    references: ['The council approved a budget; taxes rise.', 'Stocks rallied on Friday.', 'One sentence.'],
    ids: [[], [], []],
  } as unknown as ExtractiveExamples;
  const shape = { batchSize: 2, seqLen: 16, sentences: 4 };
  // batch 0: documents 0 and 1 (4 slots each); batch 1: document 2 and an empty row. Unused slots hold junk.
  const logits = [Float32Array.from([0.1, 3, 2, 1, 5, 4, 9, 9]), Float32Array.from([1, 9, 9, 9, 9, 9, 9, 9])];
  const picks = [[1, 2, 3], [0, 1], [0]];
  const expected = picks.map((p, d) => rougeScores(val.references[d], p.map((i) => val.sentences[d][i]).join('\n'), { stem: true }));
  const r = validationRouge(val, logits, shape);
  const mean = (f: (s: (typeof expected)[number]) => number) => expected.map(f).reduce((a, b) => a + b, 0) / 3;
  expect(r.val_rouge1).toBeCloseTo(mean((s) => s.rouge1.f1), 12);
  expect(r.val_rouge2).toBeCloseTo(mean((s) => s.rouge2.f1), 12);
  expect(r.val_rouge12).toBeCloseTo(r.val_rouge1 + r.val_rouge2, 12);
  expect(r.val_rouge1).toBeGreaterThan(0.3);
});
