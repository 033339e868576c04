/**
 * Packing a tokenized corpus into fixed-length training blocks, and batching them in a resumable shuffled order.
 *
 *   const data = await PackedDataset.pack(openShards(dir), { seqLen: 128 });   // all blocks in one Uint16Array
 *   const batcher = new Batcher(data, { batchSize: 16, seed });               // or new Batcher(data, opts, state)
 *   const batch = batcher.next();          // { ids: Int32Array [B*T], attentionMask: Uint8Array [B*T], ... }
 *   checkpoint.batcher = batcher.state();  // JSON-safe; restoring it yields exactly the batch that came next
 *
 * How blocks are made (the choice, versus HF run_mlm's `group_texts`): each document's tokens are taken without
 * its own [CLS]/[SEP], documents are joined with one [SEP] between them, and the stream is cut into pieces of
 * seqLen−2 tokens, each framed as `[CLS] piece [SEP]`. Unlike group_texts (which concatenates the already-framed
 * sequences and cuts blindly, so most blocks start mid-text without [CLS]) every block looks like a BERT input
 * at inference time: [CLS] at position 0 and [SEP] last. No separator is put at the very start of a block (the
 * block's [CLS] already marks a boundary), so a document that ends exactly at a block end leaves no trace; one that
 * ends one token before gives `… x [SEP] [SEP]`. The final, shorter block is kept and padded with [PAD]
 * (attention_mask 0) by default — small corpora should not lose text — or dropped with `last: 'drop'`.
 *
 * The batcher walks an endless stream of epochs, each a fresh seeded permutation of the blocks; a batch may span
 * the end of one epoch and the start of the next, so every batch has exactly B blocks (static shapes) and no block
 * is skipped. Its state is (epoch, index within the epoch, the RNG state the epoch's permutation was drawn from).
 */
import { UserError } from '../util/errors.js';
import { Rng, type RngState } from '../util/rng.js';
import { SPECIAL_IDS, type SpecialIds } from '../tokenizer/vocab.js';

export interface PackOptions {
  /** Block length T including [CLS] and [SEP] (≥ 3). */
  seqLen: number;
  /** What to do with a final block shorter than T: pad it (default) or drop it. */
  last?: 'pad' | 'drop';
  specials?: SpecialIds;
}

export class PackedDataset {
  private constructor(
    /** All blocks, row-major [length, seqLen]. */
    readonly tokens: Uint16Array,
    readonly seqLen: number,
    /** Number of blocks. */
    readonly length: number,
    /** Non-padding tokens in the last block (== seqLen unless it was padded). */
    readonly lastLength: number,
    readonly specials: SpecialIds,
  ) {}

  /** Packs documents (token sequences, each usually `[CLS] … [SEP]`; those two are stripped when present). */
  static async pack(docs: Iterable<Uint16Array> | AsyncIterable<Uint16Array>, opts: PackOptions): Promise<PackedDataset> {
    const T = opts.seqLen;
    if (!Number.isInteger(T) || T < 3 || T > 65535) throw new UserError(`sequence length must be an integer in [3, 65535], got ${T}`);
    const sp = opts.specials ?? SPECIAL_IDS;
    const cap = T - 2; // content tokens per block
    let buf = new Uint16Array(T * 64);
    let blocks = 0;
    let fill = 0; // content tokens in the block being built
    const pos = () => blocks * T + 1 + fill;
    const grow = () => {
      if ((blocks + 1) * T <= buf.length) return;
      const bigger = new Uint16Array(buf.length * 2);
      bigger.set(buf);
      buf = bigger;
    };
    const closeBlock = () => {
      buf[blocks * T] = sp.cls;
      buf[blocks * T + 1 + fill] = sp.sep;
      blocks++;
      fill = 0;
      grow();
    };
    const push = (id: number) => {
      buf[pos()] = id;
      if (++fill === cap) closeBlock();
    };
    for await (const doc of docs) {
      let start = 0;
      let end = doc.length;
      if (end > start && doc[start] === sp.cls) start++;
      if (end > start && doc[end - 1] === sp.sep) end--;
      if (end === start) continue;
      if (fill > 0) push(sp.sep);
      for (let i = start; i < end; i++) push(doc[i]);
    }
    let lastLength = T;
    if (fill > 0 && opts.last !== 'drop') {
      lastLength = fill + 2;
      const padFrom = blocks * T + fill + 2;
      closeBlock();
      buf.fill(sp.pad, padFrom, blocks * T);
    }
    if (blocks === 0) throw new UserError(`the corpus has no tokens to fill one block of ${T} (try a smaller sequence length)`);
    return new PackedDataset(buf.slice(0, blocks * T), T, blocks, lastLength, sp);
  }

