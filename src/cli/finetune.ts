import type { Command } from 'commander';
import { CLASS_WEIGHTS, finetune, type FinetuneOptions } from '../finetune/finetune.js';
import { DEFAULT_MODEL_DIR, DEFAULT_MODEL_NAME, installedDefaultModel } from '../model/default-model.js';
import { DEVICES, type Device } from '../runtime/session.js';
import { SCHEDULE_KINDS } from '../train/schedule.js';
import { MODEL_MAX_LENGTH } from '../tokenizer/truncate.js';
import { UserError } from '../util/errors.js';
import { choice, example, float, frozen, given, globals, int, nonEmpty, refuseOverwritingInputs, usageError } from './options.js';
import { checkModelFolder, checkResume, warmupSteps, warmupValue } from './training-options.js';

const TASKS = ['classify'] as const;

/** What commander parses: the library's options, with the defaults filled in and a few resolved later. */
type FinetuneFlags = Omit<FinetuneOptions, 'model' | 'epochs' | 'seed' | 'resume' | 'resetHead' | 'device'> & {
  model?: string;
  task: (typeof TASKS)[number];
  epochs: number;
  seed?: number;
  resume: boolean;
  resetHead: boolean;
  device: Device;
  json: boolean;
};

/** The checked, frozen settings `finetune` runs with. */
export async function finetuneSettings(o: FinetuneFlags, seed: number, epochsGiven: boolean): Promise<Readonly<FinetuneOptions>> {
  if (o.steps !== undefined && epochsGiven) throw usageError('give either --epochs or --steps, not both');
  const model = o.model ?? installedDefaultModel(DEFAULT_MODEL_DIR);
  if (!model) throw new UserError(`no --model and ${DEFAULT_MODEL_NAME} is not installed: pass --model <pretrained folder>`);
  await checkModelFolder('--model', model);
  if (o.steps !== undefined && warmupSteps(o.warmup, o.steps) > o.steps) throw usageError(`--warmup ${o.warmup} is longer than --steps ${o.steps}`);
  const columns = [o.textColumn, o.labelColumn, o.pairColumn, o.weightColumn].filter((c): c is string => c !== undefined);
  if (new Set(columns).size !== columns.length) throw usageError(`--text-column, --label-column, --pair-column and --weight-column must name different columns (got ${columns.join(', ')})`);
  refuseOverwritingInputs([{ what: '--out', path: o.out }], [
    { what: '--train', path: o.train },
    ...(o.val !== undefined ? [{ what: '--val', path: o.val }] : []),
    { what: '--model', path: model },
  ]);
  await checkResume(o.out, o.resume, o.steps ?? Number.MAX_SAFE_INTEGER);
  return frozen({
    model, train: o.train, ...(o.val !== undefined ? { val: o.val } : {}), out: o.out,
    textColumn: o.textColumn, labelColumn: o.labelColumn,
    ...(o.pairColumn !== undefined ? { pairColumn: o.pairColumn } : {}),
    ...(o.weightColumn !== undefined ? { weightColumn: o.weightColumn } : {}),
    ...(o.steps !== undefined ? { steps: o.steps } : { epochs: o.epochs }),
    batchSize: o.batchSize, maxLength: o.maxLength, lr: o.lr, warmup: o.warmup, schedule: o.schedule,
    weightDecay: o.weightDecay, classWeights: o.classWeights, loss: o.loss,
    ...(o.earlyStop !== undefined ? { earlyStop: o.earlyStop } : {}),
    ...(o.evalEvery !== undefined ? { evalEvery: o.evalEvery } : {}),
    ...(o.saveEvery !== undefined ? { saveEvery: o.saveEvery } : {}),
    ...(o.stopAfter !== undefined ? { stopAfter: o.stopAfter } : {}),
    ...(o.dropout !== undefined ? { dropout: o.dropout } : {}),
    resume: o.resume, resetHead: o.resetHead, seed, device: o.device,
    ...(o.threads !== undefined ? { threads: o.threads } : {}),
  });
}

