/**
 * The greedy ROUGE oracle: the sentences an extractive summarizer should pick, found against the reference
 * summary, as BertSumExt labels its training data (Liu & Lapata 2019, PreSumm's `greedy_selection`):
 *
 *   greedyOracle(sentences.map((s) => s.text), reference, { maxSentences: 3 })   → [0, 4, 7]
 *
 * Start from nothing; at each step add the sentence that gives the highest ROUGE-1 F1 + ROUGE-2 F1 of the
 * selection against the reference, and stop when no sentence raises it (or at `maxSentences`). Ties go to the
 * earlier sentence. The selection is scored as the summary it would be: its sentences in document order, through
 * rouge.ts (rouge_score's tokens and clipped counts, so bigrams across two chosen sentences count, as they do
 * when that summary is evaluated). PreSumm instead unions the sentences' n-gram sets; the ranking is the same
 * idea, the numbers are the metric this project reports. Returns the chosen indices in ascending order.
 */
import { ngramCounts, rougeTokens, scoreNgrams, type RougeOptions } from './rouge.js';

export interface OracleOptions extends RougeOptions {
  /** Most sentences chosen (BertSumExt: 3). Default: no limit (stop only when nothing improves). */
  maxSentences?: number;
}

export function greedyOracle(sentences: readonly string[], reference: string, o: OracleOptions = {}): number[] {
  const ref = rougeTokens(reference, o);
  const ref1 = ngramCounts(ref, 1);
  const ref2 = ngramCounts(ref, 2);
  const tokens = sentences.map((s) => rougeTokens(s, o));
  const max = Math.min(o.maxSentences ?? Infinity, sentences.length);
  const chosen: number[] = [];
  let best = 0;
  while (chosen.length < max) {
    let pick = -1;
    let pickScore = best;
    for (let i = 0; i < sentences.length; i++) {
      if (chosen.includes(i)) continue;
      const order = [...chosen, i].sort((a, b) => a - b);
      const cand = order.flatMap((k) => tokens[k]);
      const score = scoreNgrams(ref1, ngramCounts(cand, 1)).f1 + scoreNgrams(ref2, ngramCounts(cand, 2)).f1;
      if (score > pickScore) {
        pickScore = score;
        pick = i;
      }
    }
    if (pick < 0) break;
    chosen.push(pick);
    best = pickScore;
  }
  return chosen.sort((a, b) => a - b);
}
