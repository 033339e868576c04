/**
 * Extractive summaries of a text with a model folder or an export folder: the library entry of `compactlm
 * summarize`, `eval --task summarize` and the server.
 *
 *   const s = await loadSummarizer('models/compactlm-mini', { int8: false, threads: 2 });
 *   const r = await s.summarize(article, { method: 'centroid', sentences: 3 });
 *   r.summary            // the chosen sentences, in document order, one per line (ROUGE-Lsum's layout)
 *   r.sentences          // [{ index, text, start, end, score }]: text === article.slice(start, end)
 *   await s.close();
 *
 * The length is `sentences` (default 3) or `ratio` of the document's sentences (rounded, at least 1), never more
 * than there are: a one-sentence document comes back whole. Methods (scorer.ts): `centroid` and `lead` on any
 * encoder folder, `trained` only on a folder fine-tuned with `compactlm finetune --task extractive`, whose
 * config.json says "task": "extractive" (and then it is the default method). Encoders load on first use, so a
 * lead-only caller never loads the model.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { Embedder } from '../infer/embed.js';
import { isExportFolder } from '../infer/encoder-model.js';
import { CONFIG_FILE } from '../model/checkpoint-folder.js';
import { EXTRACTIVE_TASK, loadConfig } from '../model/config.js';
import type { Device } from '../runtime/session.js';
import { UserError } from '../util/errors.js';
import { CentroidScorer } from './centroid.js';
import { leadScorer } from './lead.js';
import type { SentenceScorer, SummaryMethod } from './scorer.js';
import { splitSentences } from './sentences.js';
import { TrainedScorer } from './trained.js';

export { SUMMARY_METHODS, type SummaryMethod } from './scorer.js';

/** Sentences in a summary when neither `sentences` nor `ratio` is given (Lead-3's length). */
export const DEFAULT_SUMMARY_SENTENCES = 3;

/** config.json's `task` of a folder from `compactlm finetune --task extractive`. */
export { EXTRACTIVE_TASK };

export interface SummarizerOptions {
  /** Export folders: run onnx/model_quantized.onnx. */
  int8?: boolean;
  device?: Device;
  threads?: number;
  /** Sentences per encoder run. */
  batchSize?: number;
  /** centroid: MMR's λ (default 0.7). */
  lambda?: number;
}

export interface SummaryOptions {
  /** Sentences to keep (an integer ≥ 1). */
  sentences?: number;
  /** Or: this share of the document's sentences, in (0, 1]. */
  ratio?: number;
  method: SummaryMethod;
}

export interface SummarySentence {
  /** Position among the document's sentences (0-based). */
  index: number;
  /** The sentence exactly as in the text: text.slice(start, end). */
  text: string;
  start: number;
  end: number;
  score: number;
}

/** What `compactlm summarize --json` prints. */
export interface SummaryResult {
  /** The chosen sentences in document order, joined with "\n". */
  summary: string;
  method: SummaryMethod;
  /** The chosen sentences, in document order. */
  sentences: SummarySentence[];
  /** How many sentences the document has. */
  num_sentences: number;
}

export interface Summarizer {
  readonly dir: string;
  /** The methods this folder can run (trained only for `task: extractive`). */
  readonly methods: readonly SummaryMethod[];
  /** trained for an extractive folder, else centroid. */
  readonly defaultMethod: SummaryMethod;
  /** Loads what `method` needs (the encoder), so a bad folder fails before any text is read; summarize does it too. */
  prepare(method: SummaryMethod): Promise<void>;
  summarize(text: string, o: SummaryOptions): Promise<SummaryResult>;
  close(): Promise<void>;
}

