/**
 * Fine-tuning a sequence classifier (what `compactlm finetune` runs): labeled CSV → a Hugging Face
 * BertForSequenceClassification folder. The pieces each have their file; this one wires them:
 *
 *   train/val CSV ──labeled-data.ts──▶ texts, labels (sorted label set) ──examples.ts──▶ token rows
 *   model folder ──init-classifier.ts──▶ encoder + pooler + new classifier (HF's init)
 *   model/step-compiler.ts (classifier head, classification loss) ──▶ train/eval graphs
 *   train/trainer.ts (checkpoints, --resume, metrics.jsonl; best checkpoint by val macro-F1) ──▶ <out>/
 *
 * <out> is the model folder (config.json with id2label/label2id/num_labels/problem_type, model.safetensors of the
 * best checkpoint, tokenizer files), plus metrics.jsonl, checkpoints/, training_state/ and artifacts/ as pretrain.
 *
 * Seeds: one --seed feeds, in this order, the new head's init, the batch order and dropout, and the validation
 * hold-out (when no --val is given: a seeded 10% of the training rows).
 */
import { join } from 'node:path';
import { CONFIG_FILE, loadModelFolder } from '../model/checkpoint-folder.js';
import { configToJson, type BertConfig } from '../model/config.js';
import { classificationLoss } from '../model/classification-loss.js';
import { classifierHead } from '../model/heads/classifier.js';
import { compileStep, type Loss } from '../model/step-compiler.js';
import { checkDevice, type Device } from '../runtime/session.js';
import { argmax, macroF1 } from '../eval/classification-metrics.js';
import { folderTokenizer } from '../infer/encoder-model.js';
import type { Tokenizer } from '../tokenizer/tokenizer.js';
import { Checkpoints } from '../train/checkpoints.js';
import { readMetrics, type EvalRow } from '../train/metrics.js';
import { withDropout } from '../train/pretrain.js';
import { trainRun, writeRunFolder } from '../train/run-folder.js';
import { makeSchedule, type ScheduleKind } from '../train/schedule.js';
import { attachReporting } from '../train/reporting.js';
import { METRICS_FILE, Trainer, type BatchSource } from '../train/trainer.js';
import { UserError } from '../util/errors.js';
import { log } from '../util/log.js';
import { Rng } from '../util/rng.js';
import { ClassifyBatchSource, fixedClassifyFeeds, type ClassifySourceState } from './classify-batches.js';
import { encodeExamples, type EncodedExamples } from './examples.js';
import { initClassifier } from './init-classifier.js';
import { balancedClassWeights, checkTrainable, labelIds, labelSet, readLabeledCsv, type LabeledColumns, type LabeledRows } from './labeled-data.js';

export const CLASS_WEIGHTS = ['none', 'balanced'] as const;
export type ClassWeights = (typeof CLASS_WEIGHTS)[number];
/** Share of the training rows held out for validation when no --val is given. */
export const HOLD_OUT = 0.1;

export interface FinetuneOptions extends LabeledColumns {
  model: string;
  train: string;
  val?: string;
  out: string;
  /** Epochs (default 3) unless `steps` is given. */
  epochs?: number;
  steps?: number;
  batchSize: number;
  maxLength: number;
  lr: number;
  warmup: number;
  schedule: ScheduleKind;
  weightDecay: number;
  classWeights: ClassWeights;
  loss: 'ce' | 'focal';
  earlyStop?: number;
  evalEvery?: number;
  saveEvery?: number;
  resume?: boolean;
  resetHead?: boolean;
  stopAfter?: number;
  dropout?: number;
  seed: number;
  device?: Device;
  threads?: number;
}

export interface FinetuneSummary {
  out: string;
  labels: string[];
  train_examples: number;
  val_examples: number;
  truncated: number;
  seq_len: number;
  steps: number;
  epochs: number;
  resumed_from: number | null;
  best_step: number | null;
  val_accuracy: number | null;
  val_macro_f1: number | null;
  initialized: string[];
  examples_per_s: number;
  seconds: number;
}

