/**
 * Fill-mask inference (the Hugging Face `fill-mask` pipeline) on a model folder, with ONNX Runtime:
 *
 *   const fm = await FillMask.load('runs/mini');                 // config.json + model.safetensors + tokenizer
 *   const r = await fm.predict('The capital of France is [MASK].', 5);
 *   // { text, tokens, masks: [{ position, predictions: [{ token, token_id, score }, …] }] }
 *
 * Exactly what BertForMaskedLM does on the same folder: the text is encoded as `[CLS] … [SEP]` (truncated to 512
 * keeping the final [SEP]), attention_mask all ones, token_type_ids all zeros; the inference graph
 * (model/artifacts.ts, weights as initializers) gives logits at every position, and each [MASK] position's scores
 * are softmax probabilities over the whole vocabulary (computed in float64 from the float32 logits), top-k by
 * probability (ties: lower id first). `position` is the index in the encoded ids, [CLS] = 0.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { buildInference } from '../model/artifacts.js';
import { loadModelFolder } from '../model/checkpoint-folder.js';
import type { BertConfig } from '../model/config.js';
import { createSession, type SessionConfig } from '../runtime/session.js';
import { loadTokenizer, type Tokenizer } from '../tokenizer/tokenizer.js';
import { MODEL_MAX_LENGTH } from '../tokenizer/truncate.js';
import { UserError } from '../util/errors.js';

export interface Prediction {
  token: string;
  token_id: number;
  score: number;
}

export interface MaskResult {
  position: number;
  predictions: Prediction[];
}

export interface FillMaskResult {
  text: string;
  tokens: string[];
  truncated: boolean;
  masks: MaskResult[];
}

export class FillMask {
  private constructor(
    readonly config: BertConfig,
    readonly tokenizer: Tokenizer,
    private readonly session: ort.InferenceSession,
  ) {}

  static async load(dir: string, session: SessionConfig = {}): Promise<FillMask> {
    const { config, params } = await loadModelFolder(dir);
    // A model folder carries its tokenizer; without one, CompactLM's (the only vocabulary its models use).
    const tokenizer = await loadTokenizer(existsSync(join(dir, 'tokenizer.json')) ? dir : undefined);
    if (tokenizer.vocabSize !== config.vocab_size) {
      throw new UserError(`${dir}: the tokenizer has ${tokenizer.vocabSize} tokens but config.json says vocab_size ${config.vocab_size}`);
    }
    const spec = buildInference(config, params);
    return new FillMask(config, tokenizer, await createSession(spec.bytes, session));
  }

  async predict(text: string, topK = 5): Promise<FillMaskResult> {
    if (!(Number.isInteger(topK) && topK >= 1)) throw new UserError(`--top-k must be a positive whole number, got ${topK}`);
    const maxLength = Math.min(MODEL_MAX_LENGTH, this.config.max_position_embeddings);
    const enc = this.tokenizer.encode(text, null, maxLength);
    const ids = enc.input_ids;
    const maskId = this.tokenizer.maskId;
    const positions = ids.flatMap((id, i) => (id === maskId ? [i] : []));
    if (positions.length === 0) {
      throw new UserError(enc.truncated && this.tokenizer.ids(text).includes(maskId)
        ? `the text's [MASK] tokens are beyond the first ${maxLength} tokens`
        : 'the text has no [MASK] token (write it in capitals, e.g. "Paris is the [MASK] of France.")');
    }
    const T = ids.length;
    const feeds = {
      input_ids: new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), [1, T]),
      attention_mask: new ort.Tensor('int64', new BigInt64Array(T).fill(1n), [1, T]),
      token_type_ids: new ort.Tensor('int64', new BigInt64Array(T), [1, T]),
    };
    const { logits } = await this.session.run(feeds);
    const V = this.config.vocab_size;
    const all = logits.data as Float32Array;
    const k = Math.min(topK, V);
    const masks = positions.map((position) => ({ position, predictions: topPredictions(all.subarray(position * V, (position + 1) * V), k, this.tokenizer) }));
    return { text, tokens: enc.tokens, truncated: enc.truncated, masks };
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}

/** Softmax over one row of logits and its k most probable tokens. */
export function topPredictions(row: Float32Array, k: number, tokenizer: Pick<Tokenizer, 'idsToTokens'>): Prediction[] {
  const probs = softmax(row);
  const order = Array.from({ length: row.length }, (_, i) => i);
  // Partial selection would be faster; a full sort of 30k indices is ~5 ms and keeps ties deterministic.
  order.sort((a, b) => probs[b] - probs[a] || a - b);
  const top = order.slice(0, k);
  const tokens = tokenizer.idsToTokens(top);
  return top.map((id, i) => ({ token: tokens[i], token_id: id, score: probs[id] }));
}

/** Numerically stable softmax in float64. */
export function softmax(row: ArrayLike<number>): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < row.length; i++) if (row[i] > max) max = row[i];
  const out = new Float64Array(row.length);
  let sum = 0;
  for (let i = 0; i < row.length; i++) sum += out[i] = Math.exp(row[i] - max);
  for (let i = 0; i < row.length; i++) out[i] /= sum;
  return out;
}

/** The human-readable table `compactlm infer` prints. */
export function formatTable(r: FillMaskResult): string {
  const lines: string[] = [];
  r.masks.forEach((m, i) => {
    lines.push(`[MASK] ${i + 1} of ${r.masks.length} (token position ${m.position})`);
    const width = Math.max(5, ...m.predictions.map((p) => p.token.length));
    lines.push(`  rank  ${'token'.padEnd(width)}  token_id  score`);
    m.predictions.forEach((p, j) => {
      lines.push(`  ${String(j + 1).padStart(4)}  ${p.token.padEnd(width)}  ${String(p.token_id).padStart(8)}  ${p.score.toFixed(6)}`);
    });
  });
  return lines.join('\n') + '\n';
}
