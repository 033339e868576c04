/**
 * Masked-LM pretraining of a BERT from text (what `compactlm pretrain` runs): load data → compile → train → write
 * the run folder. The pieces are each in their own file; this one wires them together:
 *
 *   text (CSV or shards) ──data-source.ts──▶ packed blocks ──mlm-batches.ts──▶ masked micro-batches + dropout
 *   config (preset/--config) ──model/step-compiler.ts──▶ train/eval graphs with their IO specs
 *   trainer.ts (worker thread, checkpoints, metrics.jsonl) ──▶ weights ──run-folder.ts──▶ <out>/ model folder
 *
 * <out> ends up with: config.json, model.safetensors, tokenizer.json, tokenizer_config.json, vocab.txt (a Hugging
 * Face BertForMaskedLM folder), metrics.jsonl, training_state/ (optimizer.safetensors, trainer.json of the final
 * step), checkpoints/ (the last 3 and the best by validation loss) and artifacts/ (train_step.onnx — or
 * grad_step.onnx + apply_step.onnx with --grad-accum > 1 —, eval.onnx, model.onnx with the final weights,
 * artifacts.json).
 *
 * Settings arrive checked (src/cli validates every flag once); errors here are about the data and the files.
 *
 * Seeds: one --seed feeds, in this order, the initial weights, the batch source (block order, masking, dropout),
 * the validation hold-out and the validation masking.
 *
 * `trainMaskedLm(options, spec)` is the run for a given config; `pretrain` resolves the config from the flags and
 * calls it, and distillation (src/distill) calls it with a teacher-fed batch source and the distillation loss.
 */
import { createHash } from 'node:crypto';
import { countParams, initParams } from '../model/bert.js';
import { CONFIG_FILE, loadModelFolder } from '../model/checkpoint-folder.js';
import { configToJson, loadConfig, makeConfig, type BertConfig } from '../model/config.js';
import { maskedLmLoss } from '../model/losses.js';
import type { PresetName } from '../model/presets.js';
import { compileStep, type Loss } from '../model/step-compiler.js';
import { checkDevice, type Device } from '../runtime/session.js';
import type { WireFeeds } from '../runtime/wire.js';
import { loadTokenizer } from '../tokenizer/tokenizer.js';
import { UserError } from '../util/errors.js';
import { log } from '../util/log.js';
import { progress } from '../util/progress.js';
import { Rng } from '../util/rng.js';
import { Checkpoints } from './checkpoints.js';
import { holdOut, loadBlocks } from './data-source.js';
import { defaultMaxPredictions } from './masking.js';
import type { EvalRow } from './metrics.js';
import { fixedEvalFeeds, MlmBatchSource, type MlmSourceState } from './mlm-batches.js';
import type { PackedDataset } from './packing.js';
import { attachReporting } from './reporting.js';
import { trainRun, writeRunFolder } from './run-folder.js';
import { makeSchedule, type ScheduleKind } from './schedule.js';
import { Trainer, type BatchSource, type StepGraphs } from './trainer.js';

/** Data and optimization settings of every masked-LM training command (`pretrain`, `distill`). */
export interface TrainingSettings {
  train: string;
  val?: string;
  textColumn?: string;
  out: string;
  steps: number;
  batchSize: number;
  seqLen: number;
  lr: number;
  warmup: number;
  schedule: ScheduleKind;
  weightDecay: number;
  gradAccum: number;
  evalEvery?: number;
  saveEvery?: number;
  resume?: boolean;
  device?: Device;
  threads?: number;
  /** Data-parallel worker threads (trainer.ts `workers`; needs gradAccum ≥ workers). */
  workers?: number;
  /** Hidden and attention dropout; undefined keeps the config's. */
  dropout?: number;
  /** Stop after this step (a checkpoint is saved there) as if interrupted; --steps still defines the schedule. */
  stopAfter?: number;
  /** Per-phase step timing into metrics.jsonl (trainer.ts `profile`). */
  profile?: boolean;
}

export interface PretrainOptions extends TrainingSettings {
  preset?: PresetName;
  config?: string;
  /** A model folder whose config and weights the run starts from (optimizer state fresh). */
  init?: string;
  loss: 'ce' | 'focal';
  seed: number;
}

export interface PretrainSummary {
  out: string;
  steps: number;
  resumedFrom: number | null;
  trainBlocks: number;
  valBlocks: number;
  params: number;
  val_loss: number | null;
  val_ppl: number | null;
  val_mlm_acc: number | null;
  tokens_per_s: number;
  seconds: number;
}

export const DEFAULT_PRESET: PresetName = 'mini';

