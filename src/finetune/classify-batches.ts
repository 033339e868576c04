/**
 * Batches of labeled examples for the classifier's training graph: a seeded shuffle per epoch, B examples per
 * micro-batch (crossing into the next epoch where one ends, so every batch is full), and the dropout keep-masks of
 * the graph's dropout sites. Its state (epoch, position, generator states) restores the exact same future batches,
 * so `finetune --resume` is exact. Validation feeds are fixed: every example once, in file order, the last batch
 * filled with padding rows (label −100: they count nowhere).
 */
import type { DropoutSite } from '../model/bert.js';
import { bool, f32, i64, type WireFeeds } from '../runtime/wire.js';
import { fillKeepMask } from '../train/dropout-masks.js';
import type { BatchSource } from '../train/trainer.js';
import { Rng, type RngState } from '../util/rng.js';
import { padRows, type EncodedExamples } from './examples.js';

export interface ClassifySourceOptions {
  batchSize: number;
  seqLen: number;
  padId: number;
  dropoutSites: readonly DropoutSite[];
  seed: number;
}

export interface ClassifySourceState {
  epoch: number;
  index: number;
  /** The order generator's state at the start of the current epoch (its shuffle is redone on restore). */
  epochRng: RngState;
  dropout: RngState;
}

export class ClassifyBatchSource implements BatchSource {
  readonly tokensPerMicroBatch: number;
  private order: Uint32Array;
  private epoch = 0;
  private index = 0;
  private orderRng: Rng;
  private epochRng!: RngState;
  private readonly dropoutRng: Rng;

  constructor(readonly data: EncodedExamples, readonly o: ClassifySourceOptions, state?: ClassifySourceState) {
    this.tokensPerMicroBatch = o.batchSize * o.seqLen;
    this.order = new Uint32Array(data.ids.length);
    if (state) {
      this.orderRng = new Rng(state.epochRng);
      this.dropoutRng = new Rng(state.dropout);
      this.startEpoch(state.epoch);
      this.index = state.index;
    } else {
      const root = new Rng(o.seed);
      this.orderRng = root.fork();
      this.dropoutRng = root.fork();
      this.startEpoch(0);
    }
  }

  private startEpoch(epoch: number): void {
    this.epoch = epoch;
    this.index = 0;
    this.epochRng = this.orderRng.getState();
    for (let i = 0; i < this.order.length; i++) this.order[i] = i;
    this.orderRng.shuffle(this.order);
  }

  next(k: number): WireFeeds[] {
    const { batchSize: B, seqLen: T } = this.o;
    const out: WireFeeds[] = [];
    for (let j = 0; j < k; j++) {
      const picked = new Uint32Array(B);
      for (let b = 0; b < B; b++) {
        if (this.index === this.order.length) this.startEpoch(this.epoch + 1);
        picked[b] = this.order[this.index++];
      }
      const feeds = classifyFeeds(this.data, picked, B, T, this.o.padId);
      for (const site of this.o.dropoutSites) {
        const n = site.shape.reduce((a, c) => a * c, 1);
        feeds[site.name] = bool(fillKeepMask(this.dropoutRng, new Uint8Array(n), site.keepProb), [...site.shape]);
      }
      out.push(feeds);
    }
    return out;
  }

  state(): ClassifySourceState {
    return { epoch: this.epoch, index: this.index, epochRng: [...this.epochRng] as RngState, dropout: this.dropoutRng.getState() };
  }

  /** Epochs done, as a fraction. */
  get epochs(): number {
    return this.epoch + this.index / Math.max(1, this.order.length);
  }
}

/** The graph feeds of examples `picked` as a batch of B rows of length T (short batches padded with label −100). */
export function classifyFeeds(data: EncodedExamples, picked: ArrayLike<number>, B: number, T: number, padId: number): WireFeeds {
  const r = padRows(data, picked, B, T, padId);
  return {
    input_ids: i64(r.ids, [B, T]),
    attention_mask: i64(r.mask, [B, T]),
    token_type_ids: i64(r.types, [B, T]),
    labels: i64(r.labels, [B]),
    example_weight: f32(r.weights, [B]),
  };
}

/** Every example once, in order, in batches of B (validation: weights 1, whatever the training weights). */
export function fixedClassifyFeeds(data: EncodedExamples, B: number, T: number, padId: number): WireFeeds[] {
  const unweighted = { ...data, weights: data.weights.map(() => 1) };
  const out: WireFeeds[] = [];
  for (let start = 0; start < data.ids.length; start += B) {
    const picked = Array.from({ length: Math.min(B, data.ids.length - start) }, (_, i) => start + i);
    out.push(classifyFeeds(unweighted, picked, B, T, padId));
  }
  return out;
}
