/**
 * `compactlm finetune --task extractive`: BertSumExt (Liu & Lapata 2019, its Linear-classifier variant) from a
 * pretrained model folder and a CSV of documents with reference summaries. The pieces each have their file:
 *
 *   train/val CSV ──extractive-data.ts──▶ sentences, greedy-oracle labels, [CLS] s1 [SEP] [CLS] s2 [SEP] … windows
 *   model folder ──initExtractive──▶ its encoder + a new sentence classifier ext_layer.linear1 (HF's init)
 *   model/step-compiler.ts (heads/extractive.ts, extractive-loss.ts) ──▶ train/eval graphs
 *   train/trainer.ts (checkpoints, --resume, metrics.jsonl) ──▶ <out>/
 *
 * <out> is the model folder: config.json with architectures ["BertForExtractiveSummarization"] and
 * "task": "extractive" (what `summarize` looks for), model.safetensors with the encoder under HF's BertModel names
 * (bert.*) and the head as ext_layer.linear1.{weight,bias}, the tokenizer files; plus metrics.jsonl,
 * checkpoints/, training_state/ and artifacts/ as every training run.
 *
 * The weights saved are the best checkpoint by validation ROUGE-1 + ROUGE-2 F1 (Porter-stemmed, the metric `eval
 * --task summarize --stem` reports) of 3 sentences picked as `summarize --method trained` picks them (trigram
 * blocking), from each validation document's first window — the part the model sees in training.
 *
 * Seeds: one --seed feeds, in this order, the new head's init, the batch order and dropout, and the validation
 * hold-out (when no --val is given: a seeded 10% of the training documents).
 */
import { join } from 'node:path';
import { modelTable } from '../model/architecture.js';
import { CONFIG_FILE, loadModelFolder } from '../model/checkpoint-folder.js';
import { configToJson, extractiveConfig, isClassifier, isExtractive, loadConfig, type BertConfig } from '../model/config.js';
import { extractiveLoss } from '../model/extractive-loss.js';
import { EXT_LAYER, extractiveHead } from '../model/heads/extractive.js';
import { initParam } from '../model/params.js';
import { compileStep } from '../model/step-compiler.js';
import { folderTokenizer } from '../infer/encoder-model.js';
import { checkDevice } from '../runtime/session.js';
import { rougeScores } from '../summarize/rouge.js';
import { DEFAULT_SUMMARY_SENTENCES } from '../summarize/summarizer.js';
import { trigramBlockedTopK } from '../summarize/trained.js';
import { Checkpoints } from '../train/checkpoints.js';
import { withDropout } from '../train/pretrain.js';
import { attachReporting } from '../train/reporting.js';
import { trainRun, writeRunFolder } from '../train/run-folder.js';
import { Trainer } from '../train/trainer.js';
import { UserError } from '../util/errors.js';
import { log } from '../util/log.js';
import { Rng } from '../util/rng.js';
import { ExtractiveBatchSource, fixedExtractiveFeeds, type ExtractiveShape, type ExtractiveSourceState } from './extractive-batches.js';
import { encodeExtractive, readExtractiveCsv, type ExtractiveColumns, type ExtractiveDoc, type ExtractiveExamples } from './extractive-data.js';
import { bestEval, HOLD_OUT, finetuneRunOptions, type FinetuneOptions } from './finetune.js';
import type { LabeledColumns } from './labeled-data.js';

/** finetune's options without the classifier's (labels, weights, loss, head reset), plus the summary column. */
export type ExtractiveFinetuneOptions = Omit<FinetuneOptions, keyof LabeledColumns | 'classWeights' | 'loss' | 'resetHead'> & ExtractiveColumns;

export interface ExtractiveFinetuneSummary {
  out: string;
  task: 'extractive';
  train_examples: number;
  val_examples: number;
  /** Documents longer than one window (their later sentences are not trained on). */
  truncated: number;
  seq_len: number;
  /** Sentence slots per window (the most sentences one window holds). */
  sentences: number;
  /** Share of the training sentences the oracle labels 1. */
  positive_rate: number;
  steps: number;
  epochs: number;
  resumed_from: number | null;
  best_step: number | null;
  val_loss: number | null;
  val_rouge1: number | null;
  val_rouge2: number | null;
  initialized: string[];
  examples_per_s: number;
  seconds: number;
}

/** The selection metric: mean ROUGE-1 F1 + ROUGE-2 F1 over the validation documents. */
const SELECT = 'val_rouge12';

