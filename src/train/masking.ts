/**
 * Dynamic masking for masked-LM pretraining (BERT; Hugging Face DataCollatorForLanguageModeling), drawn afresh for
 * every batch from a seeded Rng, plus the fixed-size gather list the train graph needs.
 *
 *   const M = defaultMaxPredictions(128);                                   // 32 for T=128, p=0.15
 *   const mlm = maskBatch(batcher.next(), maskRng, { vocabSize: 30522, maxPredictions: M });
 *   feeds: mlm.inputIds, mlm.attentionMask, mlm.tokenTypeIds            // int64 [B*T]
 *          mlm.maskedPositions, mlm.maskedLabels                        // int64 [B*M]
 *   checkpoint: maskRng.getState()   // the draws per batch vary in number, so save the state, not a counter
 *
 * Rules, and where they follow or differ from HF:
 * - Candidates are tokens with attention_mask 1 that are not [PAD] [UNK] [CLS] [SEP] [MASK]. HF's fallback
 *   special-tokens mask (`get_special_tokens_mask(already_has_special_tokens=True)`) marks every id in
 *   `all_special_ids`, which includes [UNK]; we follow that, since learning to predict [UNK] teaches nothing.
 * - Selection `'bernoulli'` (default, HF): each candidate independently with probability p (0.15), so the count
 *   varies per sequence. `'exact'` (original BERT create_pretraining_data): exactly min(M, max(1, round(p·n)))
 *   candidates, n = non-padding length including [CLS]/[SEP].
 * - The train graph runs the MLM head only at M gathered positions per sequence (static shapes). With Bernoulli
 *   selection a sequence can draw more than M; then a uniformly random subset of M is kept and the others are left
 *   untouched in the input (corrupting a position that is never scored only adds noise). `numDropped` counts them;
 *   `defaultMaxPredictions` picks M so that this is rare (≤ 0.1% of sequences).
 * - Each kept position: with probability 0.8 → [MASK], 0.1 → a random token, 0.1 → unchanged (HF draws
 *   Bernoulli(0.8) then Bernoulli(0.5); one uniform draw gives the same distribution). HF draws the random token
 *   uniformly over the whole vocabulary; we redraw when it hits one of the five special ids, so the model never
 *   sees a stray [CLS]/[SEP]/[MASK]/[PAD] inside text.
 * - If a whole batch selects nothing (possible only with very short blocks), one candidate of the batch is chosen
 *   uniformly, so the mean loss over masked positions is never 0/0.
 * - Gather list: slots [b·M, b·M+M) belong to sequence b; kept positions ascending as flat indices b·T+t into
 *   [B*T], then unused slots point at b·T (its [CLS]) with label −100.
 * - Draw order (fixed, so a seed and an Rng state determine everything): per sequence the selection draws, then
 *   the subset draws; then the batch fallback; then per sequence, per kept position, the 80/10/10 draws.
 */
import { UserError } from '../util/errors.js';
import type { Rng } from '../util/rng.js';
import { IGNORE_INDEX } from '../model/losses.js';
import { SPECIAL_IDS, type SpecialIds } from '../tokenizer/vocab.js';

export interface MaskingOptions {
  vocabSize: number;
  /** Gathered prediction slots per sequence (M). */
  maxPredictions: number;
  /** Selection probability p (default 0.15). */
  probability?: number;
  selection?: 'bernoulli' | 'exact';
  /** Share of kept positions replaced by [MASK] (default 0.8) and by a random token (default 0.1). */
  maskShare?: number;
  randomShare?: number;
  specials?: SpecialIds;
}

/** What maskBatch needs of a batch (packing's Batch fits). Arrays are row-major [B*T]. */
export interface TokenBatch {
  batchSize: number;
  seqLen: number;
  ids: ArrayLike<number>;
  attentionMask: ArrayLike<number>;
}

export interface MlmBatch {
  batchSize: number;
  seqLen: number;
  maxPredictions: number;
  /** ONNX Runtime feeds, int64. [B*T]: */
  inputIds: BigInt64Array;
  attentionMask: BigInt64Array;
  tokenTypeIds: BigInt64Array;
  /** [B*M] flat indices into [B*T], and the original ids there (−100 in unused slots). */
  maskedPositions: BigInt64Array;
  maskedLabels: BigInt64Array;
  /** HF-style labels [B*T]: the original id at scored positions, −100 elsewhere (for reference losses). */
  labels: Int32Array;
  /** Scored positions in the batch, and positions selected but left out because a sequence drew more than M. */
  numPredictions: number;
  numDropped: number;
}