/** A classifier being trained: config, data and the trainer's pieces (shared with `distill --task classify`). */
export interface ClassifierRun {
  config: BertConfig;
  labels: string[];
  tokenizer: Tokenizer;
  train: EncodedExamples;
  val: EncodedExamples;
  truncated: number;
  seqLen: number;
}

export async function finetune(o: FinetuneOptions): Promise<FinetuneSummary> {
  checkDevice(o.device ?? 'cpu');
  const root = new Rng(o.seed);
  const [initSeed, sourceSeed, holdOutSeed] = [root.nextUint32(), root.nextUint32(), root.nextUint32()];
  const data = await loadLabeledData(o, holdOutSeed);
  const start = await initClassifier(o.model, data.labels, new Rng(initSeed), { resetHead: o.resetHead });
  if (start.initialized.length) {
    log().info({ initialized: start.initialized }, `finetune: ${start.initialized.join(', ')} initialized as HF does (weights N(0, ${start.config.initializer_range}), biases 0); the rest from ${o.model}`);
  }
  if (data.heldOut) log().info(`no --val: holding out a seeded ${100 * HOLD_OUT}% of ${o.train} (${data.val.texts.length} rows) for validation`);
  const config = withDropout(start.config, o.dropout);
  const tokenizer = await folderTokenizer(o.model, config);
  const run = encodeRun(config, data, tokenizer, o);
  return trainClassifier(o, run, {
    init: () => start.params, sourceSeed, loss: classificationLoss({ kind: o.loss }), initialized: start.initialized,
    fingerprint: { model: o.model, classWeights: o.classWeights, loss: o.loss },
  });
}

/**
 * Train and validation rows with label ids: --val, or a seeded hold-out of the training rows. The label set is the
 * training file's (sorted), or `fixed` (a teacher's id2label) which every row's label must belong to.
 */
export async function loadLabeledData(o: FinetuneOptions, holdOutSeed: number, fixed?: readonly string[]) {
  let train = await readLabeledCsv(o.train, o);
  const labels = fixed ? [...fixed] : labelSet(train);
  checkTrainable(train.labels, o.train, o.labelColumn);
  let val: LabeledRows;
  if (o.val !== undefined) {
    val = await readLabeledCsv(o.val, { ...o, weightColumn: undefined }); // validation is unweighted
  } else {
    if (train.texts.length < 2) throw new UserError(`${o.train}: needs at least 2 rows to hold out a validation row (or pass --val)`);
    ({ train, val } = holdOutRows(train, new Rng(holdOutSeed)));
  }
  return { labels, train, val, heldOut: o.val === undefined, trainIds: labelIds(train, labels), valIds: labelIds(val, labels) };
}

function holdOutRows(rows: LabeledRows, rng: Rng): { train: LabeledRows; val: LabeledRows } {
  const n = rows.texts.length;
  const order = rng.shuffle(Array.from({ length: n }, (_, i) => i)) as number[];
  const k = Math.max(1, Math.round(HOLD_OUT * n));
  const pick = (idx: number[]): LabeledRows => {
    idx.sort((a, b) => a - b);
    return {
      file: rows.file,
      texts: idx.map((i) => rows.texts[i]),
      ...(rows.pairs ? { pairs: idx.map((i) => rows.pairs![i]) } : {}),
      labels: idx.map((i) => rows.labels[i]),
      ...(rows.weights ? { weights: idx.map((i) => rows.weights![i]) } : {}),
      lines: idx.map((i) => rows.lines[i]),
    };
  };
  return { val: pick(order.slice(0, k)), train: pick(order.slice(k)) };
}

