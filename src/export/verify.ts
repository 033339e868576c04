/**
 * Checks an export before it is published, on a validation sample of sentences:
 *
 * - fp32: onnx/model.onnx (opset 17, dynamic dims, as written to disk) against the training side's own inference
 *   graph (model/step-compiler.ts (kind 'inference'), opset 20, weights from the model folder): max |Δlogit| and max
 *   |Δlast_hidden_state| over every position of every padded batch must each be ≤ 1e-4, else the export fails.
 * - int8: onnx/model_quantized.onnx against fp32 on masked-LM inputs: 15% of each sentence's content tokens are
 *   replaced by [MASK] (at least one), and the arg-max token at those positions is compared (top-1 agreement), plus
 *   how often each model predicts the original token (masked-LM accuracy). int8 runs one sentence per call: its
 *   activation scales are per tensor, so in a padded batch one sentence's outputs depend on the others.
 *
 * All runs use onnxruntime-node (src/runtime/session.ts), graph optimization 'all', as `infer` will.
 */
import ort from 'onnxruntime-node';
import { fileURLToPath } from 'node:url';
import { readCsv } from '../data/csv.js';
import { compileStep } from '../model/step-compiler.js';
import type { BertConfig } from '../model/config.js';
import { createSession } from '../runtime/session.js';
import type { Tokenizer } from '../tokenizer/tokenizer.js';
import { UserError } from '../util/errors.js';
import { Rng } from '../util/rng.js';

/** The fp32 export must reproduce the training graph's logits and last_hidden_state to this (absolute). */
export const FP32_TOLERANCE = 1e-4;
/** The outputs of both export models, in order (logits first: fill-mask pipelines read it, or output 0). */
export const EXPORT_OUTPUTS = ['logits', 'last_hidden_state'] as const;
/** Share of content tokens masked for the int8 agreement check (BERT's 15%). */
export const MASK_FRACTION = 0.15;

/** The built-in validation sample: CompactLM's committed sentiment sentences (datasets/sentiment.csv). */
export const BUILTIN_VAL = fileURLToPath(new URL('../../datasets/sentiment.csv', import.meta.url));

/**
 * `samples` texts drawn uniformly (seeded reservoir sampling, one streaming pass) from a CSV column, in file
 * order. Empty texts are skipped.
 */
export async function loadValTexts(file: string, textColumn: string, samples: number, seed: number): Promise<string[]> {
  const csv = await readCsv(file, { requireColumns: [textColumn] });
  const rng = new Rng(seed);
  const picked: Array<{ row: number; text: string }> = [];
  let seen = 0;
  for await (const { record, row } of csv.rows) {
    const text = record[textColumn].trim();
    if (!text) continue;
    seen++;
    if (picked.length < samples) picked.push({ row, text });
    else {
      const j = rng.int(seen);
      if (j < samples) picked[j] = { row, text };
    }
  }
  if (picked.length === 0) throw new UserError(`${file}: column ${textColumn} has no non-empty text`);
  return picked.sort((a, b) => a.row - b.row).map((p) => p.text);
}

export interface MaskedSample {
  /** Token ids per sentence ([CLS] … [SEP], truncated), with [MASK] at `masked`. */
  ids: number[][];
  /** Original ids, before masking. */
  original: number[][];
  /** Masked positions per sentence. */
  masked: number[][];
}

/** Tokenizes and masks MASK_FRACTION of each sentence's content tokens (not specials, not [UNK]), seeded. */
export function maskSample(tok: Tokenizer, texts: readonly string[], maxLength: number, seed: number): MaskedSample {
  const rng = new Rng(seed);
  const out: MaskedSample = { ids: [], original: [], masked: [] };
  for (const text of texts) {
    const ids = tok.encode(text, null, maxLength).input_ids;
    const candidates: number[] = [];
    for (let t = 1; t < ids.length - 1; t++) if (ids[t] !== tok.unkId) candidates.push(t);
    if (candidates.length === 0) continue;
    const k = Math.max(1, Math.round(MASK_FRACTION * candidates.length));
    const positions = (rng.shuffle(candidates) as number[]).slice(0, k).sort((a, b) => a - b);
    const masked = [...ids];
    for (const t of positions) masked[t] = tok.maskId;
    out.ids.push(masked);
    out.original.push(ids);
    out.masked.push(positions);
  }
  return out;
}

