/**
 * Labeled texts → token rows for a classifier: `[CLS] text [SEP]` (or `[CLS] text [SEP] pair [SEP]`) truncated to
 * max length with [SEP] kept, label ids and per-example weights. The training graphs have static shapes, so rows
 * are padded to one length T: the longest encoded example of the run (≤ --max-length), not --max-length itself —
 * padded keys are masked out, so the results are the same and short-sentence sets train several times faster.
 */
import type { Tokenizer } from '../tokenizer/tokenizer.js';

export interface EncodedExamples {
  /** Token ids, attention mask and token type ids of each example (unpadded). */
  ids: number[][];
  typeIds: number[][];
  labels: number[];
  weights: number[];
  /** Examples cut to fit max length. */
  truncated: number;
  /** Longest encoded example, [CLS]/[SEP] included. */
  longest: number;
}

export function encodeExamples(
  tok: Tokenizer,
  rows: { texts: readonly string[]; pairs?: readonly string[] },
  labels: readonly number[],
  weights: readonly number[],
  maxLength: number,
): EncodedExamples {
  const out: EncodedExamples = { ids: [], typeIds: [], labels: [...labels], weights: [...weights], truncated: 0, longest: 0 };
  rows.texts.forEach((text, i) => {
    const e = tok.encode(text, rows.pairs ? rows.pairs[i] : null, maxLength);
    out.ids.push(e.input_ids);
    out.typeIds.push(e.token_type_ids);
    if (e.truncated) out.truncated++;
    out.longest = Math.max(out.longest, e.input_ids.length);
  });
  return out;
}

/** Rows `picked` of the examples as one padded batch of `B` rows [B, T]; rows past `picked` are padding (label −100). */
export function padRows(ex: EncodedExamples, picked: ArrayLike<number>, B: number, T: number, padId: number) {
  const ids = new BigInt64Array(B * T).fill(BigInt(padId));
  const mask = new BigInt64Array(B * T);
  const types = new BigInt64Array(B * T);
  const labels = new BigInt64Array(B).fill(-100n);
  const weights = new Float32Array(B);
  for (let b = 0; b < picked.length; b++) {
    const k = picked[b];
    const row = ex.ids[k];
    for (let t = 0; t < row.length; t++) {
      ids[b * T + t] = BigInt(row[t]);
      mask[b * T + t] = 1n;
      types[b * T + t] = BigInt(ex.typeIds[k][t]);
    }
    labels[b] = BigInt(ex.labels[k]);
    weights[b] = ex.weights[k];
  }
  return { ids, mask, types, labels, weights };
}
