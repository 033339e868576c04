import type { Command } from 'commander';
import { DEVICES, type Device } from '../runtime/session.js';
import type { TrainingSettings } from '../train/pretrain.js';
import { SCHEDULE_KINDS } from '../train/schedule.js';
import { choice, float, int } from './options.js';

/** The parsed flags every masked-LM training command shares (`pretrain`, `distill`); commander fills the defaults. */
export type TrainingFlags = TrainingSettings & { textColumn: string; resume: boolean; device: Device; json: boolean };

/** --train, --val, --text-column, --out. */
export function addDataOptions(cmd: Command): Command {
  return cmd
    .requiredOption('--train <csv|shards>', 'training text: a CSV file (tokenized on the fly) or a shards folder from `compactlm tokenize`')
    .option('--val <csv|shards>', 'validation text (default: a seeded 5% of the training blocks, at most 1,000, is held out)')
    .option('--text-column <name>', 'CSV column holding the text', 'text')
    .requiredOption('--out <dir>', 'output folder: model folder, metrics.jsonl, checkpoints/, artifacts/');
}

/** Steps, batch shape, optimizer and schedule, evaluation/checkpoint cadence, resume, seed, device, --json. */
export function addTrainingOptions(cmd: Command): Command {
  return cmd
    .option('--steps <n>', 'total optimizer steps (also when resuming)', int(1, 1e9), 1000)
    .option('--batch-size <n>', 'sequences per micro-batch', int(1, 65536), 16)
    .option('--seq-len <n>', 'tokens per sequence, [CLS] and [SEP] included (8–512)', int(8, 512), 128)
    .option('--lr <x>', 'peak learning rate (AdamW)', float(0, 10), 5e-4)
    .option('--warmup <x>', 'warmup: a fraction of --steps if < 1, else a number of steps', float(0, 1e9), 0.06)
    .option('--schedule <kind>', `learning-rate decay after warmup: ${SCHEDULE_KINDS.join(' | ')}`, choice(SCHEDULE_KINDS), 'linear')
    .option('--weight-decay <x>', 'AdamW weight decay (not on biases and LayerNorm weights)', float(0, 10), 0.01)
    .option('--grad-accum <k>', 'micro-batches per optimizer step (same result as --batch-size k·B)', int(1, 65536), 1)
    .option('--eval-every <n>', 'validate every n steps and at the end (default: steps/10)', int(1, 1e9))
    .option('--save-every <n>', 'checkpoint every n steps and at the end (default: --eval-every)', int(1, 1e9))
    .option('--resume', 'continue from the latest checkpoint in --out (same data and settings)', false)
    .option('--seed <n>', 'random seed (overrides the global one)', int(0, 2 ** 32 - 1))
    .option('--device <name>', `execution provider: ${DEVICES.join(' | ')}`, choice(DEVICES), 'cpu')
    .option('--threads <n>', 'ONNX Runtime intra-op threads (default: one per core); keep it when resuming', int(1, 1024))
    .option('--dropout <p>', 'hidden and attention dropout (default: the config\'s, 0.1); 0 disables dropout', float(0, 0.99))
    .option('--json', 'print the summary as JSON on stdout', false);
}
