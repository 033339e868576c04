/**
 * `trained`: BertSumExt's sentence scores from a folder of `compactlm finetune --task extractive`
 * (heads/extractive.ts), with its trigram blocking.
 *
 *   const scorer = await TrainedScorer.load('runs/extractive');
 *   await scorer.choose(splitSentences(text), 3)        → [{ index, score }, …]   score = P(in the summary)
 *
 * 1. The document is fed as the model was trained (finetune/extractive-data.ts): `[CLS] s1 [SEP] [CLS] s2 [SEP] …`
 *    with interval segment ids, in windows of whole sentences of at most 512 tokens (the model's window), so a
 *    document of any length is scored and a sentence is never split across windows (one longer than a window
 *    keeps its first 510 tokens). Each window after the first starts with up to 256 tokens of the sentences
 *    before it as context, scored in the window before (`sentenceWindows`: without it a later window's first
 *    sentences look like a lead to the model). Up to 8 windows run per encoder call, so the encoder's memory is
 *    bounded by that batch, whatever the document's length.
 * 2. A sentence's score is sigmoid of the classifier's logit at its [CLS] (`sentence_logits` of the inference
 *    graph, compiled from the folder by the step compiler and cached like every model folder's graph).
 * 3. Selection (Liu & Lapata 2019, after Paulus et al. 2018): sentences by descending score, skipping a candidate
 *    that shares a trigram (rouge_score's lower-case alphanumeric tokens) with one already chosen, until k are
 *    chosen; only if fewer than k survive the blocking are the best skipped ones added, so k always come back.
 *
 * Export folders are refused: `compactlm export` writes the masked-LM/classifier graphs only, so an export has no
 * sentence classifier; run `trained` on the model folder.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { sentenceWindows, type SentenceWindow } from '../finetune/extractive-data.js';
import { folderTokenizer, isExportFolder } from '../infer/encoder-model.js';
import { headFor } from '../model/architecture.js';
import { CONFIG_FILE, loadModelFolder, WEIGHTS_FILE } from '../model/checkpoint-folder.js';
import { EXTRACTIVE_SUMMARIZATION, isExtractive, loadConfig, type BertConfig } from '../model/config.js';
import { compileStep } from '../model/step-compiler.js';
import { cachedGraph, storeGraph } from '../runtime/graph-cache.js';
import { createSession, type SessionConfig } from '../runtime/session.js';
import type { Tokenizer } from '../tokenizer/tokenizer.js';
import { MODEL_MAX_LENGTH } from '../tokenizer/truncate.js';
import { UserError } from '../util/errors.js';
import { refuseUnfinished } from '../util/output-manifest.js';
import { ngramCounts, rougeTokens } from './rouge.js';
import type { ChosenSentence, SentenceScorer } from './scorer.js';
import type { Sentence } from './sentences.js';

/** The inference graph's output: the sentence classifier's logit at every position, [batch, sequence, 1]. */
export const SENTENCE_LOGITS = 'sentence_logits';
/** Padded tokens per encoder call (8 windows of 512). */
const TOKENS_PER_RUN = 4096;

export class TrainedScorer implements SentenceScorer {
  readonly method = 'trained' as const;

  private constructor(readonly config: BertConfig, readonly tokenizer: Tokenizer, private readonly session: ort.InferenceSession) {}