/** Tokenized examples, with per-example weights = sample weight × class weight; T = the longest example. */
export function encodeRun(config: BertConfig, d: Awaited<ReturnType<typeof loadLabeledData>>, tokenizer: Tokenizer, o: FinetuneOptions): ClassifierRun {
  if (o.maxLength > config.max_position_embeddings) {
    throw new UserError(`--max-length ${o.maxLength} exceeds the model's max_position_embeddings (${config.max_position_embeddings})`);
  }
  const classWeight = o.classWeights === 'balanced' ? balancedClassWeights(d.trainIds, d.labels.length) : d.labels.map(() => 1);
  const weights = d.trainIds.map((y, i) => classWeight[y] * (d.train.weights?.[i] ?? 1));
  const train = encodeExamples(tokenizer, d.train, d.trainIds, weights, o.maxLength);
  const val = encodeExamples(tokenizer, d.val, d.valIds, d.valIds.map(() => 1), o.maxLength);
  const truncated = train.truncated + val.truncated;
  if (truncated > 0) log().warn(`${truncated} text(s) longer than --max-length ${o.maxLength} tokens were truncated (${train.truncated} training, ${val.truncated} validation)`);
  return { config, labels: d.labels, tokenizer, train, val, truncated, seqLen: Math.max(train.longest, val.longest) };
}

export interface ClassifierTraining {
  init: () => Map<string, Float32Array>;
  sourceSeed: number;
  loss: Loss;
  /** Wraps the batch source, e.g. to add a teacher's logits; its state() must include the inner source's. */
  wrapSource?: (source: ClassifyBatchSource) => BatchSource;
  fingerprint?: Record<string, unknown>;
  label?: string;
  /** Tensors initialized fresh rather than copied (reported in the summary). */
  initialized?: string[];
}

/** Compiles, trains (best checkpoint by validation macro-F1) and writes the classifier folder. */
export async function trainClassifier(o: FinetuneOptions, run: ClassifierRun, t: ClassifierTraining): Promise<FinetuneSummary> {
  const started = performance.now();
  const label = t.label ?? 'finetune';
  const { config, labels, train, val, seqLen } = run;
  const existing = await new Checkpoints(o.out).latest();
  if (existing && !o.resume) {
    throw new UserError(`${o.out}: already has checkpoints (latest ${existing.name}); pass --resume to continue that run or choose another --out`);
  }
  const B = o.batchSize;
  const perEpoch = Math.ceil(train.ids.length / B);
  const steps = o.steps ?? Math.max(1, Math.ceil(((o.epochs ?? 3) * train.ids.length) / B));
  const head = classifierHead(labels.length);
  const shape = { batchSize: B, seqLen, maxPredictions: 1 };
  const optimizer = { weightDecay: o.weightDecay };
  const graphs = {
    train: compileStep({ kind: 'train', config, head, loss: t.loss, shape, optimizer }),
    eval: compileStep({ kind: 'eval', config, head, loss: classificationLoss(), shape }),
  };
  const valIds = val.labels;
  const trainer = new Trainer({
    graphs,
    init: t.init,
    source: (state) => {
      const inner = new ClassifyBatchSource(train, { batchSize: B, seqLen, padId: run.tokenizer.padId, dropoutSites: graphs.train.io.dropout, seed: t.sourceSeed }, state as ClassifySourceState | undefined);
      return t.wrapSource ? t.wrapSource(inner) : inner;
    },
    evalFeeds: fixedClassifyFeeds(val, B, seqLen, run.tokenizer.padId),
    evalMetrics: (logits) => ({ val_macro_f1: macroF1(valIds, predictions(logits, labels.length, valIds.length), labels.length) }),
    select: { metric: 'val_macro_f1', mode: 'max' },
    ...finetuneRunOptions(o, steps, perEpoch),
    fingerprint: {
      config: JSON.parse(configToJson(config)),
      labels, batchSize: B, seqLen, maxLength: o.maxLength, steps, lr: o.lr, warmup: o.warmup, schedule: o.schedule,
      weightDecay: o.weightDecay, seed: o.seed, train: train.ids.length, val: val.ids.length, ...t.fingerprint,
    },
    checkpointFiles: () => ({ [CONFIG_FILE]: configToJson(config) }),
  });
  attachReporting(trainer, steps, label, {
    bar: (r) => ({ loss: r.loss.toFixed(3) }),
    step: (r) => `loss ${r.loss.toFixed(4)} lr ${r.lr.toExponential(2)} accuracy ${r.accuracy.toFixed(3)}`,
    eval: (r) => `val loss ${r.val_loss.toFixed(4)}, accuracy ${(100 * r.val_accuracy).toFixed(1)}%, macro-F1 ${r.val_macro_f1.toFixed(4)}`,
  });
  // The saved model is the best checkpoint by validation macro-F1 (the last one when nothing was evaluated).
  const bestParams = async (last: Map<string, Float32Array>) => {
    const best = await new Checkpoints(o.out).best();
    return best ? (await loadModelFolder(best.dir)).params : last;
  };
  const result = await trainRun(o.out, label, () => trainer.run(),
    async (r) => writeRunFolder(o.out, config, { ...r, params: await bestParams(r.params) }, graphs));
  const best = await new Checkpoints(o.out).best();
  const bestRow = best ? await bestEval(o.out, best.step) : result.lastEval;
  const seconds = (performance.now() - started) / 1000;
  const summary: FinetuneSummary = {
    out: o.out,
    labels,
    train_examples: train.ids.length,
    val_examples: val.ids.length,
    truncated: run.truncated,
    seq_len: seqLen,
    steps: result.step,
    epochs: (result.step * B) / train.ids.length,
    resumed_from: result.resumedFrom,
    best_step: best?.step ?? null,
    val_accuracy: bestRow?.val_accuracy ?? null,
    val_macro_f1: bestRow?.val_macro_f1 ?? null,
    initialized: t.initialized ?? [],
    examples_per_s: (trainer.meanTokensPerSecond / seqLen),
    seconds,
  };
  log().info(summary, `${label}: saved ${o.out} (best step ${summary.best_step}: val accuracy ${fmt(summary.val_accuracy)}, macro-F1 ${fmt(summary.val_macro_f1)})`);
  return summary;
}