/** How many sentences a summary of a `count`-sentence document keeps. */
export function summaryLength(count: number, o: { sentences?: number; ratio?: number }): number {
  if (o.sentences !== undefined && o.ratio !== undefined) throw new UserError('give either sentences or ratio, not both');
  if (o.sentences !== undefined && !(Number.isInteger(o.sentences) && o.sentences >= 1)) {
    throw new UserError(`sentences must be a whole number ≥ 1 (got ${o.sentences})`);
  }
  if (o.ratio !== undefined && !(o.ratio > 0 && o.ratio <= 1)) throw new UserError(`ratio must be in (0, 1] (got ${o.ratio})`);
  const k = o.ratio !== undefined ? Math.max(1, Math.round(o.ratio * count)) : (o.sentences ?? DEFAULT_SUMMARY_SENTENCES);
  return Math.min(k, count);
}

export async function loadSummarizer(dir: string, o: SummarizerOptions = {}): Promise<Summarizer> {
  const st = statSync(dir, { throwIfNoEntry: false });
  if (!st || !st.isDirectory()) throw new UserError(`${dir}: model folder not found`);
  const config = await loadConfig(join(dir, CONFIG_FILE));
  const extractive = (config as { task?: unknown }).task === EXTRACTIVE_TASK;
  if (o.int8 && !isExportFolder(dir)) {
    throw new UserError(`--int8 needs an export folder (onnx/model_quantized.onnx) but ${dir} is a model folder: ` +
      `run \`compactlm export --model ${dir} --out <export-dir>\` and pass --model <export-dir>`);
  }
  const methods: SummaryMethod[] = extractive ? ['trained', 'centroid', 'lead'] : ['centroid', 'lead'];
  const loading = new Map<SummaryMethod, Promise<SentenceScorer>>();
  const session = { ...(o.device ? { device: o.device } : {}), ...(o.threads ? { threads: o.threads } : {}), int8: !!o.int8 };

  const load = async (method: SummaryMethod): Promise<SentenceScorer> => {
    switch (method) {
      case 'lead':
        return leadScorer;
      case 'centroid':
        return new CentroidScorer(await Embedder.load(dir, session), { lambda: o.lambda, batchSize: o.batchSize });
      case 'trained':
        return TrainedScorer.load(dir, session);
    }
  };
  const scorer = (method: SummaryMethod): Promise<SentenceScorer> => {
    checkMethod(dir, methods, method);
    let p = loading.get(method);
    if (!p) {
      p = load(method);
      p.catch(() => loading.delete(method));
      loading.set(method, p);
    }
    return p;
  };

  return {
    dir,
    methods,
    defaultMethod: methods[0],
    async prepare(method: SummaryMethod) {
      await scorer(method);
    },
    async summarize(text: string, so: SummaryOptions): Promise<SummaryResult> {
      if (text.trim() === '') throw new UserError('the text is empty');
      const sentences = splitSentences(text);
      if (sentences.length === 0) throw new UserError('the text has no sentences (no letters or digits)');
      const k = summaryLength(sentences.length, so);
      const chosen = await (await scorer(so.method)).choose(sentences, k);
      const picked = [...chosen].sort((a, b) => a.index - b.index).map(({ index, score }) => ({ index, ...sentences[index], score }));
      return {
        summary: picked.map((s) => s.text).join('\n'),
        method: so.method,
        sentences: picked.map(({ index, text: t, start, end, score }) => ({ index, text: t, start, end, score })),
        num_sentences: sentences.length,
      };
    },
    async close() {
      const scorers = await Promise.allSettled(loading.values());
      for (const s of scorers) if (s.status === 'fulfilled') await s.value.close();
      loading.clear();
    },
  };
}

/** One line when a folder cannot run `method` (trained needs a `task: extractive` folder). */
export function checkMethod(dir: string, methods: readonly SummaryMethod[], method: SummaryMethod): void {
  if (methods.includes(method)) return;
  throw new UserError(`${dir}: --method ${method} needs a folder from \`compactlm finetune --task extractive\` ` +
    `(config.json "task": "${EXTRACTIVE_TASK}"), and this one has none: use --method ${methods.join(' or ')}`);
}
