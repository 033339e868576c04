/**
 * Sentence embeddings: the mean of the encoder's last_hidden_state over the text's tokens.
 *
 *   const e = await Embedder.load('runs/mini');
 *   const { text, embedding, dim } = await e.embed('The weather is lovely today.');   // dim = hidden_size
 *
 * Pooling is sentence-transformers' `Pooling(pooling_mode_mean_tokens=True)`: Σ_t mask_t·h_t / Σ_t mask_t over the
 * positions with attention_mask 1, so [CLS] and [SEP] are included and padding is not; the vector is not
 * normalized (divide by its L2 norm for cosine similarity). The sum is taken in float64 from the float32 states.
 * Model folders run the inference graph with the output last_hidden_state; export folders use the
 * last_hidden_state output that `compactlm export` writes next to logits (an ONNX file from another tool without
 * it gets a one-line error).
 */
import type { SessionConfig } from '../runtime/session.js';
import type { Tokenizer } from '../tokenizer/tokenizer.js';
import { warnTruncated, type BatchTask, type Encoded } from './batches.js';
import { EncoderModel } from './encoder-model.js';

export interface EmbedResult {
  text: string;
  embedding: number[];
  dim: number;
}

/** Padded tokens per run: hidden states are small, so the batch size is what limits a run. */
const TOKENS_BUDGET = 2 ** 16;

export class Embedder {
  private constructor(private readonly model: EncoderModel) {}

  get config() {
    return this.model.config;
  }

  get tokenizer(): Tokenizer {
    return this.model.tokenizer;
  }

  static async load(dir: string, session: SessionConfig & { int8?: boolean } = {}): Promise<Embedder> {
    return new Embedder(await EncoderModel.load(dir, { ...session, output: 'last_hidden_state' }));
  }

  async embed(text: string): Promise<EmbedResult> {
    const task = this.task();
    const enc = task.encode(text);
    if (enc.truncated) warnTruncated(task.maxLength);
    return (await task.runBatch([enc]))[0];
  }

  async embedBatch(texts: readonly string[]): Promise<EmbedResult[]> {
    const task = this.task();
    return task.runBatch(texts.map((t) => task.encode(t)));
  }

  /** The batch task for inferBatches. */
  task(): BatchTask<EmbedResult> {
    const { model, tokenizer } = this;
    const H = this.config.hidden_size;
    return {
      maxLength: model.maxLength,
      maxBatch: model.maxBatch,
      maxBatchTokens: TOKENS_BUDGET,
      encode(text: string): Encoded {
        const enc = tokenizer.encode(text, null, model.maxLength);
        return { text, ids: enc.input_ids, tokens: enc.tokens, truncated: enc.truncated };
      },
      async runBatch(batch: readonly Encoded[]): Promise<EmbedResult[]> {
        const { data, T } = await model.run(batch.map((e) => e.ids));
        return batch.map((e, b) => ({ text: e.text, embedding: Array.from(meanPool(data, b, T, H, e.ids.length)), dim: H }));
      },
    };
  }

  async close(): Promise<void> {
    await this.model.close();
  }
}

/**
 * Mean of rows 0..length-1 of sequence `b` in hidden states [B, T, H] (row-major): the positions a right-padded
 * batch marks with attention_mask 1.
 */
export function meanPool(hidden: Float32Array, b: number, T: number, H: number, length: number): Float64Array {
  const out = new Float64Array(H);
  for (let t = 0; t < length; t++) {
    const off = (b * T + t) * H;
    for (let h = 0; h < H; h++) out[h] += hidden[off + h];
  }
  for (let h = 0; h < H; h++) out[h] /= length;
  return out;
}
