/**
 * Masked-LM pretraining of a BERT from text (what `compactlm pretrain` runs): data → artifacts → trainer → model
 * folder. The pieces are each in their own file; this one wires them together:
 *
 *   text (CSV or shards) ──data-source.ts──▶ packed blocks ──mlm-batches.ts──▶ masked micro-batches + dropout
 *   config (preset/--config) ──model/artifacts.ts, grad-accum.ts──▶ train/eval graphs
 *   trainer.ts (worker thread, checkpoints, metrics.jsonl) ──▶ weights ──▶ <out>/ model folder + artifacts/
 *
 * <out> ends up with: config.json, model.safetensors, tokenizer.json, tokenizer_config.json, vocab.txt (a Hugging
 * Face BertForMaskedLM folder), metrics.jsonl, training_state/ (optimizer.safetensors, trainer.json of the final
 * step), checkpoints/ (the last 3 and the best by validation loss) and artifacts/ (train_step.onnx — or
 * grad_step.onnx + apply_step.onnx with --grad-accum > 1 —, eval.onnx, model.onnx with the final weights,
 * artifacts.json).
 *
 * Seeds: one --seed feeds, in this order, the initial weights, the batch source (block order, masking, dropout),
 * the validation hold-out and the validation masking.
 *
 * `trainMaskedLm(options, spec)` is the run for a given config; `pretrain` resolves the config from the flags and
 * calls it, and distillation (src/distill) calls it with a teacher-fed batch source and the distillation loss.
 */
import { createHash } from 'node:crypto';
import { existsSync, promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../data/csv.js';
import { buildEval, buildInference, buildTrainStep, writeArtifacts, type TrainStepSpec } from '../model/artifacts.js';
import { saveModelFolder, CONFIG_FILE } from '../model/checkpoint-folder.js';
import { configToJson, loadConfig, makeConfig, type BertConfig } from '../model/config.js';
import { initParams, paramTable } from '../model/params.js';
import { PRESET_NAMES, type PresetName } from '../model/presets.js';
import { serializeSafetensors } from '../model/safetensors.js';
import { checkDevice, type Device } from '../runtime/session.js';
import { writeTokenizerFiles } from '../tokenizer/tokenizer-json.js';
import { loadTokenizer } from '../tokenizer/tokenizer.js';
import { MODEL_MAX_LENGTH } from '../tokenizer/truncate.js';
import { UserError } from '../util/errors.js';
import { log } from '../util/log.js';
import { progress } from '../util/progress.js';
import { Rng } from '../util/rng.js';
import { Checkpoints } from './checkpoints.js';
import { holdOut, loadBlocks } from './data-source.js';
import { buildApplyStep, buildGradStep, type ApplyStepSpec, type GradStepSpec } from './grad-accum.js';
import { defaultMaxPredictions } from './masking.js';
import type { EvalRow } from './metrics.js';
import { fixedEvalFeeds, MlmBatchSource, type MlmSourceState } from './mlm-batches.js';
import { makeSchedule, type ScheduleKind } from './schedule.js';
import { OPTIMIZER_FILE, STATE_FILE, Trainer, type BatchSource, type StepRow } from './trainer.js';
import type { WireFeeds } from '../runtime/wire.js';

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
  /** Hidden and attention dropout; undefined keeps the config's. */
  dropout?: number;
}