export async function finetuneExtractive(o: ExtractiveFinetuneOptions): Promise<ExtractiveFinetuneSummary> {
  const started = performance.now();
  checkDevice(o.device ?? 'cpu');
  const root = new Rng(o.seed);
  const [initSeed, sourceSeed, holdOutSeed] = [root.nextUint32(), root.nextUint32(), root.nextUint32()];
  let trainDocs = await readExtractiveCsv(o.train, o);
  let valDocs: ExtractiveDoc[];
  if (o.val !== undefined) valDocs = await readExtractiveCsv(o.val, o);
  else {
    if (trainDocs.length < 2) throw new UserError(`${o.train}: needs at least 2 documents to hold out a validation one (or pass --val)`);
    ({ train: trainDocs, val: valDocs } = holdOut(trainDocs, new Rng(holdOutSeed)));
    log().info(`no --val: holding out a seeded ${100 * HOLD_OUT}% of ${o.train} (${valDocs.length} documents) for validation`);
  }
  const start = await initExtractive(o.model, new Rng(initSeed));
  if (start.initialized.length) {
    log().info({ initialized: start.initialized }, `finetune: ${start.initialized.join(', ')} initialized as HF does (weights N(0, ${start.config.initializer_range}), biases 0); the encoder from ${o.model}`);
  }
  const config = withDropout(start.config, o.dropout);
  if (o.maxLength > config.max_position_embeddings) {
    throw new UserError(`--max-length ${o.maxLength} exceeds the model's max_position_embeddings (${config.max_position_embeddings})`);
  }
  const tokenizer = await folderTokenizer(o.model, config);
  const train = encodeExtractive(tokenizer, trainDocs, o.maxLength);
  const val = encodeExtractive(tokenizer, valDocs, o.maxLength);
  const truncated = train.truncated + val.truncated;
  if (truncated > 0) {
    log().warn(`${truncated} document(s) longer than --max-length ${o.maxLength} tokens: only their first ${o.maxLength} tokens of whole sentences are trained on ` +
      `(${train.droppedPositives} oracle sentence(s) of the training set lie beyond)`);
  }

  const existing = await new Checkpoints(o.out).latest();
  if (existing && !o.resume) {
    throw new UserError(`${o.out}: already has checkpoints (latest ${existing.name}); pass --resume to continue that run or choose another --out`);
  }
  const B = o.batchSize;
  const shape: ExtractiveShape = { batchSize: B, seqLen: Math.max(train.longest, val.longest), sentences: Math.max(train.maxSentences, val.maxSentences) };
  const stepShape = { batchSize: B, seqLen: shape.seqLen, maxPredictions: shape.sentences };
  const perEpoch = Math.ceil(train.ids.length / B);
  const steps = o.steps ?? Math.max(1, Math.ceil(((o.epochs ?? 3) * train.ids.length) / B));
  const graphs = {
    train: compileStep({ kind: 'train', config, head: extractiveHead, loss: extractiveLoss(), shape: stepShape, optimizer: { weightDecay: o.weightDecay } }),
    eval: compileStep({ kind: 'eval', config, head: extractiveHead, loss: extractiveLoss(), shape: stepShape }),
  };
  const trainer = new Trainer({
    graphs,
    init: () => start.params,
    source: (state) => new ExtractiveBatchSource(train, { ...shape, padId: tokenizer.padId, dropoutSites: graphs.train.io.dropout, seed: sourceSeed }, state as ExtractiveSourceState | undefined),
    evalFeeds: fixedExtractiveFeeds(val, shape, tokenizer.padId),
    evalMetrics: (logits) => validationRouge(val, logits, shape),
    select: { metric: SELECT, mode: 'max' },
    ...finetuneRunOptions(o, steps, perEpoch),
    fingerprint: {
      config: JSON.parse(configToJson(config)), task: 'extractive', model: o.model, batchSize: B, seqLen: shape.seqLen, sentences: shape.sentences,
      maxLength: o.maxLength, steps, lr: o.lr, warmup: o.warmup, schedule: o.schedule, weightDecay: o.weightDecay, seed: o.seed,
      train: train.ids.length, val: val.ids.length,
    },
    checkpointFiles: () => ({ [CONFIG_FILE]: configToJson(config) }),
  });
  attachReporting(trainer, steps, 'finetune', {
    bar: (r) => ({ loss: r.loss.toFixed(3) }),
    step: (r) => `loss ${r.loss.toFixed(4)} lr ${r.lr.toExponential(2)} sentence accuracy ${r.accuracy.toFixed(3)}`,
    eval: (r) => `val loss ${r.val_loss.toFixed(4)}, sentence accuracy ${(100 * r.val_accuracy).toFixed(1)}%, ` +
      `ROUGE-1 ${(100 * r.val_rouge1).toFixed(2)}, ROUGE-2 ${(100 * r.val_rouge2).toFixed(2)} (top ${DEFAULT_SUMMARY_SENTENCES})`,
  });
  const result = await trainRun(o.out, 'finetune', () => trainer.run(), async (r) => {
    const best = await new Checkpoints(o.out).best(); // the best checkpoint's weights (the last when nothing was evaluated)
    await writeRunFolder(o.out, config, { ...r, params: best ? (await loadModelFolder(best.dir)).params : r.params }, graphs);
  });
  const best = await new Checkpoints(o.out).best();
  const bestRow = best ? await bestEval(o.out, best.step) : result.lastEval;
  const positives = train.labels.flat();
  const summary: ExtractiveFinetuneSummary = {
    out: o.out,
    task: 'extractive',
    train_examples: train.ids.length,
    val_examples: val.ids.length,
    truncated,
    seq_len: shape.seqLen,
    sentences: shape.sentences,
    positive_rate: positives.reduce((a, b) => a + b, 0) / positives.length,
    steps: result.step,
    epochs: (result.step * B) / train.ids.length,
    resumed_from: result.resumedFrom,
    best_step: best?.step ?? null,
    val_loss: bestRow?.val_loss ?? null,
    val_rouge1: bestRow?.val_rouge1 ?? null,
    val_rouge2: bestRow?.val_rouge2 ?? null,
    initialized: start.initialized,
    examples_per_s: trainer.meanTokensPerSecond / shape.seqLen,
    seconds: (performance.now() - started) / 1000,
  };
  const fmt = (x: number | null) => (x === null ? 'n/a' : (100 * x).toFixed(2));
  log().info(summary, `finetune: saved ${o.out} (best step ${summary.best_step}: val ROUGE-1 ${fmt(summary.val_rouge1)}, ROUGE-2 ${fmt(summary.val_rouge2)})`);
  return summary;
}