/** The trainer options a fine-tuning run takes from its flags: schedule, evaluation, checkpoints, stopping, session. */
export function finetuneRunOptions(o: Pick<FinetuneOptions, 'schedule' | 'lr' | 'warmup' | 'out' | 'earlyStop' | 'evalEvery' | 'saveEvery' | 'resume' | 'stopAfter' | 'device' | 'threads'>,
  steps: number, perEpoch: number) {
  return {
    earlyStop: o.earlyStop,
    schedule: makeSchedule({ kind: o.schedule, peakLr: o.lr, warmup: o.warmup, totalSteps: steps }),
    runDir: o.out,
    steps,
    evalEvery: o.evalEvery ?? Math.min(perEpoch, steps),
    saveEvery: o.saveEvery,
    resume: o.resume,
    stopAfter: o.stopAfter,
    session: { device: o.device ?? 'cpu', threads: o.threads },
  };
}

/** Arg-max label ids of the real rows of the eval batches' logits [B, C] (padding rows come last). */
export function predictions(logits: Float32Array[], C: number, n: number): number[] {
  const out: number[] = [];
  for (const batch of logits) {
    for (let r = 0; r < batch.length / C && out.length < n; r++) out.push(argmax(batch.subarray(r * C, (r + 1) * C)));
  }
  return out;
}

/** The eval row of `step` in metrics.jsonl. */
export async function bestEval(out: string, step: number): Promise<EvalRow | null> {
  const rows = await readMetrics(join(out, METRICS_FILE));
  return (rows.filter((r) => r.step === step && 'val_loss' in r).pop() as EvalRow | undefined) ?? null;
}

const fmt = (x: number | null) => (x === null ? 'n/a' : x.toFixed(4));