export interface PretrainOptions extends TrainingSettings {
  preset?: PresetName;
  config?: string;
  loss: 'ce' | 'focal';
  seed: number;
  /** Stop after this step as if interrupted (tests of --resume; see Trainer). */
  stopAfter?: number;
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
export const TRAINING_STATE_DIR = 'training_state';

/** The model config from --preset or --config, with --dropout applied; checked against the tokenizer. */
export async function resolveConfig(o: Pick<PretrainOptions, 'preset' | 'config' | 'dropout'>, vocabSize: number): Promise<BertConfig> {
  if (o.preset !== undefined && o.config !== undefined) throw new UserError('give either --preset or --config, not both');
  if (o.preset !== undefined && !PRESET_NAMES.includes(o.preset)) {
    throw new UserError(`--preset ${o.preset}: unknown preset (choose one of ${PRESET_NAMES.join(', ')})`);
  }
  const config = o.config !== undefined ? await loadConfig(o.config) : makeConfig(o.preset ?? DEFAULT_PRESET);
  if (config.vocab_size !== vocabSize) {
    throw new UserError(`${o.config ?? 'model config'}: vocab_size is ${config.vocab_size} but the tokenizer (bert-base-uncased) has ${vocabSize} tokens`);
  }
  return withDropout(config, o.dropout);
}

/** The config with hidden and attention dropout set to `dropout` (unchanged when undefined). */
export function withDropout(config: BertConfig, dropout: number | undefined): BertConfig {
  if (dropout === undefined) return config;
  if (!(dropout >= 0 && dropout < 1)) throw new UserError(`--dropout must be in [0, 1), got ${dropout}`);
  return { ...config, hidden_dropout_prob: dropout, attention_probs_dropout_prob: dropout };
}

/** One-line errors for the training flags shared by pretrain and distill (loss only when given). */
export function checkTrainingOptions(o: Omit<PretrainOptions, 'loss'> & { loss?: string }): void {
  if (!(Number.isInteger(o.seqLen) && o.seqLen >= 8 && o.seqLen <= MODEL_MAX_LENGTH)) {
    throw new UserError(`--seq-len must be a whole number from 8 to ${MODEL_MAX_LENGTH}, got ${o.seqLen}`);
  }
  for (const [flag, v] of [['--steps', o.steps], ['--batch-size', o.batchSize], ['--grad-accum', o.gradAccum]] as const) {
    if (!(Number.isInteger(v) && v >= 1)) throw new UserError(`${flag} must be a positive whole number, got ${v}`);
  }
  for (const [flag, v] of [['--eval-every', o.evalEvery], ['--save-every', o.saveEvery], ['--threads', o.threads]] as const) {
    if (v !== undefined && !(Number.isInteger(v) && v >= 1)) throw new UserError(`${flag} must be a positive whole number, got ${v}`);
  }
  if (!(o.lr > 0 && Number.isFinite(o.lr))) throw new UserError(`--lr must be a positive number, got ${o.lr}`);
  if (!(o.weightDecay >= 0 && Number.isFinite(o.weightDecay))) throw new UserError(`--weight-decay must be ≥ 0, got ${o.weightDecay}`);
  if (o.loss !== undefined && o.loss !== 'ce' && o.loss !== 'focal') throw new UserError(`--loss must be ce or focal, got ${o.loss}`);
}

export async function pretrain(o: PretrainOptions): Promise<PretrainSummary> {
  checkTrainingOptions(o);
  checkDevice(o.device ?? 'cpu'); // before minutes of tokenizing: are the provider's libraries there at all?
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
   * Distillation: the train graph takes `teacher_logits` [B·M, V] and minimizes model/distill-loss.ts instead of
   * --loss (validation stays the student's cross-entropy). The source must then add that feed (wrapSource).
   */
  distill?: { temperature: number; alpha: number };
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

/** The whole run for a given model config: data, graphs, trainer, model folder, artifacts (see the file comment). */
export async function trainMaskedLm(o: PretrainOptions, spec: MaskedLmSpec): Promise<MaskedLmRun> {
  const started = performance.now();
  const label = spec.label ?? 'pretrain';
  const config = spec.config;
  checkTrainingOptions(o);
  const tokenizer = await loadTokenizer();
  if (config.vocab_size !== tokenizer.vocabSize) {
    throw new UserError(`model config: vocab_size is ${config.vocab_size} but the tokenizer (bert-base-uncased) has ${tokenizer.vocabSize} tokens`);
  }
  if (o.seqLen > config.max_position_embeddings) {
    throw new UserError(`--seq-len ${o.seqLen} exceeds the model's max_position_embeddings (${config.max_position_embeddings})`);
  }
  const existing = await new Checkpoints(o.out).latest();
  if (existing && !o.resume) {
    throw new UserError(`${o.out}: already has checkpoints (latest ${existing.name}); pass --resume to continue that run or choose another --out`);
  }

  // Seeds, always drawn in the same order.
  const root = new Rng(o.seed);
  const [initSeed, sourceSeed, holdOutSeed, evalSeed] = [root.nextUint32(), root.nextUint32(), root.nextUint32(), root.nextUint32()];

  // Data.
  const bar = progress('tokenize', 100, '%');
  const loaded = await loadBlocks(o.train, { seqLen: o.seqLen, textColumn: o.textColumn, tokenizer, onProgress: (d, t) => bar.update(Math.floor((100 * d) / Math.max(t, 1))) });
  bar.stop();
  let trainData = loaded.data;
  let valData;
  if (o.val !== undefined) {
    valData = (await loadBlocks(o.val, { seqLen: o.seqLen, textColumn: o.textColumn, tokenizer })).data;
  } else {
    ({ train: trainData, val: valData } = await holdOut(loaded.data, new Rng(holdOutSeed), o.train));
  }
  log().info(
    { documents: loaded.documents, tokens: loaded.tokens, trainBlocks: trainData.length, valBlocks: valData.length, seqLen: o.seqLen },
    `data: ${loaded.documents} documents, ${loaded.tokens} tokens → ${trainData.length} training and ${valData.length} validation blocks of ${o.seqLen}`,
  );

  // Graphs.
  const B = o.batchSize;
  const M = defaultMaxPredictions(o.seqLen);
  const shape = { batchSize: B, seqLen: o.seqLen, maxPredictions: M };
  const optimizer = { weightDecay: o.weightDecay };
  let trainStep: TrainStepSpec | undefined;
  let gradStep: GradStepSpec | undefined;
  let applyStep: ApplyStepSpec | undefined;
  // One train_step graph, or gradient + update graphs to accumulate micro-batches.
  if (o.gradAccum === 1) trainStep = buildTrainStep(config, { ...shape, loss: o.loss, distill: spec.distill, optimizer });
  else {
    gradStep = buildGradStep(config, { ...shape, loss: o.loss, distill: spec.distill });
    applyStep = buildApplyStep(config, { optimizer });
  }
  // Validation reports cross-entropy (so perplexity means the same with --loss focal).
  const evalStep = buildEval(config, { ...shape, loss: 'ce' });
  const dropoutSites = (trainStep ?? gradStep)!.dropoutInputs;

  const table = paramTable(config);
  const schedule = makeSchedule({ kind: o.schedule, peakLr: o.lr, warmup: o.warmup, totalSteps: o.steps });
  const evalFeeds = fixedEvalFeeds(valData, { batchSize: B, maxPredictions: M, vocabSize: config.vocab_size, seed: evalSeed });
  const sourceOpts = { batchSize: B, maxPredictions: M, vocabSize: config.vocab_size, dropoutSites, seed: sourceSeed };
  const trainer = new Trainer({
    graphs: { train: trainStep?.bytes, grad: gradStep?.bytes, apply: applyStep?.bytes, eval: evalStep.bytes },
    params: table.map((p) => ({ name: p.name, shape: p.shape })),
    init: spec.init ?? (() => initParams(config, new Rng(initSeed))),
    source: (state) => {
      const mlm = new MlmBatchSource(trainData, sourceOpts, state as MlmSourceState | undefined);
      return spec.wrapSource ? spec.wrapSource(mlm) : mlm;
    },
    evalFeeds,
    schedule,
    runDir: o.out,
    steps: o.steps,
    gradAccum: o.gradAccum,
    evalEvery: o.evalEvery,
    saveEvery: o.saveEvery,
    resume: o.resume,
    stopAfter: o.stopAfter,
    session: { device: o.device ?? 'cpu', threads: o.threads },
    fingerprint: {
      config: JSON.parse(configToJson(config)),
      batchSize: B,
      seqLen: o.seqLen,
      gradAccum: o.gradAccum,
      lr: o.lr,
      warmup: o.warmup,
      schedule: o.schedule,
      weightDecay: o.weightDecay,
      loss: o.loss,
      seed: o.seed,
      trainBlocks: trainData.length,
      valBlocks: valData.length,
      trainSha256: digest(trainData.tokens),
      valSha256: digest(valData.tokens),
      ...spec.fingerprint,
    },
    checkpointFiles: () => ({ [CONFIG_FILE]: configToJson(config) }),
  });
  attachReporting(trainer, o.steps, label);

  const result = await trainer.run();

  // The model folder, its training state and the artifacts.
  await saveModelFolder(o.out, config, result.params, { writeExtraFiles: writeTokenizerFiles });
  const stateDir = join(o.out, TRAINING_STATE_DIR);
  await fsp.mkdir(stateDir, { recursive: true });
  await writeFileAtomic(join(stateDir, OPTIMIZER_FILE), serializeSafetensors([...result.moments].map(([name, data]) => ({ name, shape: shapeOf(table, name), data }))));
  await writeFileAtomic(join(stateDir, STATE_FILE), JSON.stringify(result.state, null, 2) + '\n');
  const artifactsDir = join(o.out, 'artifacts');
  await writeArtifacts(artifactsDir, { trainStep, eval: evalStep, inference: buildInference(config, result.params) });
  if (gradStep && applyStep) {
    await writeFileAtomic(join(artifactsDir, 'grad_step.onnx'), gradStep.bytes);
    await writeFileAtomic(join(artifactsDir, 'apply_step.onnx'), applyStep.bytes);
  }
  for (const stale of trainStep ? ['grad_step.onnx', 'apply_step.onnx'] : ['train_step.onnx']) {
    if (existsSync(join(artifactsDir, stale))) await fsp.rm(join(artifactsDir, stale));
  }

  const seconds = (performance.now() - started) / 1000;
  const e: EvalRow | null = result.lastEval;
  const summary: PretrainSummary = {
    out: o.out,
    steps: result.step,
    resumedFrom: result.resumedFrom,
    trainBlocks: trainData.length,
    valBlocks: valData.length,
    params: table.reduce((n, p) => n + p.shape.reduce((a, b) => a * b, 1), 0),
    val_loss: e?.val_loss ?? null,
    val_ppl: e?.val_ppl ?? null,
    val_mlm_acc: e?.val_mlm_acc ?? null,
    tokens_per_s: trainer.meanTokensPerSecond,
    seconds,
  };
  log().info(summary, `${label}: saved ${o.out} after ${result.step} steps${e ? ` (val loss ${e.val_loss.toFixed(4)}, perplexity ${e.val_ppl.toFixed(2)})` : ''}`);
  return { params: result.params, evalFeeds, summary };
}

/** Identifies the token content of a dataset (first 16 hex digits of its sha256). */
function digest(tokens: Uint16Array): string {
  return createHash('sha256').update(new Uint8Array(tokens.buffer, tokens.byteOffset, tokens.byteLength)).digest('hex').slice(0, 16);
}

function shapeOf(table: { name: string; shape: number[] }[], momentName: string): number[] {
  const name = momentName.replace(/^adam_[mv]\./, '');
  return table.find((p) => p.name === name)!.shape;
}

/** A progress bar on a TTY; pino lines otherwise (every ~5% of the run); every evaluation is logged. */
function attachReporting(trainer: Trainer, steps: number, label: string): void {
  const bar = progress(label, steps, 'steps');
  const tty = process.stderr.isTTY && !process.env.CI;
  const every = Math.max(1, Math.round(steps / 20));
  trainer.on('warning', (message: string) => log().warn(message));
  trainer.on('resume', ({ step, dir }: { step: number; dir: string }) => log().info({ step, dir }, `resuming from ${dir} (step ${step})`));
  trainer.on('step', (r: StepRow) => {
    bar.update(r.step, { loss: r.loss.toFixed(3), 'tok/s': Math.round(r.tokens_per_s) });
    if (!tty && (r.step % every === 0 || r.step === steps)) {
      log().info(`step ${r.step}/${steps} loss ${r.loss.toFixed(4)} lr ${r.lr.toExponential(2)} grad_norm ${r.grad_norm.toFixed(3)} ${Math.round(r.tokens_per_s)} tok/s`);
    }
  });
  trainer.on('eval', (r: EvalRow) => {
    log().info(r, `eval step ${r.step}: val loss ${r.val_loss.toFixed(4)}, perplexity ${r.val_ppl.toFixed(2)}, masked-token accuracy ${(100 * r.val_mlm_acc).toFixed(1)}%`);
  });
  trainer.on('checkpoint', (c: { name: string }) => log().debug(`checkpoint ${c.name} saved`));
  trainer.once('end', () => bar.stop());
}
