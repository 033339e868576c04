import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { loadConfig } from '../model/config.js';
import { DEVICES, type Device } from '../runtime/session.js';
import { Checkpoints, latestCheckpoint, nothingToResume } from '../train/checkpoints.js';
import type { TrainingSettings } from '../train/pretrain.js';
import { SCHEDULE_KINDS } from '../train/schedule.js';
import { workerCountProblem } from '../train/worker-count.js';
import { MODEL_MAX_LENGTH } from '../tokenizer/truncate.js';
import { VOCAB_SIZE } from '../tokenizer/vocab.js';
import { checkOutputFolder, refuseUnfinished } from '../util/output-manifest.js';
import { DEFAULT_TEXT_COLUMN } from './defaults.js';
import { choice, float, int, nonEmpty, usageError } from './options.js';

/**
 * The flags every masked-LM training command shares (`pretrain`, `distill`) and their checks. Everything the
 * library's training code assumes is checked here, once: whole numbers and ranges of every count, lr > 0,
 * weight decay ≥ 0, warmup a fraction or a whole number of steps no longer than --steps, 8 ≤ --seq-len ≤ 512
 * (and within a --config's max_position_embeddings), 0 ≤ --dropout < 1.
 */

/** Shortest and longest training sequence (512 = BERT's position embeddings). */
export const MIN_SEQ_LEN = 8;
export const MAX_SEQ_LEN = MODEL_MAX_LENGTH;

/** What commander parses from the data and training flags (defaults filled in). */
/** The parsed flags of pretrain/distill: the library's settings as commander fills them (some resolved later). */
export type TrainingFlags = Omit<TrainingSettings, 'train' | 'out' | 'textColumn' | 'resume' | 'device'> & {
  train?: string;
  out?: string;
  textColumn: string;
  resume: boolean;
  seed?: number;
  device: Device;
  json: boolean;
};

/** Checked training settings as the library takes them, with the run's seed. */
export type CheckedTraining = TrainingSettings & { seed: number; device: Device; resume: boolean };

/** A warmup: a fraction of the steps (< 1) or a whole number of steps (≥ 1). */
export function warmupValue(v: string): number {
  const x = float(0, 1e9)(v);
  if (x >= 1 && !Number.isInteger(x)) throw new InvalidArgumentError(`${x} is ≥ 1, so it counts steps and must be a whole number.`);
  return x;
}

/** --train, --val, --text-column, --out; `defaults` make --train and --out optional (distill). */
export function addDataOptions(cmd: Command, defaults?: { train: string; out: string }): Command {
  const train = '--train <csv|shards>';
  const trainHelp = 'training text: a CSV file (tokenized on the fly) or a shards folder from `compactlm tokenize`';
  const out = '--out <dir>';
  const outHelp = 'output folder: model folder, metrics.jsonl, checkpoints/, artifacts/';
  if (defaults) cmd.option(train, `${trainHelp} (default: ${defaults.train})`, nonEmpty);
  else cmd.requiredOption(train, trainHelp, nonEmpty);
  cmd
    .option('--val <csv|shards>', 'validation text (default: a seeded 5% of the training blocks, at most 1,000, is held out)', nonEmpty)
    .option('--text-column <name>', 'CSV column holding the text', nonEmpty, DEFAULT_TEXT_COLUMN);
  if (defaults) cmd.option(out, `${outHelp} (default: ${defaults.out})`, nonEmpty);
  else cmd.requiredOption(out, outHelp, nonEmpty);
  return cmd;
}

/** Steps, batch shape, optimizer and schedule, evaluation/checkpoint cadence, resume, seed, device, --json. */
export function addTrainingOptions(cmd: Command): Command {
  return cmd
    .option('--steps <n>', 'total optimizer steps (also when resuming)', int(1, 1e9), 1000)
    .option('--batch-size <n>', 'sequences per micro-batch', int(1, 65536), 16)
    .option('--seq-len <n>', `tokens per sequence, [CLS] and [SEP] included (${MIN_SEQ_LEN}–${MAX_SEQ_LEN})`, int(MIN_SEQ_LEN, MAX_SEQ_LEN), 128)
    .option('--lr <x>', 'peak learning rate (AdamW), in (0, 10]', float(0, 10, { exclusiveMin: true }), 5e-4)
    .option('--warmup <x>', 'warmup: a fraction of --steps if < 1, else a whole number of steps (at most --steps)', warmupValue, 0.06)
    .option('--schedule <kind>', `learning-rate decay after warmup: ${SCHEDULE_KINDS.join(' | ')}`, choice(SCHEDULE_KINDS), 'linear')
    .option('--weight-decay <x>', 'AdamW weight decay (not on biases and LayerNorm weights)', float(0, 10), 0.01)
    .option('--grad-accum <k>', 'micro-batches per optimizer step (same result as --batch-size k·B)', int(1, 65536), 1)
    .option('--eval-every <n>', 'validate every n steps and at the end (default: steps/10)', int(1, 1e9))
    .option('--save-every <n>', 'checkpoint every n steps and at the end (default: --eval-every)', int(1, 1e9))
    .option('--stop-after <step>', 'stop after this step, checkpointed, as if interrupted (time-boxed jobs; continue with --resume)', int(1, 1e9))
    .option('--profile', 'time each step by phase (batch drawing, waiting, the worker\'s feed/session/outputs) into metrics.jsonl', false)
    .option('--resume', 'continue from the latest checkpoint in --out (same data and settings)', false)
    .option('--seed <n>', 'random seed (overrides the global one)', int(0, 2 ** 32 - 1))
    .option('--device <name>', `execution provider: ${DEVICES.join(' | ')}`, choice(DEVICES), 'cpu')
    .option('--threads <n>', 'ONNX Runtime intra-op threads (default: one per core; 1 per worker with --workers); keep it when resuming', int(1, 1024))
    .option('--workers <n>', 'data-parallel worker threads, each computing the gradients of some of the --grad-accum micro-batches (same result; on small models two 1-thread workers beat one 2-thread session)', int(1, 64), 1)
    .option('--dropout <p>', 'hidden and attention dropout in [0, 1) (default: the config\'s, 0.1); 0 disables dropout', float(0, 1, { exclusiveMax: true }))
    .option('--json', 'print the summary as JSON on stdout', false);
}

