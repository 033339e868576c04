import type { Command } from 'commander';
import { finetuneExtractive, type ExtractiveFinetuneOptions } from '../finetune/extractive-finetune.js';
import { CLASS_WEIGHTS, finetune, type FinetuneOptions } from '../finetune/finetune.js';
import { DEFAULT_MODEL_DIR, DEFAULT_MODEL_NAME, installedDefaultModel } from '../model/default-model.js';
import { DEVICES, type Device } from '../runtime/session.js';
import { SCHEDULE_KINDS } from '../train/schedule.js';
import { MODEL_MAX_LENGTH } from '../tokenizer/truncate.js';
import { UserError } from '../util/errors.js';
import { choice, example, float, frozen, given, globals, int, nonEmpty, refuseOverwritingInputs, usageError } from './options.js';
import { checkModelFolder, checkResume, warmupSteps, warmupValue } from './training-options.js';

const TASKS = ['classify', 'extractive'] as const;
/** --max-length and --batch-size by task: a sentence classifier reads short texts, BertSumExt 512-token documents. */
const TASK_DEFAULTS = { classify: { maxLength: 128, batchSize: 32 }, extractive: { maxLength: 512, batchSize: 8 } } as const;

/** What commander parses: the library's options, with the defaults filled in and a few resolved later. */
type FinetuneFlags = Omit<FinetuneOptions, 'model' | 'epochs' | 'seed' | 'resume' | 'resetHead' | 'device' | 'labelColumn' | 'maxLength' | 'batchSize'> & {
  model?: string;
  task: (typeof TASKS)[number];
  labelColumn?: string;
  summaryColumn: string;
  maxLength?: number;
  batchSize?: number;
  epochs: number;
  seed?: number;
  resume: boolean;
  resetHead: boolean;
  device: Device;
  json: boolean;
};

/** Flags that only one task reads: giving one to the other task is a usage error, not a silent no-op. */
const CLASSIFY_ONLY: [key: keyof FinetuneFlags, flag: string][] = [
  ['labelColumn', '--label-column'], ['pairColumn', '--pair-column'], ['weightColumn', '--weight-column'],
  ['classWeights', '--class-weights'], ['loss', '--loss'], ['resetHead', '--reset-head'],
];
const EXTRACTIVE_ONLY: [key: keyof FinetuneFlags, flag: string][] = [['summaryColumn', '--summary-column']];