/** A padded int64 batch [B, T] as ORT feeds. */
export function batchFeeds(rows: readonly number[][], padId = 0): { feeds: Record<string, ort.Tensor>; T: number } {
  const B = rows.length;
  const T = Math.max(...rows.map((r) => r.length));
  const ids = new BigInt64Array(B * T).fill(BigInt(padId));
  const mask = new BigInt64Array(B * T);
  rows.forEach((r, b) => r.forEach((id, t) => {
    ids[b * T + t] = BigInt(id);
    mask[b * T + t] = 1n;
  }));
  const dims = [B, T];
  return {
    feeds: {
      input_ids: new ort.Tensor('int64', ids, dims),
      attention_mask: new ort.Tensor('int64', mask, dims),
      token_type_ids: new ort.Tensor('int64', new BigInt64Array(B * T), dims),
    },
    T,
  };
}

function argmax(x: Float32Array, off: number, n: number): number {
  let best = 0;
  for (let i = 1; i < n; i++) if (x[off + i] > x[off + best]) best = i;
  return best;
}

/**
 * Sentence indices grouped into batches of similar length (little padding) whose logits stay under ~24 MB: glibc
 * hands out buffers above its mmap threshold (at most 32 MB) as fresh pages, which are slow to touch on small VMs.
 */
export function makeBatches(lengths: readonly number[], vocab: number, maxBatch: number): number[][] {
  const order = lengths.map((_, i) => i).sort((a, b) => lengths[a] - lengths[b] || a - b);
  const batches: number[][] = [];
  let cur: number[] = [];
  for (const i of order) {
    const rows = cur.length + 1;
    if (cur.length > 0 && (rows > maxBatch || rows * lengths[i] * vocab * 4 > 24e6)) {
      batches.push(cur);
      cur = [];
    }
    cur.push(i);
  }
  if (cur.length > 0) batches.push(cur);
  return batches;
}

export interface Verification {
  sentences: number;
  tokens: number;
  /** max |Δlogit| between onnx/model.onnx and the training-side inference graph. */
  fp32MaxAbsDiff: number;
  /** max |Δlast_hidden_state| between the same two (the encoder output `infer --task embed` pools). */
  fp32HiddenMaxAbsDiff: number;
  int8?: {
    maskedTokens: number;
    /** Share of masked positions where int8 and fp32 pick the same top-1 token. */
    top1Agreement: number;
    /** Share of masked positions where fp32 / int8 predict the original token. */
    fp32Accuracy: number;
    int8Accuracy: number;
    /** max |Δlogit| int8 vs fp32 at masked positions (for scale). */
    maxAbsDiff: number;
  };
}

export interface VerifyOptions {
  config: BertConfig;
  params: ReadonlyMap<string, Float32Array>;
  /** Paths of the written fp32 and (optional) int8 models. */
  fp32Path: string;
  int8Path?: string;
  sample: MaskedSample;
  batchSize?: number;
  threads?: number;
  /** Called after each batch with sentences done and the total. */
  onProgress?: (done: number, total: number) => void;
}

/** Largest |a − b| over two equal-length arrays, folded into `max`; a NaN makes it Infinity. */
export function maxAbsDiff(a: Float32Array, b: Float32Array, max: number): number {
  if (a.length !== b.length) return Infinity;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= max)) max = Number.isNaN(d) ? Infinity : d;
  }
  return max;
}