/** Warmup steps as the schedule counts them (HF: ceil(fraction · steps)). */
export function warmupSteps(warmup: number, steps: number): number {
  return warmup < 1 ? Math.ceil(warmup * steps) : warmup;
}

/** The training settings with the checks that involve several flags; `train` and `out` already resolved. */
export function trainingSettings(f: TrainingFlags & { train: string; out: string }, seed: number): CheckedTraining {
  const w = warmupSteps(f.warmup, f.steps);
  if (w > f.steps) throw usageError(`--warmup ${f.warmup} is ${w} steps, longer than --steps ${f.steps}`);
  const workersProblem = workerCountProblem(f.workers ?? 1, f.gradAccum);
  if (workersProblem) throw usageError(workersProblem);
  return {
    train: f.train,
    ...(f.val !== undefined ? { val: f.val } : {}),
    textColumn: f.textColumn,
    out: f.out,
    steps: f.steps,
    batchSize: f.batchSize,
    seqLen: f.seqLen,
    lr: f.lr,
    warmup: f.warmup,
    schedule: f.schedule,
    weightDecay: f.weightDecay,
    gradAccum: f.gradAccum,
    ...(f.evalEvery !== undefined ? { evalEvery: f.evalEvery } : {}),
    ...(f.saveEvery !== undefined ? { saveEvery: f.saveEvery } : {}),
    ...(f.stopAfter !== undefined ? { stopAfter: f.stopAfter } : {}),
    ...(f.profile ? { profile: true } : {}),
    resume: f.resume,
    device: f.device,
    ...(f.threads !== undefined ? { threads: f.threads } : {}),
    ...((f.workers ?? 1) > 1 ? { workers: f.workers } : {}),
    ...(f.dropout !== undefined ? { dropout: f.dropout } : {}),
    seed,
  };
}

/** A flag naming a model folder: one line when it has no config.json and model.safetensors. */
export async function checkModelFolder(flag: string, dir: string | undefined): Promise<void> {
  if (dir === undefined) return;
  refuseUnfinished(dir);
  for (const f of ['config.json', 'model.safetensors']) {
    if (!existsSync(join(dir, f))) throw usageError(`${flag} ${dir}: not a model folder (no ${f})`);
  }
}

async function resumePoint(out: string) {
  const { checkpoint, damaged } = await new Checkpoints(out).resumable();
  if (!checkpoint) throw nothingToResume(out, damaged);
  return checkpoint;
}

/** Exactly one of two exclusive flags (or neither). */
export function exclusive(a: [string, unknown], b: [string, unknown]): void {
  if (a[1] !== undefined && b[1] !== undefined) throw usageError(`give either ${a[0]} or ${b[0]}, not both`);
}

/** A --config file must fit the tokenizer and --seq-len (presets always do). */
export async function checkConfigFile(flag: string, path: string | undefined, seqLen: number): Promise<void> {
  if (path === undefined) return;
  const config = await loadConfig(path); // one-line errors naming the file
  if (config.vocab_size !== VOCAB_SIZE) {
    throw usageError(`${flag} ${path}: vocab_size is ${config.vocab_size} but the tokenizer (bert-base-uncased) has ${VOCAB_SIZE} tokens`);
  }
  if (seqLen > config.max_position_embeddings) {
    throw usageError(`--seq-len ${seqLen} exceeds the max_position_embeddings (${config.max_position_embeddings}) of ${flag} ${path}`);
  }
}

/** --resume needs a checkpoint in --out (not beyond --steps); without it, --out must not hold an earlier run's checkpoints. */
export async function checkResume(out: string, resume: boolean, steps: number): Promise<void> {
  // A resume starts from the newest whole checkpoint (sizes and sha256 checked); damaged newer ones are WARNed.
  const latest = resume ? (await resumePoint(out)) : await latestCheckpoint(out);
  if (!resume && latest) {
    throw usageError(`--out ${out}: already has checkpoints (latest ${latest.name}); pass --resume to continue that run or choose another --out`);
  }
  if (latest && latest.step > steps) {
    throw usageError(`--resume: the latest checkpoint (${latest.dir}) is at step ${latest.step}, beyond --steps ${steps}`);
  }
  // A fresh run writes into a new or empty folder, or restarts its own run that was killed before a checkpoint.
  if (!resume) checkOutputFolder('--out', out, 'training run', (m) => m.status !== 'complete');
}
