/**
 * Lead-k: the first k sentences of the document, the baseline every extractive-summarization paper reports
 * (Lead-3 on CNN/DailyMail: 40.34 / 17.70 / 36.57 ROUGE-1/2/L, See et al. 2017). Needs no model. A sentence's
 * score is its position score 1 − index / sentences (1 for the first), so earlier sentences score higher.
 */
import type { ChosenSentence, SentenceScorer } from './scorer.js';
import type { Sentence } from './sentences.js';

export function leadSentences(count: number, k: number): ChosenSentence[] {
  return Array.from({ length: Math.min(k, count) }, (_, index) => ({ index, score: 1 - index / count }));
}

export const leadScorer: SentenceScorer = {
  method: 'lead',
  choose: async (sentences: readonly Sentence[], k: number) => leadSentences(sentences.length, k),
  close: async () => {},
};
