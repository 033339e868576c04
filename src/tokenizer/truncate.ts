import { UserError } from '../util/errors.js';

/**
 * Truncation to a model's maximum length (512 for BERT) that keeps the final [SEP]: the content is cut first and
 * the special tokens added afterwards, as Hugging Face `tokenizers` does (transformers.js 2.17.2 instead cuts the
 * finished sequence, losing [SEP]). [CLS] A [SEP] costs 2 specials, [CLS] A [SEP] B [SEP] costs 3.
 */

export const MODEL_MAX_LENGTH = 512;

export function specialsCount(pair: boolean): number {
  return pair ? 3 : 2;
}

/** Rejects a max_length without room for the specials or beyond the model's position embeddings. */
export function checkMaxLength(maxLength: number, pair: boolean): void {
  const min = specialsCount(pair);
  if (!Number.isInteger(maxLength) || maxLength < min || maxLength > MODEL_MAX_LENGTH) {
    throw new UserError(
      `sequence length ${maxLength}: must be a whole number from ${min} to ${MODEL_MAX_LENGTH}` +
        `${pair ? ' with --pair ([CLS] A [SEP] B [SEP] needs 3 special tokens)' : ''}`,
    );
  }
}

/**
 * How many tokens of each sequence to keep so that the pair fits in `budget` (max_length minus the specials),
 * with HF's LongestFirst strategy (tokenizers/src/utils/truncation.rs, `truncate_encodings`): if the shorter
 * sequence fits in half the budget it is kept whole and the longer one gets the rest; otherwise each gets half,
 * and an odd token goes to the longer one — to the second when both are equally long. (This equals removing one
 * token at a time from the longer sequence, except for that tie; Python's slow tokenizer gives it to the first.)
 */
export function longestFirst(lenA: number, lenB: number, budget: number): [number, number] {
  if (lenA + lenB <= budget) return [lenA, lenB];
  const swap = lenA > lenB;
  let n1 = swap ? lenB : lenA; // the shorter
  let n2: number;
  n2 = n1 > budget ? n1 : Math.max(n1, budget - n1);
  if (n1 + n2 > budget) {
    n1 = Math.floor(budget / 2);
    n2 = n1 + (budget % 2);
  }
  return swap ? [n2, n1] : [n1, n2];
}

export interface Truncated<T> {
  a: T;
  b: T | null;
  /** Whether any content token was dropped. */
  truncated: boolean;
}

/** Cuts the content of a single sequence or a pair so that, with its specials, it fits in `maxLength`. */
export function truncateContent<T extends { length: number; slice(start: number, end: number): T }>(
  a: T,
  b: T | null,
  maxLength: number,
): Truncated<T> {
  const budget = maxLength - specialsCount(b !== null);
  if (b === null) {
    return a.length <= budget ? { a, b, truncated: false } : { a: a.slice(0, budget), b, truncated: true };
  }
  const [na, nb] = longestFirst(a.length, b.length, budget);
  return { a: a.slice(0, na), b: b.slice(0, nb), truncated: na < a.length || nb < b.length };
}
