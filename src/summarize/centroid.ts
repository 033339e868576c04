/**
 * `centroid`, the unsupervised default: the sentences closest in meaning to the whole document, without repeats.
 *
 *   const scorer = new CentroidScorer(await Embedder.load('models/compactlm-mini'));
 *   await scorer.choose(splitSentences(text), 3)        → [{ index, score }, …]
 *
 * 1. Each sentence is encoded on its own (mean-pooled last hidden state, Embedder), the sentences batched through
 *    inferBatches. A sentence longer than the model's window (512 tokens) is encoded in windows of whole words
 *    that each fit, and its vector is the token-weighted mean of theirs, so nothing is cut off.
 * 2. The document vector is the mean of the L2-normalized sentence vectors; a sentence's score is its cosine
 *    similarity to it.
 * 3. MMR (mmr.ts, λ = 0.7 by default) picks k sentences; redundancy is the largest cosine to one already picked.
 * Memory grows with the number of sentences (one vector of hidden_size each), never with their square, and the
 * encoder sees one batch at a time: a 20,000-word document runs in a few MB beyond the model.
 */
import { inferBatches } from '../infer/batches.js';
import type { Embedder } from '../infer/embed.js';
import type { InputText } from '../infer/input-texts.js';
import type { Tokenizer } from '../tokenizer/tokenizer.js';
import { DEFAULT_MMR_LAMBDA, mmrSelect } from './mmr.js';
import type { ChosenSentence, SentenceScorer } from './scorer.js';
import type { Sentence } from './sentences.js';

export interface CentroidOptions {
  /** MMR trade-off between relevance and redundancy (1: relevance only). */
  lambda?: number;
  /** Sentences per encoder run. */
  batchSize?: number;
}

export class CentroidScorer implements SentenceScorer {
  readonly method = 'centroid' as const;
  private readonly lambda: number;
  private readonly batchSize: number | undefined;

  constructor(private readonly embedder: Embedder, o: CentroidOptions = {}) {
    this.lambda = o.lambda ?? DEFAULT_MMR_LAMBDA;
    this.batchSize = o.batchSize;
  }

  async choose(sentences: readonly Sentence[], k: number): Promise<ChosenSentence[]> {
    // one sentence is its own centroid: nothing to encode (it may be a 20,000-word run without full stops)
    if (sentences.length === 1) return [{ index: 0, score: 1 }];
    const vectors = await this.vectors(sentences.map((s) => s.text));
    const relevance = centroidRelevance(vectors);
    return mmrSelect(relevance, (i, j) => dot(vectors[i], vectors[j]), k, this.lambda);
  }

  /** One L2-normalized vector per text, in order (long texts encoded in windows). */
  async vectors(texts: readonly string[]): Promise<Float64Array[]> {
    const task = this.embedder.task();
    const limit = task.maxLength - 2;
    const tokenizer = this.embedder.tokenizer;
    const H = this.embedder.config.hidden_size;
    const sums = texts.map(() => new Float64Array(H));
    // Pieces in order, each remembering its text and weight; generated lazily so a long document is never
    // tokenized into windows all at once.
    const owners: { text: number; weight: number }[] = [];
    async function* pieces(): AsyncGenerator<InputText> {
      for (let t = 0; t < texts.length; t++) {
        for (const w of windows(texts[t], tokenizer, limit)) {
          owners.push({ text: t, weight: w.weight });
          yield { line: t + 1, text: w.text };
        }
      }
    }
    let p = 0;
    for await (const r of inferBatches(task, pieces(), 'the document (sentence)', { batchSize: this.batchSize })) {
      const { text, weight } = owners[p++];
      const sum = sums[text];
      for (let h = 0; h < H; h++) sum[h] += weight * r.embedding[h];
    }
    return sums.map(normalize);
  }

  async close(): Promise<void> {
    await this.embedder.close();
  }
}

/** Cosine similarity of each (normalized) vector to the mean of them all. */
export function centroidRelevance(vectors: readonly Float64Array[]): Float64Array {
  if (vectors.length === 0) return new Float64Array(0);
  const H = vectors[0].length;
  const mean = new Float64Array(H);
  for (const v of vectors) for (let h = 0; h < H; h++) mean[h] += v[h] / vectors.length;
  const c = normalize(mean);
  return Float64Array.from(vectors, (v) => dot(v, c));
}

export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** `v / |v|` (a zero vector stays zero). */
export function normalize(v: Float64Array): Float64Array {
  const n = Math.sqrt(dot(v, v));
  return n > 0 ? v.map((x) => x / n) : v;
}

/**
 * `text` as pieces of whole words of at most `limit` tokens each, weighted by their token counts (a text that
 * fits is one piece of weight 1: the weight only matters between the pieces of one text). Word by word is exact:
 * BERT's pre-tokenizer splits at whitespace, so a text's tokens are its words' tokens. A single word longer than
 * `limit` tokens is a piece of its own (the encoder truncates it).
 */
export function windows(text: string, tokenizer: Pick<Tokenizer, 'ids'>, limit: number): { text: string; weight: number }[] {
  // Every token covers at least one non-space character, so a short text fits without tokenizing it.
  if (text.replace(/\s+/g, '').length <= limit || tokenizer.ids(text).length <= limit) return [{ text, weight: 1 }];
  const out: { text: string; weight: number }[] = [];
  let start = -1;
  let end = 0;
  let tokens = 0;
  for (const m of text.matchAll(/\S+/g)) {
    const n = tokenizer.ids(m[0]).length;
    if (start >= 0 && tokens + n > limit) {
      out.push({ text: text.slice(start, end), weight: Math.min(tokens, limit) });
      start = -1;
      tokens = 0;
    }
    if (start < 0) start = m.index;
    end = m.index + m[0].length;
    tokens += n;
  }
  if (start >= 0) out.push({ text: text.slice(start, end), weight: Math.max(1, Math.min(tokens, limit)) });
  return out;
}