/** `compactlm finetune`: a sequence classifier from a pretrained model folder (library: src/finetune/). */
export function registerFinetune(program: Command): void {
  const cmd = program
    .command('finetune')
    .description('Fine-tune a pretrained model folder as a sequence classifier on a labeled CSV; saves a Hugging Face BertForSequenceClassification folder (the best checkpoint by validation macro-F1).')
    .option('--model <dir>', `pretrained model folder (masked LM, or a classifier to continue); default: ${DEFAULT_MODEL_NAME}`, nonEmpty)
    .option('--task <name>', TASKS.join(' | '), choice(TASKS), 'classify')
    .requiredOption('--train <csv>', 'labeled training CSV', nonEmpty)
    .option('--val <csv>', 'labeled validation CSV (default: a seeded 10% of --train is held out)', nonEmpty)
    .option('--text-column <name>', 'column holding the text', nonEmpty, 'text')
    .option('--pair-column <name>', 'column holding a second text (sentence pairs: [CLS] text [SEP] pair [SEP])', nonEmpty)
    .requiredOption('--label-column <name>', 'column holding the label (read as a string; the label set is sorted)', nonEmpty)
    .option('--weight-column <name>', 'column of per-example loss weights ≥ 0 in --train (e.g. from `bias-report --weights`); validation is unweighted', nonEmpty)
    .requiredOption('--out <dir>', 'output folder: the classifier folder, metrics.jsonl, checkpoints/', nonEmpty)
    .option('--epochs <n>', 'passes over the training set', float(0, 1e6, { exclusiveMin: true }), 3)
    .option('--steps <n>', 'optimizer steps instead of --epochs', int(1, 1e9))
    .option('--batch-size <n>', 'examples per step', int(1, 65536), 32)
    .option('--max-length <n>', `tokens per example, [CLS]/[SEP] included (longer texts are truncated, and counted)`, int(8, MODEL_MAX_LENGTH), 128)
    .option('--lr <x>', 'peak learning rate (AdamW)', float(0, 10, { exclusiveMin: true }), 5e-5)
    .option('--warmup <x>', 'warmup: a fraction of the steps if < 1, else whole steps', warmupValue, 0.1)
    .option('--schedule <kind>', `learning-rate decay after warmup: ${SCHEDULE_KINDS.join(' | ')}`, choice(SCHEDULE_KINDS), 'linear')
    .option('--weight-decay <x>', 'AdamW weight decay (not on biases and LayerNorm weights)', float(0, 10), 0.01)
    .option('--class-weights <kind>', `${CLASS_WEIGHTS.join(' | ')} (balanced: n/(C·n_c), as scikit-learn)`, choice(CLASS_WEIGHTS), 'none')
    .option('--loss <kind>', 'ce (cross-entropy) or focal (α 1, γ 2)', choice(['ce', 'focal'] as const), 'ce')
    .option('--early-stop <evals>', 'stop after this many evaluations without a better validation macro-F1', int(1, 1e6))
    .option('--eval-every <n>', 'validate every n steps and at the end (default: once per epoch)', int(1, 1e9))
    .option('--save-every <n>', 'checkpoint every n steps and at the end (default: --eval-every)', int(1, 1e9))
    .option('--stop-after <step>', 'stop after this step, checkpointed, as if interrupted (continue with --resume)', int(1, 1e9))
    .option('--resume', 'continue from the latest checkpoint in --out (same data and settings)', false)
    .option('--reset-head', 'when --model is already a classifier over other labels: keep its encoder, train a new head', false)
    .option('--dropout <p>', 'hidden, attention and classifier dropout in [0, 1) (default: the config\'s)', float(0, 1, { exclusiveMax: true }))
    .option('--seed <n>', 'random seed (overrides the global one)', int(0, 2 ** 32 - 1))
    .option('--device <name>', `execution provider: ${DEVICES.join(' | ')}`, choice(DEVICES), 'cpu')
    .option('--threads <n>', 'ONNX Runtime intra-op threads (default: one per core)', int(1, 1024))
    .option('--json', 'print the summary as JSON on stdout', false)
    .action(async (o: FinetuneFlags, command: Command) => {
      const settings = await finetuneSettings(o, o.seed ?? globals(command).seed, given(command, 'epochs'));
      const summary = await finetune(settings);
      if (o.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
    });
  example(
    cmd,
    'compactlm finetune --train train.csv --val val.csv --label-column label --out runs/sentiment      # from models/compactlm-mini',
    'compactlm finetune --model runs/mini --train train.csv --label-column label --out runs/clf --epochs 5 --class-weights balanced',
    'compactlm finetune --train reweighted.csv --label-column label --weight-column weight --out runs/fair --seed 1',
    'compactlm finetune --train train.csv --label-column label --out runs/clf --resume',
  );
}
