/**
 * Batches of documents for the extractive summarizer's training graph (heads/extractive.ts, extractive-loss.ts):
 * B windows of T tokens [CLS] s1 [SEP] [CLS] s2 [SEP] … (right-padded), and S sentence slots per window: the
 * flat [CLS] positions b·T + t, their oracle labels and a mask (1 = a real sentence; unused slots point at the
 * row's first token with mask 0). A seeded shuffle per epoch, every batch full (crossing into the next epoch
 * where one ends), and the dropout keep-masks of the graph's sites; the state (epoch, position, generator states)
 * restores the same future batches, so `finetune --task extractive --resume` is exact. Validation feeds are
 * fixed: every document once, in file order, the last batch filled with empty rows (mask 0: they count nowhere).
 */
import type { DropoutSite } from '../model/bert.js';
import { bool, f32, i64, type WireFeeds } from '../runtime/wire.js';
import { fillKeepMask } from '../train/dropout-masks.js';
import type { BatchSource } from '../train/trainer.js';
import { Rng, type RngState } from '../util/rng.js';
import type { ExtractiveExamples } from './extractive-data.js';

/** Static shape of the graphs: B windows of T tokens with S sentence slots each. */
export interface ExtractiveShape {
  batchSize: number;
  seqLen: number;
  sentences: number;
}

export interface ExtractiveSourceOptions extends ExtractiveShape {
  padId: number;
  dropoutSites: readonly DropoutSite[];
  seed: number;
}

export interface ExtractiveSourceState {
  epoch: number;
  index: number;
  /** The order generator's state at the start of the current epoch (its shuffle is redone on restore). */
  epochRng: RngState;
  dropout: RngState;
}

export class ExtractiveBatchSource implements BatchSource {
  readonly tokensPerMicroBatch: number;
  private readonly order: Uint32Array;
  private epoch = 0;
  private index = 0;
  private readonly orderRng: Rng;
  private epochRng!: RngState;
  private readonly dropoutRng: Rng;

  constructor(readonly data: ExtractiveExamples, readonly o: ExtractiveSourceOptions, state?: ExtractiveSourceState) {
    this.tokensPerMicroBatch = o.batchSize * o.seqLen;
    this.order = new Uint32Array(data.ids.length);
    const root = new Rng(o.seed);
    [this.orderRng, this.dropoutRng] = state ? [new Rng(state.epochRng), new Rng(state.dropout)] : [root.fork(), root.fork()];
    this.shuffle(state?.epoch ?? 0);
    this.index = state?.index ?? 0;
  }

  private shuffle(epoch: number): void {
    this.epoch = epoch;
    this.index = 0;
    this.epochRng = this.orderRng.getState();
    this.order.forEach((_, i) => (this.order[i] = i));
    this.orderRng.shuffle(this.order);
  }

  next(k: number): WireFeeds[] {
    return Array.from({ length: k }, () => {
      const picked = Array.from({ length: this.o.batchSize }, () => {
        if (this.index === this.order.length) this.shuffle(this.epoch + 1);
        return this.order[this.index++];
      });
      const feeds = extractiveFeeds(this.data, picked, this.o, this.o.padId);
      for (const site of this.o.dropoutSites) {
        const n = site.shape.reduce((a, c) => a * c, 1);
        feeds[site.name] = bool(fillKeepMask(this.dropoutRng, new Uint8Array(n), site.keepProb), [...site.shape]);
      }
      return feeds;
    });
  }

  state(): ExtractiveSourceState {
    return { epoch: this.epoch, index: this.index, epochRng: [...this.epochRng] as RngState, dropout: this.dropoutRng.getState() };
  }
}

/** The feeds of documents `picked` as one batch (rows past `picked` are empty: mask 0 everywhere). */
export function extractiveFeeds(data: ExtractiveExamples, picked: readonly number[], shape: ExtractiveShape, padId: number): WireFeeds {
  const { batchSize: B, seqLen: T, sentences: S } = shape;
  const ids = new BigInt64Array(B * T).fill(BigInt(padId));
  const mask = new BigInt64Array(B * T);
  const types = new BigInt64Array(B * T);
  const positions = new BigInt64Array(B * S);
  const labels = new Float32Array(B * S);
  const sentenceMask = new Float32Array(B * S);
  for (let b = 0; b < B; b++) {
    positions.fill(BigInt(b * T), b * S, (b + 1) * S);
    if (b >= picked.length) continue;
    const k = picked[b];
    const row = data.ids[k];
    if (row.length > T || data.clsPositions[k].length > S) throw new Error(`extractiveFeeds: document ${k} does not fit [T=${T}, S=${S}]`);
    row.forEach((id, t) => {
      ids[b * T + t] = BigInt(id);
      mask[b * T + t] = 1n;
      types[b * T + t] = BigInt(data.typeIds[k][t]);
    });
    data.clsPositions[k].forEach((t, s) => {
      positions[b * S + s] = BigInt(b * T + t);
      labels[b * S + s] = data.labels[k][s];
      sentenceMask[b * S + s] = 1;
    });
  }
  return {
    input_ids: i64(ids, [B, T]),
    attention_mask: i64(mask, [B, T]),
    token_type_ids: i64(types, [B, T]),
    cls_positions: i64(positions, [B * S]),
    sentence_labels: f32(labels, [B * S]),
    sentence_mask: f32(sentenceMask, [B * S]),
  };
}

/** Every document once, in order, in batches of B (validation). */
export function fixedExtractiveFeeds(data: ExtractiveExamples, shape: ExtractiveShape, padId: number): WireFeeds[] {
  const out: WireFeeds[] = [];
  for (let start = 0; start < data.ids.length; start += shape.batchSize) {
    const picked = Array.from({ length: Math.min(shape.batchSize, data.ids.length - start) }, (_, i) => start + i);
    out.push(extractiveFeeds(data, picked, shape, padId));
  }
  return out;
}