/** The checked, frozen settings `finetune` runs with: FinetuneOptions for --task classify, else the extractive ones. */
export async function finetuneSettings(o: FinetuneFlags, seed: number, command: Command): Promise<Readonly<FinetuneOptions> | Readonly<ExtractiveFinetuneOptions>> {
  for (const [key, flag] of o.task === 'classify' ? EXTRACTIVE_ONLY : CLASSIFY_ONLY) {
    if (given(command, key)) throw usageError(`${flag} is for --task ${o.task === 'classify' ? 'extractive' : 'classify'}, not --task ${o.task}`);
  }
  if (o.task === 'classify' && o.labelColumn === undefined) throw usageError('--task classify needs --label-column <name> (the column holding the label)');
  if (o.steps !== undefined && given(command, 'epochs')) throw usageError('give either --epochs or --steps, not both');
  const model = o.model ?? installedDefaultModel(DEFAULT_MODEL_DIR);
  if (!model) throw new UserError(`no --model and ${DEFAULT_MODEL_NAME} is not installed: pass --model <pretrained folder>`);
  await checkModelFolder('--model', model);
  if (o.steps !== undefined && warmupSteps(o.warmup, o.steps) > o.steps) throw usageError(`--warmup ${o.warmup} is longer than --steps ${o.steps}`);
  const columns = [o.textColumn, o.task === 'classify' ? o.labelColumn : o.summaryColumn, o.pairColumn, o.weightColumn].filter((c): c is string => c !== undefined);
  if (new Set(columns).size !== columns.length) {
    const flags = o.task === 'classify' ? '--text-column, --label-column, --pair-column and --weight-column' : '--text-column and --summary-column';
    throw usageError(`${flags} must name different columns (got ${columns.join(', ')})`);
  }
  refuseOverwritingInputs([{ what: '--out', path: o.out }], [
    { what: '--train', path: o.train },
    ...(o.val !== undefined ? [{ what: '--val', path: o.val }] : []),
    { what: '--model', path: model },
  ]);
  await checkResume(o.out, o.resume, o.steps ?? Number.MAX_SAFE_INTEGER);
  const common = {
    model, train: o.train, ...(o.val !== undefined ? { val: o.val } : {}), out: o.out, textColumn: o.textColumn,
    ...(o.steps !== undefined ? { steps: o.steps } : { epochs: o.epochs }),
    batchSize: o.batchSize ?? TASK_DEFAULTS[o.task].batchSize, maxLength: o.maxLength ?? TASK_DEFAULTS[o.task].maxLength,
    lr: o.lr, warmup: o.warmup, schedule: o.schedule, weightDecay: o.weightDecay,
    ...(o.earlyStop !== undefined ? { earlyStop: o.earlyStop } : {}),
    ...(o.evalEvery !== undefined ? { evalEvery: o.evalEvery } : {}),
    ...(o.saveEvery !== undefined ? { saveEvery: o.saveEvery } : {}),
    ...(o.stopAfter !== undefined ? { stopAfter: o.stopAfter } : {}),
    ...(o.dropout !== undefined ? { dropout: o.dropout } : {}),
    resume: o.resume, seed, device: o.device,
    ...(o.threads !== undefined ? { threads: o.threads } : {}),
  };
  if (o.task === 'extractive') return frozen({ ...common, summaryColumn: o.summaryColumn });
  return frozen({
    ...common, labelColumn: o.labelColumn!,
    ...(o.pairColumn !== undefined ? { pairColumn: o.pairColumn } : {}),
    ...(o.weightColumn !== undefined ? { weightColumn: o.weightColumn } : {}),
    classWeights: o.classWeights, loss: o.loss, resetHead: o.resetHead,
  });
}

/**
 * `compactlm finetune`: a sequence classifier (--task classify) or an extractive summarizer (--task extractive,
 * BertSumExt) from a pretrained model folder (library: src/finetune/).
 */