  /** The scorer of an extractive model folder (one line for an export folder or a folder of another kind). */
  static async load(dir: string, o: SessionConfig = {}): Promise<TrainedScorer> {
    if (isExportFolder(dir)) {
      throw new UserError(`${dir}: is an export folder, and exports hold no sentence classifier: --method trained runs on the model folder from \`compactlm finetune --task extractive\``);
    }
    refuseUnfinished(dir);
    const config = await loadConfig(join(dir, CONFIG_FILE));
    if (!isExtractive(config)) throw new UserError(`${dir}: is a ${config.architectures[0] ?? 'BertForMaskedLM'}, not a ${EXTRACTIVE_SUMMARIZATION} (from \`compactlm finetune --task extractive\`)`);
    const tokenizer = await folderTokenizer(dir, config);
    const key = { dir, output: SENTENCE_LOGITS };
    const cached = existsSync(join(dir, WEIGHTS_FILE)) ? await cachedGraph(key) : null;
    let graph: string | Uint8Array | null = cached;
    if (!graph) {
      const { params } = await loadModelFolder(dir);
      graph = compileStep({ kind: 'inference', config, head: headFor(config), weights: params, outputs: [SENTENCE_LOGITS] }).bytes;
      if (existsSync(join(dir, WEIGHTS_FILE))) await storeGraph(key, graph);
    }
    return new TrainedScorer(config, tokenizer, await createSession(graph, o));
  }

  /** Longest window, [CLS]/[SEP] included. */
  get maxLength(): number {
    return Math.min(MODEL_MAX_LENGTH, this.config.max_position_embeddings);
  }

  async choose(sentences: readonly Sentence[], k: number): Promise<ChosenSentence[]> {
    const texts = sentences.map((s) => s.text);
    return trigramBlockedTopK(texts, await this.scores(texts), k);
  }

  /** P(in the summary) of each sentence, in order. */
  async scores(sentences: readonly string[]): Promise<Float64Array> {
    const windows = sentenceWindows(sentences.map((s) => this.tokenizer.ids(s)), this.maxLength, this.tokenizer);
    const perRun = Math.max(1, Math.floor(TOKENS_PER_RUN / this.maxLength));
    const out = new Float64Array(sentences.length);
    for (let i = 0; i < windows.length; i += perRun) {
      const batch = windows.slice(i, i + perRun);
      const { data, T } = await this.run(batch);
      batch.forEach((w, b) => w.clsPositions.forEach((t, s) => {
        if (s >= w.context) out[w.first + s] = sigmoid(data[b * T + t]);
      }));
    }
    return out;
  }

  /** One right-padded batch of windows → sentence_logits [B·T] (one logit per position). */
  private async run(windows: readonly SentenceWindow[]): Promise<{ data: Float32Array; T: number }> {
    const B = windows.length;
    const T = Math.max(...windows.map((w) => w.ids.length));
    const ids = new BigInt64Array(B * T).fill(BigInt(this.tokenizer.padId));
    const mask = new BigInt64Array(B * T);
    const types = new BigInt64Array(B * T);
    windows.forEach((w, b) => w.ids.forEach((id, t) => {
      ids[b * T + t] = BigInt(id);
      mask[b * T + t] = 1n;
      types[b * T + t] = BigInt(w.typeIds[t]);
    }));
    const feeds = {
      input_ids: new ort.Tensor('int64', ids, [B, T]),
      attention_mask: new ort.Tensor('int64', mask, [B, T]),
      token_type_ids: new ort.Tensor('int64', types, [B, T]),
    };
    const out = await this.session.run(feeds, [SENTENCE_LOGITS]);
    return { data: out[SENTENCE_LOGITS].data as Float32Array, T };
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

/**
 * The k sentences by descending score with trigram blocking (see the file comment), in the order chosen; ties go
 * to the earlier sentence.
 */
export function trigramBlockedTopK(texts: readonly string[], scores: ArrayLike<number>, k: number): ChosenSentence[] {
  const order = Array.from({ length: texts.length }, (_, i) => i).sort((a, b) => scores[b] - scores[a] || a - b);
  const seen = new Set<string>();
  const chosen: number[] = [];
  const blocked: number[] = [];
  for (const i of order) {
    if (chosen.length === k) break;
    const trigrams = [...ngramCounts(rougeTokens(texts[i]), 3).keys()];
    if (trigrams.some((t) => seen.has(t))) {
      blocked.push(i);
      continue;
    }
    chosen.push(i);
    for (const t of trigrams) seen.add(t);
  }
  chosen.push(...blocked.slice(0, Math.max(0, k - chosen.length)));
  return chosen.map((index) => ({ index, score: scores[index] }));
}
