import { Augmenter, rowRng } from '../data/augment.js';
import type { Rng } from '../util/rng.js';

/**
 * Perturbed copies of a test set, to see how much accuracy a model loses on text that is a little off:
 *
 *   typos     every word (a run of 2+ letters) gets, with probability TYPO_P, one of four keyboard slips at a
 *             random letter: swap it with the next one, drop it, type it twice, or replace it by another letter
 *             (same case)
 *   synonyms  `compactlm augment`'s WordNet synonym replacement (data/augment.ts) at share SYNONYM_P, no insertion
 *
 * Row r (1-based) draws from rowRng(seed, r), as `augment` does: a row's copy depends only on its text, the seed and
 * its position, and `compactlm augment --synonym-p 0.1 --insert-p 0` with the same seed makes the same synonyms.
 */

export const TYPO_P = 0.1;
export const SYNONYM_P = 0.1;

const WORD = /\p{L}{2,}/gu;
const LOWER = 'abcdefghijklmnopqrstuvwxyz';

/** One slip in `word` (two or more letters, as code points) at a random letter. */
function slip(word: string, rng: Rng): string {
  const c = Array.from(word);
  const kind = rng.int(4);
  if (kind === 0) {
    const i = rng.int(c.length - 1);
    [c[i], c[i + 1]] = [c[i + 1], c[i]];
  } else if (kind === 1) {
    c.splice(rng.int(c.length), 1);
  } else if (kind === 2) {
    const i = rng.int(c.length);
    c.splice(i, 0, c[i]);
  } else {
    const i = rng.int(c.length);
    const lower = c[i].toLowerCase();
    const others = LOWER.replace(lower, ''); // a non-ASCII letter has all 26 to choose from
    const letter = others[rng.int(others.length)];
    c[i] = c[i] === lower ? letter : letter.toUpperCase();
  }
  return c.join('');
}

/** `text` with seeded typos; everything but the changed words is kept byte for byte. */
export function withTypos(text: string, rng: Rng, p = TYPO_P): string {
  return text.replace(WORD, (word) => (rng.next() < p ? slip(word, rng) : word));
}

export type Perturbation = 'typos' | 'synonyms';

/** Perturbed copies of `texts` (and of their `pairs`, from the same row generator). */
export function perturbTexts(
  kind: Perturbation,
  texts: readonly string[],
  pairs: readonly string[] | undefined,
  seed: number,
  augmenter: () => Augmenter = () => new Augmenter({ synonymP: SYNONYM_P, insertP: 0 }),
): { texts: string[]; pairs?: string[] } {
  let change: (text: string, rng: Rng) => string;
  if (kind === 'typos') {
    change = (text, rng) => withTypos(text, rng);
  } else {
    const a = augmenter();
    change = (text, rng) => a.augment(text, rng).text;
  }
  const outTexts: string[] = [];
  const outPairs: string[] = [];
  texts.forEach((text, i) => {
    const rng = rowRng(seed, i + 1);
    outTexts.push(change(text, rng));
    if (pairs) outPairs.push(change(pairs[i], rng));
  });
  return pairs ? { texts: outTexts, pairs: outPairs } : { texts: outTexts };
}