export function registerFinetune(program: Command): void {
  const cmd = program
    .command('finetune')
    .description('Fine-tune a pretrained model folder as a sequence classifier on a labeled CSV (saves a Hugging Face ' +
      'BertForSequenceClassification folder, the best checkpoint by validation macro-F1), or with --task extractive as a ' +
      'BertSumExt extractive summarizer on documents with reference summaries (the best checkpoint by validation ROUGE-1 + ROUGE-2).')
    .option('--model <dir>', `pretrained model folder (masked LM, or a classifier or extractive folder to continue); default: ${DEFAULT_MODEL_NAME}`, nonEmpty)
    .option('--task <name>', `${TASKS.join(' | ')} (extractive: sentences labelled by the greedy ROUGE oracle, a classifier on each sentence's [CLS])`, choice(TASKS), 'classify')
    .requiredOption('--train <csv>', 'training CSV (classify: texts and labels; extractive: documents and summaries)', nonEmpty)
    .option('--val <csv>', 'validation CSV, same columns (default: a seeded 10% of --train is held out)', nonEmpty)
    .option('--text-column <name>', 'column holding the text (extractive: the document)', nonEmpty, 'text')
    .option('--pair-column <name>', 'classify: column holding a second text (sentence pairs: [CLS] text [SEP] pair [SEP])', nonEmpty)
    .option('--label-column <name>', 'classify (required): column holding the label (read as a string; the label set is sorted)', nonEmpty)
    .option('--summary-column <name>', 'extractive: column holding the reference summary', nonEmpty, 'summary')
    .option('--weight-column <name>', 'classify: column of per-example loss weights ≥ 0 in --train (e.g. from `bias-report --weights`); validation is unweighted', nonEmpty)
    .requiredOption('--out <dir>', 'output folder: the model folder, metrics.jsonl, checkpoints/', nonEmpty)
    .option('--epochs <n>', 'passes over the training set', float(0, 1e6, { exclusiveMin: true }), 3)
    .option('--steps <n>', 'optimizer steps instead of --epochs', int(1, 1e9))
    .option('--batch-size <n>', `examples per step (default ${TASK_DEFAULTS.classify.batchSize}; extractive ${TASK_DEFAULTS.extractive.batchSize})`, int(1, 65536))
    .option('--max-length <n>', `tokens per example, [CLS]/[SEP] included (default ${TASK_DEFAULTS.classify.maxLength}; extractive ${TASK_DEFAULTS.extractive.maxLength}: ` +
      'whole sentences; longer texts are truncated, and counted)', int(8, MODEL_MAX_LENGTH))
    .option('--lr <x>', 'peak learning rate (AdamW)', float(0, 10, { exclusiveMin: true }), 5e-5)
    .option('--warmup <x>', 'warmup: a fraction of the steps if < 1, else whole steps', warmupValue, 0.1)
    .option('--schedule <kind>', `learning-rate decay after warmup: ${SCHEDULE_KINDS.join(' | ')}`, choice(SCHEDULE_KINDS), 'linear')
    .option('--weight-decay <x>', 'AdamW weight decay (not on biases and LayerNorm weights)', float(0, 10), 0.01)
    .option('--class-weights <kind>', `classify: ${CLASS_WEIGHTS.join(' | ')} (balanced: n/(C·n_c), as scikit-learn)`, choice(CLASS_WEIGHTS), 'none')
    .option('--loss <kind>', 'classify: ce (cross-entropy) or focal (α 1, γ 2)', choice(['ce', 'focal'] as const), 'ce')
    .option('--early-stop <evals>', 'stop after this many evaluations without a better validation macro-F1 (extractive: ROUGE-1 + ROUGE-2)', int(1, 1e6))
    .option('--eval-every <n>', 'validate every n steps and at the end (default: once per epoch)', int(1, 1e9))
    .option('--save-every <n>', 'checkpoint every n steps and at the end (default: --eval-every)', int(1, 1e9))
    .option('--stop-after <step>', 'stop after this step, checkpointed, as if interrupted (continue with --resume)', int(1, 1e9))
    .option('--resume', 'continue from the latest checkpoint in --out (same data and settings)', false)
    .option('--reset-head', 'classify: when --model is already a classifier over other labels: keep its encoder, train a new head', false)
    .option('--dropout <p>', 'hidden, attention and classifier dropout in [0, 1) (default: the config\'s)', float(0, 1, { exclusiveMax: true }))
    .option('--seed <n>', 'random seed (overrides the global one)', int(0, 2 ** 32 - 1))
    .option('--device <name>', `execution provider: ${DEVICES.join(' | ')}`, choice(DEVICES), 'cpu')
    .option('--threads <n>', 'ONNX Runtime intra-op threads (default: one per core)', int(1, 1024))
    .option('--json', 'print the summary as JSON on stdout', false)
    .action(async (o: FinetuneFlags, command: Command) => {
      const settings = await finetuneSettings(o, o.seed ?? globals(command).seed, command);
      const summary = 'summaryColumn' in settings ? await finetuneExtractive(settings) : await finetune(settings);
      if (o.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
    });
  example(
    cmd,
    'compactlm finetune --train train.csv --val val.csv --label-column label --out runs/sentiment      # from models/compactlm-mini',
    'compactlm finetune --model runs/mini --train train.csv --label-column label --out runs/clf --epochs 5 --class-weights balanced',
    'compactlm finetune --train reweighted.csv --label-column label --weight-column weight --out runs/fair --seed 1',
    'compactlm finetune --train train.csv --label-column label --out runs/clf --resume',
    'compactlm finetune --task extractive --train pairs.csv --val val.csv --text-column article --summary-column summary --out runs/extractive --epochs 4',
  );
}
