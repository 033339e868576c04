import type { Command } from 'commander';
import { DISTILL_DEFAULTS } from '../model/distill-loss.js';
import { PRESET_NAMES, type PresetName } from '../model/presets.js';
import { distill } from '../distill/distill.js';
import { choice, example, float, globals } from './options.js';
import { addDataOptions, addTrainingOptions, type TrainingFlags } from './training-options.js';

interface DistillFlags extends TrainingFlags {
  teacher: string;
  studentPreset?: PresetName;
  studentConfig?: string;
  temperature: number;
  alpha: number;
  initFromTeacher: boolean;
}

/** `compactlm distill`: a smaller BERT learns from a teacher's soft predictions (library: src/distill/distill.ts). */
export function registerDistill(program: Command): void {
  const cmd = program
    .command('distill')
    .description('Distill a teacher BERT into a smaller student (DistilBERT-style masked-LM distillation) and save its model folder.')
    .requiredOption('--teacher <dir|onnx-dir|hub-id>', 'teacher: a model folder (config.json + model.safetensors), an export folder (onnx/model.onnx), or a Hugging Face id found in the local HF cache or downloaded');
  addDataOptions(cmd)
    .option('--student-preset <name>', `student size: ${PRESET_NAMES.join(' | ')} (default: the teacher with half its layers)`, choice(PRESET_NAMES))
    .option('--student-config <config.json>', 'student config file (Hugging Face BertConfig keys) instead of --student-preset')
    .option('--temperature <T>', 'softmax temperature of the soft targets (the KL term is scaled by T²)', float(1e-3, 1000), DISTILL_DEFAULTS.temperature)
    .option('--alpha <a>', 'weight of the distillation term; 1 − alpha weighs the masked-LM cross-entropy', float(0, 1), DISTILL_DEFAULTS.alpha)
    .option('--init-from-teacher', 'start the student from the teacher\'s embeddings, MLM head and every other layer (needs equal hidden sizes)', false);
  addTrainingOptions(cmd)
    .addHelpText(
      'after',
      `
Loss on the masked positions (DistilBERT; alpha 0.5 = the mean of both terms):
  alpha · T² · KL(softmax(teacher/T) ‖ softmax(student/T)) + (1 − alpha) · cross-entropy(student, tokens)
with KL averaged over masked tokens (PyTorch KLDivLoss 'batchmean'). Teacher and student must share the
bert-base-uncased vocabulary. --out gets the student's model folder (as pretrain writes it) and
distill_report.json: both models' parameters, validation loss, perplexity and masked-token accuracy on the same
masked batches, and retained_accuracy = student / teacher accuracy.`,
    )
    .action(async (o: DistillFlags, command: Command) => {
      const { seed } = globals(command);
      const summary = await distill({ ...o, seed });
      if (o.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
    });
  example(
    cmd,
    'compactlm distill --teacher runs/mini --train datasets/prose.csv --out runs/tiny-distilled --student-preset tiny --steps 2000',
    'compactlm distill --teacher bert-base-uncased --train shards/ --out runs/distilbert --init-from-teacher --steps 20000',
    'compactlm distill --teacher exports/mini --train train.csv --val val.csv --out runs/student --student-config student.json --temperature 4 --alpha 0.7',
  );
}
