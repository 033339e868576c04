/**
 * What every extractive method implements: given the document's sentences, choose k of them and say how much
 * each one counts. `lead` (lead.ts) takes the first k, `centroid` (centroid.ts) scores by similarity to the
 * document with MMR, and `trained` (a sentence classifier from `compactlm finetune --task extractive`) will score
 * with the classifier. The summarizer (summarizer.ts) splits the text, asks the method, and orders the result.
 */
import type { Sentence } from './sentences.js';

export const SUMMARY_METHODS = ['centroid', 'lead', 'trained'] as const;
export type SummaryMethod = (typeof SUMMARY_METHODS)[number];

export interface ChosenSentence {
  /** Position of the sentence in the document (0-based). */
  index: number;
  /** The method's score of the sentence (centroid: cosine similarity to the document; lead: its position score). */
  score: number;
}

export interface SentenceScorer {
  readonly method: SummaryMethod;
  /** The `k` sentences to keep (1 ≤ k ≤ sentences.length), in any order. */
  choose(sentences: readonly Sentence[], k: number): Promise<ChosenSentence[]>;
  close(): Promise<void>;
}