/** The model config of a preset or a config file, with a dropout override applied; checked against the tokenizer. */
export async function resolveConfig(o: Pick<PretrainOptions, 'preset' | 'config' | 'dropout'>, vocabSize: number): Promise<BertConfig> {
  const config = o.config !== undefined ? await loadConfig(o.config) : makeConfig(o.preset ?? DEFAULT_PRESET);
  if (config.vocab_size !== vocabSize) {
    throw new UserError(`${o.config ?? 'model config'}: vocab_size is ${config.vocab_size} but the tokenizer (bert-base-uncased) has ${vocabSize} tokens`);
  }
  return withDropout(config, o.dropout);
}

/** The config with hidden and attention dropout set to `dropout` (unchanged when undefined). */
export function withDropout(config: BertConfig, dropout: number | undefined): BertConfig {
  if (dropout === undefined) return config;
  return { ...config, hidden_dropout_prob: dropout, attention_probs_dropout_prob: dropout };
}

export async function pretrain(o: PretrainOptions): Promise<PretrainSummary> {
  checkDevice(o.device ?? 'cpu'); // before minutes of tokenizing: are the provider's libraries there at all?
  if (o.init !== undefined) {
    const start = await loadModelFolder(o.init);
    const config = withDropout({ ...start.config, torch_dtype: 'float32' }, o.dropout);
    return (await trainMaskedLm(o, { label: 'pretrain', config, init: () => start.params, fingerprint: { init: o.init } })).summary;
  }
  const config = await resolveConfig(o, (await loadTokenizer()).vocabSize);
  return (await trainMaskedLm(o, { label: 'pretrain', config })).summary;
}

/** What a masked-LM training run adds to the options: the model and, for distillation, the teacher's part. */
export interface MaskedLmSpec {
  /** Names the run in logs and the progress bar ('pretrain', 'distill'). */
  label?: string;
  config: BertConfig;
  /** Initial weights (default: HF-style random init from --seed). */
  init?: () => Map<string, Float32Array>;
  /**
   * The training loss (default: --loss). Distillation passes model/distill-loss.ts's, whose `teacher_logits` input
   * the wrapped source must feed (wrapSource). Validation always reports the student's cross-entropy.
   */
  loss?: Loss;
  /** Wraps the masked-LM batch source, e.g. to add feeds; its state() must include the inner source's. */
  wrapSource?: (source: MlmBatchSource) => BatchSource;
  /** Extra settings that a resume must not change. */
  fingerprint?: Record<string, unknown>;
}

export interface MaskedLmRun {
  params: Map<string, Float32Array>;
  /** The fixed-masked validation feeds (B rows each), for scoring other models on the same batches. */
  evalFeeds: WireFeeds[];
  summary: PretrainSummary;
}