export function maskBatch(batch: TokenBatch, rng: Rng, opts: MaskingOptions): MlmBatch {
  const { batchSize: B, seqLen: T, ids, attentionMask } = batch;
  const M = opts.maxPredictions;
  const V = opts.vocabSize;
  const p = opts.probability ?? 0.15;
  const maskShare = opts.maskShare ?? 0.8;
  const randomShare = opts.randomShare ?? 0.1;
  const sp = opts.specials ?? SPECIAL_IDS;
  if (!(p > 0 && p <= 1)) throw new UserError(`mask probability must be in (0, 1], got ${p}`);
  if (!Number.isInteger(M) || M < 1 || M > T) throw new UserError(`max predictions per sequence must be an integer in [1, ${T}], got ${M}`);
  if (!(maskShare >= 0 && randomShare >= 0 && maskShare + randomShare <= 1)) {
    throw new UserError(`mask share ${maskShare} + random share ${randomShare} must be within [0, 1]`);
  }
  if (ids.length !== B * T || attentionMask.length !== B * T) throw new RangeError(`maskBatch: arrays must hold ${B}x${T} values`);
  const special = new Set([sp.pad, sp.unk, sp.cls, sp.sep, sp.mask]);
  if (!Number.isInteger(V) || V <= special.size) throw new UserError(`vocabulary size ${V} is too small`);
  const isCandidate = (i: number) => attentionMask[i] !== 0 && !special.has(ids[i]);

  // 1. Selection: kept[b*M .. b*M+count[b]) hold positions t (ascending).
  const kept = new Int32Array(B * M);
  const count = new Int32Array(B);
  let numDropped = 0;
  let candidatesInBatch = 0;
  const row: number[] = [];
  for (let b = 0; b < B; b++) {
    row.length = 0;
    const base = b * T;
    if ((opts.selection ?? 'bernoulli') === 'bernoulli') {
      for (let t = 0; t < T; t++) {
        if (!isCandidate(base + t)) continue;
        candidatesInBatch++;
        if (rng.next() < p) row.push(t);
      }
    } else {
      let nonPad = 0;
      for (let t = 0; t < T; t++) {
        if (attentionMask[base + t] !== 0) nonPad++;
        if (isCandidate(base + t)) row.push(t);
      }
      candidatesInBatch += row.length;
      const k = Math.min(M, row.length, Math.max(1, Math.round(p * nonPad)));
      keepRandomSubset(row, k, rng);
    }
    if (row.length > M) {
      numDropped += row.length - M;
      keepRandomSubset(row, M, rng);
    }
    row.sort((x, y) => x - y);
    for (let j = 0; j < row.length; j++) kept[b * M + j] = row[j];
    count[b] = row.length;
  }

  // 2. Never an empty batch while there is something to predict.
  let numPredictions = count.reduce((s, c) => s + c, 0);
  if (numPredictions === 0 && candidatesInBatch > 0) {
    let r = rng.int(candidatesInBatch);
    for (let i = 0; i < B * T; i++) {
      if (isCandidate(i) && r-- === 0) {
        const b = Math.floor(i / T);
        kept[b * M] = i - b * T;
        count[b] = 1;
        break;
      }
    }
    numPredictions = 1;
  }

  // 3. Corruption (80/10/10) and the outputs.
  const inputIds = new BigInt64Array(B * T);
  const mask64 = new BigInt64Array(B * T);
  for (let i = 0; i < B * T; i++) {
    inputIds[i] = BigInt(ids[i]);
    mask64[i] = attentionMask[i] !== 0 ? 1n : 0n;
  }
  const labels = new Int32Array(B * T).fill(IGNORE_INDEX);
  const maskedPositions = new BigInt64Array(B * M);
  const maskedLabels = new BigInt64Array(B * M).fill(BigInt(IGNORE_INDEX));
  for (let b = 0; b < B; b++) {
    for (let j = 0; j < M; j++) maskedPositions[b * M + j] = BigInt(b * T);
    for (let j = 0; j < count[b]; j++) {
      const i = b * T + kept[b * M + j];
      const original = ids[i];
      labels[i] = original;
      maskedPositions[b * M + j] = BigInt(i);
      maskedLabels[b * M + j] = BigInt(original);
      const u = rng.next();
      if (u < maskShare) {
        inputIds[i] = BigInt(sp.mask);
      } else if (u < maskShare + randomShare) {
        let r: number;
        do r = rng.int(V);
        while (special.has(r));
        inputIds[i] = BigInt(r);
      }
    }
  }
  return {
    batchSize: B,
    seqLen: T,
    maxPredictions: M,
    inputIds,
    attentionMask: mask64,
    tokenTypeIds: new BigInt64Array(B * T),
    maskedPositions,
    maskedLabels,
    labels,
    numPredictions,
    numDropped,
  };
}

/** Keeps a uniformly random k-subset of `items` in place (partial Fisher–Yates; order not meaningful). */
function keepRandomSubset(items: number[], k: number, rng: Rng): void {
  for (let i = 0; i < k; i++) {
    const j = i + rng.int(items.length - i);
    const tmp = items[i];
    items[i] = items[j];
    items[j] = tmp;
  }
  items.length = k;
}

/**
 * M for Bernoulli selection: the smallest M with P(Binomial(T−2, p) > M) ≤ `tail` (default 0.001), i.e. at
 * most about one sequence in a thousand has predictions left out. T=128, p=0.15 → 32 (BERT's fixed-count
 * recipe used 20; Bernoulli with M=20 would drop predictions in about a third of the sequences).
 */
export function defaultMaxPredictions(seqLen: number, probability = 0.15, tail = 1e-3): number {
  const n = seqLen - 2;
  if (n <= 0) return 1;
  const lp = Math.log(probability);
  const lq = Math.log1p(-probability);
  // log C(n,k) built incrementally; pmf(k) = exp(logC + k·lp + (n−k)·lq).
  let logC = 0;
  let cdf = 0;
  for (let k = 0; k <= n; k++) {
    if (k > 0) logC += Math.log((n - k + 1) / k);
    cdf += Math.exp(logC + k * lp + (n - k) * lq);
    if (1 - cdf <= tail) return Math.max(1, k);
  }
  return n;
}
