/**
 * Masked-LM batches for the trainer: the BatchSource of BERT pretraining, and the fixed validation feeds.
 *
 * Each step draws k·B blocks from the Batcher (packing.ts), masks them in ONE call (masking.ts: 15%, 80/10/10),
 * draws every dropout keep-mask for k·B rows, then cuts all of it into k micro-batches of B rows. So training with
 * `--grad-accum k --batch-size B` sees exactly the data, masking and dropout that `--batch-size k·B` would.
 *
 * Randomness: three seeded generators — block order (inside the Batcher), masking, dropout — whose states are the
 * source's state in checkpoints. Validation batches are masked once, from their own seed, and reused at every
 * evaluation so numbers are comparable; they run without dropout.
 */
import { fillKeepMask } from './dropout-masks.js';
import type { DropoutSite } from '../model/bert.js';
import { bool, i64, type WireFeeds } from '../runtime/wire.js';
import { Rng, type RngState } from '../util/rng.js';
import { IGNORE_INDEX } from '../model/losses.js';
import { maskBatch, type MlmBatch } from './masking.js';
import { Batcher, type BatcherState, type PackedDataset } from './packing.js';
import type { BatchSource } from './trainer.js';

const IGNORED = BigInt(IGNORE_INDEX);

export interface MlmSourceOptions {
  /** Rows per micro-batch (B). */
  batchSize: number;
  maxPredictions: number;
  vocabSize: number;
  /** The train graph's dropout keep-mask inputs (shapes with the micro-batch B first). */
  dropoutSites: readonly DropoutSite[];
  seed: number;
}

export interface MlmSourceState {
  batcher: BatcherState;
  mask: RngState;
  dropout: RngState;
}

export class MlmBatchSource implements BatchSource {
  private current: { rows: number; batcher: Batcher } | undefined;
  private batcherState: BatcherState | undefined;
  private readonly maskRng: Rng;
  private readonly dropoutRng: Rng;
  readonly tokensPerMicroBatch: number;

  constructor(
    readonly data: PackedDataset,
    readonly o: MlmSourceOptions,
    state?: MlmSourceState,
  ) {
    this.tokensPerMicroBatch = o.batchSize * data.seqLen;
    if (state) {
      this.batcherState = state.batcher;
      this.maskRng = new Rng(state.mask);
      this.dropoutRng = new Rng(state.dropout);
    } else {
      const root = new Rng(o.seed);
      const orderSeed = root.nextUint32();
      this.maskRng = root.fork();
      this.dropoutRng = root.fork();
      this.batcherState = new Batcher(data, { batchSize: 1, seed: orderSeed }).state();
    }
  }

  /** A Batcher of k·B rows positioned at the current state (the state does not depend on the batch size). */
  private batcher(rows: number): Batcher {
    if (this.current?.rows !== rows) this.current = { rows, batcher: new Batcher(this.data, { batchSize: rows }, this.batcherState) };
    return this.current.batcher;
  }

  next(k: number): WireFeeds[] {
    const B = this.o.batchSize;
    const batcher = this.batcher(k * B);
    const batch = batcher.next();
    this.batcherState = batcher.state();
    const mlm = maskBatch(batch, this.maskRng, { vocabSize: this.o.vocabSize, maxPredictions: this.o.maxPredictions });
    const masks = this.o.dropoutSites.map((site) => {
      const [, ...rest] = site.shape; // [B, ...]
      const perRow = rest.reduce((a, b) => a * b, 1);
      return { site, perRow, data: fillKeepMask(this.dropoutRng, new Uint8Array(k * B * perRow), site.keepProb) };
    });
    const out: WireFeeds[] = [];
    for (let j = 0; j < k; j++) {
      const feeds = microBatch(mlm, j * B, B);
      for (const m of masks) {
        const part = k === 1 ? m.data : m.data.slice(j * B * m.perRow, (j + 1) * B * m.perRow); // k = 1: no copy
        feeds[m.site.name] = bool(part, [...m.site.shape]);
      }
      out.push(feeds);
    }
    return out;
  }

  state(): MlmSourceState {
    return { batcher: { ...this.batcherState!, epochRng: [...this.batcherState!.epochRng] as RngState }, mask: this.maskRng.getState(), dropout: this.dropoutRng.getState() };
  }

  /** Epochs done, as a fraction. */
  get epochs(): number {
    const s = this.batcherState!;
    return s.epoch + s.index / Math.max(1, s.blocks);
  }
}

/**
 * Rows [start, start+B) of a masked batch as graph feeds (masked positions rebased to the micro-batch). Only the
 * scored slots are fed (at least one, so that a batch with nothing to predict still has a row): the masked-LM
 * head's row count is symbolic (heads/mlm.ts), and the M slots a sequence reserves are ~40% empty at 15% masking,
 * each an unused row of the [rows, V] vocabulary projection, its gradients and the loss.
 */
export function microBatch(mlm: MlmBatch, start: number, B: number): WireFeeds {
  const T = mlm.seqLen;
  const M = mlm.maxPredictions;
  const labels = mlm.maskedLabels.subarray(start * M, (start + B) * M);
  const scored: number[] = [];
  for (let i = 0; i < labels.length; i++) if (labels[i] !== IGNORED) scored.push(i);
  if (scored.length === 0) scored.push(0);
  const positions = new BigInt64Array(scored.length);
  const offset = BigInt(start * T);
  scored.forEach((slot, i) => (positions[i] = mlm.maskedPositions[start * M + slot] - offset));
  return {
    input_ids: i64(mlm.inputIds.slice(start * T, (start + B) * T), [B, T]),
    attention_mask: i64(mlm.attentionMask.slice(start * T, (start + B) * T), [B, T]),
    token_type_ids: i64(mlm.tokenTypeIds.slice(start * T, (start + B) * T), [B, T]),
    masked_positions: i64(positions, [positions.length]),
    masked_labels: i64(BigInt64Array.from(scored, (slot) => labels[slot]), [positions.length]),
  };
}

/**
 * The validation set as fixed feeds of B rows each. The whole set is masked once, as one batch, with `seed`, then
 * cut into batches, so the masking does not depend on B. The last batch is filled up with empty rows (all
 * padding, nothing to predict), which change neither the loss sum nor the count.
 */
export function fixedEvalFeeds(data: PackedDataset, o: { batchSize: number; maxPredictions: number; vocabSize: number; seed: number }): WireFeeds[] {
  const B = o.batchSize;
  const T = data.seqLen;
  const rows = Math.ceil(data.length / B) * B;
  const ids = new Int32Array(rows * T).fill(data.specials.pad);
  const attentionMask = new Uint8Array(rows * T);
  for (let i = 0; i < data.length; i++) {
    ids.set(data.block(i), i * T);
    attentionMask.fill(1, i * T, i * T + data.realLength(i));
  }
  const mlm = maskBatch({ batchSize: rows, seqLen: T, ids, attentionMask }, new Rng(o.seed), { vocabSize: o.vocabSize, maxPredictions: o.maxPredictions });
  const out: WireFeeds[] = [];
  for (let start = 0; start < rows; start += B) out.push(microBatch(mlm, start, B));
  return out;
}