/** The whole run for a given model config: load data → compile → train → write the run folder. */
export async function trainMaskedLm(o: PretrainOptions, spec: MaskedLmSpec): Promise<MaskedLmRun> {
  const started = performance.now();
  const label = spec.label ?? 'pretrain';
  const config = spec.config;
  if (o.seqLen > config.max_position_embeddings) {
    throw new UserError(`sequence length ${o.seqLen} exceeds the model's max_position_embeddings (${config.max_position_embeddings})`);
  }
  const existing = await new Checkpoints(o.out).latest();
  if (existing && !o.resume) {
    throw new UserError(`${o.out}: already has checkpoints (latest ${existing.name}); resume that run or choose another output folder`);
  }

  // Seeds, always drawn in the same order.
  const root = new Rng(o.seed);
  const [initSeed, sourceSeed, holdOutSeed, evalSeed] = [root.nextUint32(), root.nextUint32(), root.nextUint32(), root.nextUint32()];

  const data = await loadTrainingData(o, holdOutSeed);
  const steps = compileTraining(config, o, spec.loss ?? maskedLmLoss({ kind: o.loss }));
  const { shape } = steps;
  const trainer = new Trainer({
    graphs: steps.graphs,
    init: spec.init ?? (() => initParams(config, new Rng(initSeed))),
    source: (state) => {
      const mlm = new MlmBatchSource(data.train, { ...shape, vocabSize: config.vocab_size, dropoutSites: steps.dropout, seed: sourceSeed }, state as MlmSourceState | undefined);
      return spec.wrapSource ? spec.wrapSource(mlm) : mlm;
    },
    evalFeeds: fixedEvalFeeds(data.val, { ...shape, vocabSize: config.vocab_size, seed: evalSeed }),
    schedule: makeSchedule({ kind: o.schedule, peakLr: o.lr, warmup: o.warmup, totalSteps: o.steps }),
    runDir: o.out,
    steps: o.steps,
    gradAccum: o.gradAccum,
    workers: o.workers,
    evalEvery: o.evalEvery,
    saveEvery: o.saveEvery,
    resume: o.resume,
    stopAfter: o.stopAfter,
    profile: o.profile,
    session: { device: o.device ?? 'cpu', threads: o.threads },
    fingerprint: {
      config: JSON.parse(configToJson(config)),
      batchSize: shape.batchSize,
      seqLen: o.seqLen,
      gradAccum: o.gradAccum,
      lr: o.lr,
      warmup: o.warmup,
      schedule: o.schedule,
      weightDecay: o.weightDecay,
      loss: o.loss,
      seed: o.seed,
      trainBlocks: data.train.length,
      valBlocks: data.val.length,
      trainSha256: digest(data.train.tokens),
      valSha256: digest(data.val.tokens),
      ...spec.fingerprint,
    },
    checkpointFiles: () => ({ [CONFIG_FILE]: configToJson(config) }),
  });
  attachReporting(trainer, o.steps, label, {
    bar: (r) => ({ loss: r.loss.toFixed(3), 'tok/s': Math.round(r.tokens_per_s) }),
    step: (r) => `loss ${r.loss.toFixed(4)} lr ${r.lr.toExponential(2)} grad_norm ${r.grad_norm.toFixed(3)} ${Math.round(r.tokens_per_s)} tok/s`,
    eval: (r) => `val loss ${r.val_loss.toFixed(4)}, perplexity ${r.val_ppl.toFixed(2)}, masked-token accuracy ${(100 * r.val_mlm_acc).toFixed(1)}%`,
  });
  const result = await trainRun(o.out, label, () => trainer.run(), (r) => writeRunFolder(o.out, config, r, steps.graphs));

  const e: EvalRow | null = result.lastEval;
  const summary: PretrainSummary = {
    out: o.out,
    steps: result.step,
    resumedFrom: result.resumedFrom,
    trainBlocks: data.train.length,
    valBlocks: data.val.length,
    params: countParams(config),
    val_loss: e?.val_loss ?? null,
    val_ppl: e?.val_ppl ?? null,
    val_mlm_acc: e?.val_mlm_acc ?? null,
    tokens_per_s: trainer.meanTokensPerSecond,
    seconds: (performance.now() - started) / 1000,
  };
  log().info(summary, `${label}: saved ${o.out} after ${result.step} steps${e ? ` (val loss ${e.val_loss.toFixed(4)}, perplexity ${e.val_ppl.toFixed(2)})` : ''}`);
  return { params: result.params, evalFeeds: trainer.o.evalFeeds ?? [], summary };
}

/** Training and validation blocks: the validation text, or a seeded hold-out of the training blocks. */
async function loadTrainingData(o: PretrainOptions, holdOutSeed: number): Promise<{ train: PackedDataset; val: PackedDataset }> {
  const tokenizer = await loadTokenizer();
  const bar = progress('tokenize', 100, '% of the text');
  const loaded = await loadBlocks(o.train, { seqLen: o.seqLen, textColumn: o.textColumn, tokenizer, onProgress: (d, t) => bar.update(Math.floor((100 * d) / Math.max(t, 1))) });
  bar.stop();
  let train = loaded.data;
  let val: PackedDataset;
  if (o.val !== undefined) val = (await loadBlocks(o.val, { seqLen: o.seqLen, textColumn: o.textColumn, tokenizer })).data;
  else ({ train, val } = await holdOut(loaded.data, new Rng(holdOutSeed), o.train));
  log().info(
    { documents: loaded.documents, tokens: loaded.tokens, trainBlocks: train.length, valBlocks: val.length, seqLen: o.seqLen },
    `data: ${loaded.documents} documents, ${loaded.tokens} tokens → ${train.length} training and ${val.length} validation blocks of ${o.seqLen}`,
  );
  return { train, val };
}

/**
 * The step graphs: one train step, or grad + apply steps to accumulate micro-batches; eval reports the masked-LM
 * cross-entropy whatever the training loss (so perplexity means the same with focal or distillation losses).
 */
function compileTraining(config: BertConfig, o: PretrainOptions, loss: Loss) {
  const shape = { batchSize: o.batchSize, seqLen: o.seqLen, maxPredictions: defaultMaxPredictions(o.seqLen) };
  const optimizer = { weightDecay: o.weightDecay };
  const graphs: StepGraphs = o.gradAccum === 1
    ? { train: compileStep({ kind: 'train', config, loss, shape, optimizer }) }
    : { grad: compileStep({ kind: 'grad', config, loss, shape }), apply: compileStep({ kind: 'apply', config, optimizer }) };
  graphs.eval = compileStep({ kind: 'eval', config, loss: maskedLmLoss(), shape });
  return { shape, graphs, dropout: (graphs.train ?? graphs.grad)!.io.dropout };
}

/** Identifies the token content of a dataset (first 16 hex digits of its sha256). */
function digest(tokens: Uint16Array): string {
  return createHash('sha256').update(new Uint8Array(tokens.buffer, tokens.byteOffset, tokens.byteLength)).digest('hex').slice(0, 16);
}
