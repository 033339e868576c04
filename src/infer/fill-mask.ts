/**
 * Fill-mask inference (the Hugging Face `fill-mask` pipeline) on a model folder or an export folder:
 *
 *   const fm = await FillMask.load('runs/mini');                 // or an export folder; { int8: true } for int8
 *   const r = await fm.predict('The capital of France is [MASK].', 5);
 *   // { text, tokens, truncated, masks: [{ position, predictions: [{ token, token_id, score }, …] }] }
 *   for await (const r of inferBatches(fm.task(5), readInputFile('texts.txt'), 'texts.txt')) …   // many texts
 *
 * Exactly what BertForMaskedLM does on the same folder: the text is encoded as `[CLS] … [SEP]` (truncated to 512
 * keeping the final [SEP]), attention_mask ones, token_type_ids zeros; the encoder (encoder-model.ts: the
 * inference graph of a model folder, or onnx/model.onnx of an export) gives the logits — a model folder's graph
 * only at the [MASK] positions (`masked_logits`), an export's at every position — and each
 * [MASK] position's scores are softmax probabilities over the whole vocabulary (computed in float64 from the
 * float32 logits), top-k by probability (ties: lower id first). `position` is the index in the encoded ids,
 * [CLS] = 0. Batches are right-padded with attention_mask 0, which leaves each text's results unchanged.
 */
import type { SessionConfig } from '../runtime/session.js';
import type { Tokenizer } from '../tokenizer/tokenizer.js';
import { problemAt, warnTruncated, type BatchTask, type Encoded } from './batches.js';
import { EncoderModel, hasFillMaskGraph, isExportFolder } from './encoder-model.js';

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

/** Padded tokens per fill-mask run: 2^25 logits (128 MB) at bert-base's vocabulary is ~1,100 tokens. */
const LOGITS_BUDGET = 2 ** 25;

export class FillMask {
  private constructor(private readonly model: EncoderModel) {}

  get config() {
    return this.model.config;
  }

  get tokenizer(): Tokenizer {
    return this.model.tokenizer;
  }

  /** 'model folder', 'export fp32' or 'export int8'. */
  get source() {
    return this.model.source;
  }

  static async load(dir: string, session: SessionConfig & { int8?: boolean } = {}): Promise<FillMask> {
    // The vocabulary projection only at the [MASK] rows: a model folder's graph, or an export's task graph (exports
    // made before it, or with --no-task-graphs, have the logits of every position only).
    const masked = !isExportFolder(dir) || hasFillMaskGraph(dir, session.int8);
    return new FillMask(await EncoderModel.load(dir, { ...session, output: masked ? 'masked_logits' : 'logits' }));
  }

  /** One text (truncation is warned about); an error when it has no [MASK]. */
  async predict(text: string, topK = 5): Promise<FillMaskResult> {
    const task = this.task(topK);
    const enc = task.encode(text);
    if (enc.truncated) warnTruncated(task.maxLength);
    return (await task.runBatch([enc]))[0];
  }

  /** Several texts as one padded batch (inferBatches splits long inputs into such batches). */
  async predictBatch(texts: readonly string[], topK = 5): Promise<FillMaskResult[]> {
    const task = this.task(topK);
    return task.runBatch(texts.map((t) => task.encode(t)));
  }

  /** The batch task for inferBatches, with `topK` predictions per [MASK]. */
  task(topK: number): BatchTask<FillMaskResult> {
    if (!(Number.isInteger(topK) && topK >= 1)) throw new Error(`fill-mask: top-k must be a positive whole number, got ${topK}`);
    const { model, tokenizer } = this;
    const V = this.config.vocab_size;
    const k = Math.min(topK, V);
    const maxLength = model.maxLength;
    return {
      maxLength,
      maxBatch: model.maxBatch,
      maxBatchTokens: Math.max(maxLength, Math.floor(LOGITS_BUDGET / V)),
      encode(text: string, where?: string): Encoded {
        const enc = tokenizer.encode(text, null, maxLength);
        if (!enc.input_ids.includes(tokenizer.maskId)) {
          throw problemAt(where, enc.truncated && tokenizer.ids(text).includes(tokenizer.maskId)
            ? `the text's [MASK] tokens are beyond the first ${maxLength} tokens`
            : 'the text has no [MASK] token (write it in capitals, e.g. "Paris is the [MASK] of France.")');
        }
        return { text, ids: enc.input_ids, tokens: enc.tokens, truncated: enc.truncated };
      },
      async runBatch(batch: readonly Encoded[]): Promise<FillMaskResult[]> {
        const positions = batch.map((e) => e.ids.flatMap((id, i) => (id === tokenizer.maskId ? [i] : [])));
        const T = Math.max(0, ...batch.map((e) => e.ids.length));
        const masked = model.output === 'masked_logits';
        // masked_logits: one row per [MASK], in batch order; logits: every position of the padded batch.
        const flat = positions.flatMap((ps, b) => ps.map((t) => b * T + t));
        const { data } = await model.run(batch.map((e) => e.ids), undefined, masked ? flat : undefined);
        let row = 0;
        return batch.map((e, b) => {
          const masks = positions[b].map((position) => {
            const off = (masked ? row++ : b * T + position) * V;
            return { position, predictions: topPredictions(data.subarray(off, off + V), k, tokenizer) };
          });
          return { text: e.text, tokens: e.tokens, truncated: e.truncated, masks };
        });
      },
    };
  }

  async close(): Promise<void> {
    await this.model.close();
  }
}

/** Softmax over one row of logits and its k most probable tokens. */
export function topPredictions(row: Float32Array, k: number, tokenizer: Pick<Tokenizer, 'idsToTokens'>): Prediction[] {
  const probs = softmax(row);
  const top = topK(probs, k);
  const tokens = tokenizer.idsToTokens(top);
  return top.map((id, i) => ({ token: tokens[i], token_id: id, score: probs[id] }));
}

/**
 * The ids of the k largest values, largest first, ties by the lower id: the first k of a full sort by (value desc,
 * id asc), found in one pass that keeps a sorted top k (k ≪ the vocabulary).
 */
export function topK(values: ArrayLike<number>, k: number): number[] {
  const top: number[] = [];
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (top.length === k && !(v > values[top[k - 1]])) continue; // equal values keep the lower (earlier) id
    let j = top.length < k ? top.length : k - 1;
    while (j > 0 && v > values[top[j - 1]]) {
      if (j < k) top[j] = top[j - 1];
      j--;
    }
    top[j] = i;
  }
  return top;
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
