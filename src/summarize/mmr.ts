/**
 * Maximal Marginal Relevance (Carbonell & Goldstein 1998): pick k items one at a time, each time the one that
 * maximizes  λ · relevance(i) − (1 − λ) · max over chosen j of similarity(i, j)  (the second term is 0 while
 * nothing is chosen). λ = 1 is plain top-k by relevance; smaller λ trades relevance for less redundancy. Ties go
 * to the lower index. Only similarities to the chosen items are computed: O(n·k) calls, no n×n matrix.
 */
import type { ChosenSentence } from './scorer.js';

export const DEFAULT_MMR_LAMBDA = 0.7;

/** The k items MMR chooses, in the order chosen, each with its relevance as its score. */
export function mmrSelect(relevance: ArrayLike<number>, similarity: (i: number, j: number) => number, k: number,
  lambda = DEFAULT_MMR_LAMBDA): ChosenSentence[] {
  const n = relevance.length;
  const redundancy = new Float64Array(n).fill(-Infinity); // max similarity to a chosen item so far
  const taken = new Uint8Array(n);
  const out: ChosenSentence[] = [];
  for (let step = 0; step < Math.min(k, n); step++) {
    let best = -1;
    let bestValue = -Infinity;
    for (let i = 0; i < n; i++) {
      if (taken[i]) continue;
      const value = lambda * relevance[i] - (step === 0 ? 0 : (1 - lambda) * redundancy[i]);
      if (value > bestValue) {
        bestValue = value;
        best = i;
      }
    }
    taken[best] = 1;
    out.push({ index: best, score: relevance[best] });
    for (let i = 0; i < n; i++) if (!taken[i]) redundancy[i] = Math.max(redundancy[i], similarity(i, best));
  }
  return out;
}