/** Runs the checks above; throws a UserError when fp32 differs from the training graph by more than 1e-4. */
export async function verifyExport(o: VerifyOptions): Promise<Verification> {
  const V = o.config.vocab_size;
  const reference = await createSession(compileStep({ kind: 'inference', config: o.config, weights: o.params, outputs: ['logits', 'last_hidden_state'] }).bytes,
    { threads: o.threads });
  const fp32 = await createSession(o.fp32Path, { threads: o.threads });
  const int8 = o.int8Path ? await createSession(o.int8Path, { threads: o.threads }) : undefined;
  const batches = makeBatches(o.sample.ids.map((r) => r.length), V, o.batchSize ?? 16);
  let maxFp32 = 0;
  let maxHidden = 0;
  let maxInt8 = 0;
  let tokens = 0;
  let masked = 0;
  let agree = 0;
  let fp32Right = 0;
  let int8Right = 0;
  let done = 0;
  try {
    for (const [path, s] of [[o.fp32Path, fp32], [o.int8Path, int8]] as const) {
      if (s && s.outputNames.join() !== EXPORT_OUTPUTS.join()) {
        throw new UserError(`export check failed: ${path} has outputs ${s.outputNames.join(', ')}, expected ${EXPORT_OUTPUTS.join(', ')}`);
      }
    }
    for (const batch of batches) {
      const rows = batch.map((i) => o.sample.ids[i]);
      const { feeds, T } = batchFeeds(rows);
      const ref = await reference.run(feeds);
      const out = await fp32.run(feeds);
      const got = out.logits.data as Float32Array;
      maxFp32 = maxAbsDiff(ref.logits.data as Float32Array, got, maxFp32);
      maxHidden = maxAbsDiff(ref.last_hidden_state.data as Float32Array, out.last_hidden_state.data as Float32Array, maxHidden);
      tokens += rows.reduce((n, r) => n + r.length, 0);
      done += rows.length;
      o.onProgress?.(done, o.sample.ids.length);
      if (!int8) continue;
      // int8 one sentence at a time: its activation scales are per tensor over the whole batch (padding included),
      // so batched int8 logits depend on the neighbours; batch 1 is what a single fill-mask call sees.
      for (const [b, i] of batch.entries()) {
        const q = (await int8.run(batchFeeds([o.sample.ids[i]]).feeds)).logits.data as Float32Array;
        for (const t of o.sample.masked[i]) {
          const off = (b * T + t) * V;
          const a = argmax(got, off, V);
          const c = argmax(q, t * V, V);
          const truth = o.sample.original[i][t];
          masked++;
          if (a === c) agree++;
          if (a === truth) fp32Right++;
          if (c === truth) int8Right++;
          for (let k = 0; k < V; k++) maxInt8 = Math.max(maxInt8, Math.abs(got[off + k] - q[t * V + k]));
        }
      }
    }
  } finally {
    await reference.release();
    await fp32.release();
    await int8?.release();
  }
  if (!(maxFp32 <= FP32_TOLERANCE)) {
    throw new UserError(`export check failed: onnx/model.onnx differs from the training graph by max |Δlogit| = ${maxFp32.toExponential(3)} > ${FP32_TOLERANCE}`);
  }
  if (!(maxHidden <= FP32_TOLERANCE)) {
    throw new UserError(`export check failed: onnx/model.onnx differs from the training graph by max |Δlast_hidden_state| = ${maxHidden.toExponential(3)} > ${FP32_TOLERANCE}`);
  }
  const result: Verification = { sentences: o.sample.ids.length, tokens, fp32MaxAbsDiff: maxFp32, fp32HiddenMaxAbsDiff: maxHidden };
  if (int8) {
    result.int8 = {
      maskedTokens: masked,
      top1Agreement: agree / masked,
      fp32Accuracy: fp32Right / masked,
      int8Accuracy: int8Right / masked,
      maxAbsDiff: maxInt8,
    };
  }
  return result;
}