/**
 * val_rouge1, val_rouge2 and their sum: mean F1 (stemmed) of each validation document's top-3 sentences (trigram
 * blocking, document order) against its reference, from the eval batches' logits [B·S] in feed order.
 */
export function validationRouge(val: ExtractiveExamples, logits: readonly Float32Array[], shape: ExtractiveShape): Record<string, number> {
  const { batchSize: B, sentences: S } = shape;
  let r1 = 0;
  let r2 = 0;
  for (let d = 0; d < val.ids.length; d++) {
    const z = logits[Math.floor(d / B)].subarray((d % B) * S, (d % B) * S + val.sentences[d].length);
    const picked = trigramBlockedTopK(val.sentences[d], z, Math.min(DEFAULT_SUMMARY_SENTENCES, z.length)).map((c) => c.index).sort((a, b) => a - b);
    const s = rougeScores(val.references[d], picked.map((i) => val.sentences[d][i]).join('\n'), { stem: true });
    r1 += s.rouge1.f1;
    r2 += s.rouge2.f1;
  }
  const n = Math.max(1, val.ids.length);
  return { val_rouge1: r1 / n, val_rouge2: r2 / n, [SELECT]: (r1 + r2) / n };
}

export interface InitialExtractive {
  config: BertConfig;
  params: Map<string, Float32Array>;
  /** Tensors initialized fresh (HF's init: weights N(0, initializer_range), biases 0), not copied. */
  initialized: string[];
}

/**
 * The starting weights: an extractive folder continues as it is; any other encoder folder (masked LM, BertModel,
 * classifier) gives its encoder `bert.*` (pooler and heads dropped) and the sentence classifier starts fresh.
 */
export async function initExtractive(dir: string, rng: Rng): Promise<InitialExtractive> {
  const found = await loadConfig(join(dir, CONFIG_FILE));
  if (isExtractive(found)) {
    const m = await loadModelFolder(dir);
    return { config: { ...m.config, torch_dtype: 'float32' }, params: m.params, initialized: [] };
  }
  const source = isClassifier(found) ? await loadModelFolder(dir) : await loadModelFolder(dir, { initMissingHead: rng.fork() });
  const config = extractiveConfig({ ...source.config, torch_dtype: 'float32' });
  const params = new Map<string, Float32Array>();
  const initialized: string[] = [];
  for (const spec of modelTable(config)) {
    const fresh = spec.name.startsWith(`${EXT_LAYER}.`);
    const keep = source.params.get(spec.name);
    if (!fresh && !keep) throw new Error(`initExtractive: ${dir} lacks ${spec.name}`);
    if (fresh) initialized.push(spec.name);
    params.set(spec.name, fresh ? initParam(spec, config, rng) : keep!);
  }
  return { config, params, initialized };
}

/** A seeded HOLD_OUT share of the documents for validation (at least one), both parts in file order. */
function holdOut(docs: ExtractiveDoc[], rng: Rng): { train: ExtractiveDoc[]; val: ExtractiveDoc[] } {
  const order = rng.shuffle(docs.map((_, i) => i)) as number[];
  const k = Math.max(1, Math.round(HOLD_OUT * docs.length));
  const pick = (idx: number[]) => idx.sort((a, b) => a - b).map((i) => docs[i]);
  return { val: pick(order.slice(0, k)), train: pick(order.slice(k)) };
}