  /** Block i as a view [seqLen] (padded with [PAD] after realLength(i) tokens). */
  block(i: number): Uint16Array {
    return this.tokens.subarray(i * this.seqLen, (i + 1) * this.seqLen);
  }

  /** Non-padding tokens of block i. */
  realLength(i: number): number {
    return i === this.length - 1 ? this.lastLength : this.seqLen;
  }
}

/** A batch of B blocks, row-major [B, T]. Convert with `toInt64` for ONNX Runtime int64 inputs. */
export interface Batch {
  batchSize: number;
  seqLen: number;
  ids: Int32Array;
  attentionMask: Uint8Array;
  /** Which dataset blocks the rows are. */
  blocks: Uint32Array;
}

/** Where a Batcher is; JSON-safe. */
export interface BatcherState {
  epoch: number;
  /** Next position in this epoch's order. */
  index: number;
  /** RNG state from which this epoch's permutation was drawn. */
  epochRng: RngState;
  /** Dataset size, checked on restore so a checkpoint is not resumed on different data. */
  blocks: number;
  shuffle: boolean;
}

export interface BatcherOptions {
  batchSize: number;
  /** Seed of the epoch permutations (ignored when restoring a state). */
  seed?: number;
  /** Shuffle each epoch (default true); false walks blocks in corpus order (evaluation). */
  shuffle?: boolean;
}

export class Batcher {
  readonly batchSize: number;
  private order: Uint32Array;
  private epoch = 0;
  private index = 0;
  private rng: Rng;
  private epochRng!: RngState; // set by startEpoch
  private readonly shuffle: boolean;

  constructor(
    readonly data: PackedDataset,
    opts: BatcherOptions,
    state?: BatcherState,
  ) {
    if (!Number.isInteger(opts.batchSize) || opts.batchSize < 1) throw new UserError(`batch size must be a positive integer, got ${opts.batchSize}`);
    this.batchSize = opts.batchSize;
    this.order = new Uint32Array(data.length);
    if (state) {
      if (state.blocks !== data.length) {
        throw new UserError(`the checkpoint was made on ${state.blocks} training blocks but the data now has ${data.length}: resume with the same data and sequence length`);
      }
      this.shuffle = state.shuffle;
      this.rng = new Rng(state.epochRng);
      this.startEpoch(state.epoch);
      this.index = state.index;
    } else {
      this.shuffle = opts.shuffle ?? true;
      this.rng = new Rng(opts.seed ?? 42);
      this.startEpoch(0);
    }
  }

  private startEpoch(epoch: number): void {
    this.epoch = epoch;
    this.index = 0;
    this.epochRng = this.rng.getState();
    for (let i = 0; i < this.order.length; i++) this.order[i] = i;
    if (this.shuffle) this.rng.shuffle(this.order);
  }

  /** The next B blocks (crossing into the next epoch when this one runs out). */
  next(): Batch {
    const B = this.batchSize;
    const T = this.data.seqLen;
    const ids = new Int32Array(B * T);
    const attentionMask = new Uint8Array(B * T);
    const blocks = new Uint32Array(B);
    for (let b = 0; b < B; b++) {
      if (this.index === this.order.length) this.startEpoch(this.epoch + 1);
      const k = this.order[this.index++];
      blocks[b] = k;
      ids.set(this.data.block(k), b * T);
      attentionMask.fill(1, b * T, b * T + this.data.realLength(k));
    }
    return { batchSize: B, seqLen: T, ids, attentionMask, blocks };
  }

  /** Epochs completed as a fraction (for logs). */
  get epochs(): number {
    return this.epoch + this.index / this.order.length;
  }

  state(): BatcherState {
    return { epoch: this.epoch, index: this.index, epochRng: [...this.epochRng] as RngState, blocks: this.data.length, shuffle: this.shuffle };
  }
}

/** Widens ids or a mask to the int64 tensor data ONNX Runtime expects for BERT inputs. */
export function toInt64(a: ArrayLike<number>): BigInt64Array {
  const out = new BigInt64Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = BigInt(a[i]);
  return out;
}
