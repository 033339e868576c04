import { greedyOracle } from '../../../src/summarize/oracle.js';
import { rougeScores } from '../../../src/summarize/rouge.js';

const r12 = (reference: string, summary: string) => {
  const s = rougeScores(reference, summary);
  return s.rouge1.f1 + s.rouge2.f1;
};

describe('greedyOracle (BertSumExt labels: greedy ROUGE-1 + ROUGE-2 F1)', () => {
  const doc = [
    'The weather was fine.', // 0
    'The mayor opened the new bridge on Monday.', // 1
    'Children sang songs.', // 2
    'The bridge cost ten million dollars.', // 3
    'The mayor opened the new bridge.', // 4: a shorter copy of 1
  ];
  const reference = 'The mayor opened the new bridge. It cost ten million dollars.';

  test('hand-worked: first the best single sentence, then the one that adds the most, then stop', () => {
    // step 1: sentence 4 matches 6 of the reference's 11 unigrams and 5 of its 10 bigrams with no extra words,
    //   the best single sentence (sentence 1 has the same matches but 2 more words)
    // step 2: adding 3 brings "cost ten million dollars" (+4 unigrams, +3 bigrams)
    // step 3: nothing raises ROUGE-1 + ROUGE-2 further (every other sentence adds words and no new n-gram)
    expect(greedyOracle(doc, reference)).toEqual([3, 4]);
    const best = r12(reference, `${doc[3]}\n${doc[4]}`);
    for (let i = 0; i < doc.length; i++) {
      if (i === 3 || i === 4) continue;
      const withI = [3, 4, i].sort().map((k) => doc[k]).join('\n');
      expect(r12(reference, withI)).toBeLessThanOrEqual(best);
    }
    expect(r12(reference, doc[4])).toBeGreaterThan(r12(reference, doc[1]));
  });

  test('maxSentences caps the selection; indices come back ascending', () => {
    expect(greedyOracle(doc, reference, { maxSentences: 1 })).toEqual([4]);
    const many = ['c d.', 'a b.', 'e f.'];
    expect(greedyOracle(many, 'a b c d e f')).toEqual([0, 1, 2]);
  });

  test('ties go to the earlier sentence; nothing matching gives no sentence', () => {
    expect(greedyOracle(['x y.', 'x y.'], 'x y', { maxSentences: 1 })).toEqual([0]);
    expect(greedyOracle(['nothing here.'], 'completely different')).toEqual([]);
    expect(greedyOracle([], 'a b')).toEqual([]);
  });

  test('stemming is passed to ROUGE', () => {
    expect(greedyOracle(['Dogs were running.', 'Cats sat.'], 'the dog runs', { stem: true })).toEqual([0]);
    expect(greedyOracle(['Dogs were running.', 'Cats sat.'], 'the dog runs')).toEqual([]);
  });
});
