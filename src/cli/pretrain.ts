import type { Command } from 'commander';
import { PRESET_NAMES, type PresetName } from '../model/presets.js';
import { pretrain, type PretrainOptions } from '../train/pretrain.js';
import { choice, example, frozen, globals, nonEmpty, refuseOverwritingInputs } from './options.js';
import { addDataOptions, addTrainingOptions, checkConfigFile, checkModelFolder, checkResume, exclusive, trainingSettings, type TrainingFlags } from './training-options.js';

interface PretrainFlags extends TrainingFlags {
  train: string;
  out: string;
  preset?: PresetName;
  config?: string;
  init?: string;
  loss: 'ce' | 'focal';
}

/** The checked, frozen settings `pretrain` runs with. */
export async function pretrainSettings(o: PretrainFlags, seed: number): Promise<Readonly<PretrainOptions>> {
  exclusive(['--preset', o.preset], ['--config', o.config]);
  exclusive(['--init', o.init], ['--preset', o.preset]);
  exclusive(['--init', o.init], ['--config', o.config]);
  await checkModelFolder('--init', o.init);
  const training = trainingSettings(o, seed);
  await checkConfigFile('--config', o.config, o.seqLen);
  refuseOverwritingInputs([{ what: '--out', path: o.out }], [
    { what: '--train', path: o.train },
    ...(o.val !== undefined ? [{ what: '--val', path: o.val }] : []),
    ...(o.init !== undefined ? [{ what: '--init', path: o.init }] : []),
  ]);
  await checkResume(training.out, training.resume, training.steps);
  return frozen({
    ...training,
    ...(o.preset !== undefined ? { preset: o.preset } : {}),
    ...(o.config !== undefined ? { config: o.config } : {}),
    ...(o.init !== undefined ? { init: o.init } : {}),
    loss: o.loss,
  });
}

/** `compactlm pretrain`: masked-LM pretraining of a small BERT on ONNX Runtime (library: src/train/pretrain.ts). */
export function registerPretrain(program: Command): void {
  const cmd = program
    .command('pretrain')
    .description('Pretrain a BERT masked LM from text (CSV or token shards) and save a Hugging Face model folder.');
  addDataOptions(cmd)
    .option('--preset <name>', `model size: ${PRESET_NAMES.join(' | ')} (default mini)`, choice(PRESET_NAMES))
    .option('--config <config.json>', 'model config file (Hugging Face BertConfig keys) instead of --preset', nonEmpty)
    .option('--init <dir>', 'start from the weights and config of this model folder (e.g. models/compactlm-mini, to pretrain it further) instead of a random init; fresh optimizer state', nonEmpty)
    .option('--loss <kind>', 'ce (cross-entropy) or focal (α 1, γ 2); validation always reports cross-entropy', choice(['ce', 'focal'] as const), 'ce');
  addTrainingOptions(cmd)
    .addHelpText(
      'after',
      `
Masking: 15% of the tokens (80% [MASK], 10% random, 10% unchanged), drawn afresh for every batch; validation
uses one fixed masking so evaluations compare. metrics.jsonl has a row per step (loss, lr, grad_norm,
tokens_per_s) and per evaluation (val_loss, val_ppl, val_mlm_acc). Checkpoints are crash-safe: after a
kill, --resume ends with the same weights as an uninterrupted run.`,
    )
    .action(async (o: PretrainFlags, command: Command) => {
      const settings = await pretrainSettings(o, globals(command).seed);
      const summary = await pretrain(settings);
      if (o.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
    });
  example(
    cmd,
    'compactlm pretrain --train datasets/prose.csv --out runs/mini --preset mini --steps 2000',
    'compactlm pretrain --train shards/ --val val.csv --out runs/tiny --preset tiny --batch-size 32 --seq-len 64 --eval-every 100',
    'compactlm pretrain --train datasets/prose.csv --out runs/mini --steps 2000 --resume',
    'compactlm pretrain --train runs/corpus/shards-train --out runs/mini-more --init models/compactlm-mini --steps 5000',
  );
}
