import { existsSync, statSync } from 'node:fs';
import { basename, extname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { ONNX_MODEL_FILE } from '../export/export-folder.js';
import { WEIGHTS_FILE, WEIGHTS_INDEX_FILE } from '../model/checkpoint-folder.js';
import { DISTILL_DEFAULTS } from '../model/distill-loss.js';
import { packagePath } from '../model/default-model.js';
import { PRESET_NAMES, type PresetName } from '../model/presets.js';
import { distill, type DistillOptions } from '../distill/distill.js';
import { cachedSnapshot, downloadSnapshot, hubCacheDir, isHubId, repoFolder } from '../distill/hub.js';
import { UserError } from '../util/errors.js';
import { progress, type Progress } from '../util/progress.js';
import { BUNDLED_PROSE, DISTILL_RUNS_DIR } from './defaults.js';
import { distillClassifier, type DistillClassifierOptions } from '../distill/distill-classifier.js';
import { choice, example, float, frozen, given, globals, int, nonEmpty, refuseOverwritingInputs, usageError } from './options.js';
import { addDataOptions, addTrainingOptions, checkConfigFile, checkModelFolder, checkResume, exclusive, trainingSettings, type TrainingFlags } from './training-options.js';

interface DistillFlags extends TrainingFlags {
  task: 'mlm' | 'classify';
  labelColumn?: string;
  pairColumn?: string;
  studentInit?: string;
  maxLength: number;
  epochs: number;
  earlyStop?: number;
  teacher: string;
  studentPreset?: PresetName;
  studentConfig?: string;
  temperature: number;
  alpha: number;
  initFromTeacher: boolean;
}

/** The student's name in the default --out: its preset, its config file's name, its --student-init folder's name, or `half` (the teacher's half). */
export function studentName(o: Pick<DistillFlags, 'studentPreset' | 'studentConfig' | 'studentInit'>): string {
  if (o.studentPreset !== undefined) return o.studentPreset;
  if (o.studentConfig !== undefined) return slug(basename(o.studentConfig, extname(o.studentConfig)));
  if (o.studentInit !== undefined) return slug(basename(resolve(o.studentInit)));
  return 'half';
}

/** The teacher's name in the default --out: a folder's name, or the hub id with `/` as `--`. */
export function teacherName(teacher: string): string {
  return slug(existsSync(teacher) ? basename(resolve(teacher)) : teacher.replace(/\//g, '--'));
}

function slug(s: string): string {
  return s.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[-.]+|[-.]+$/g, '') || 'model';
}

/** runs/distill/<student>-from-<teacher> (relative to the working folder). */
export function defaultDistillOut(o: Pick<DistillFlags, 'teacher' | 'studentPreset' | 'studentConfig' | 'studentInit'>): string {
  return join(DISTILL_RUNS_DIR, `${studentName(o)}-from-${teacherName(o.teacher)}`);
}

/** The checked, frozen settings `distill` runs with. */
export async function distillSettings(o: DistillFlags, seed: number): Promise<Readonly<DistillOptions>> {
  exclusive(['--student-preset', o.studentPreset], ['--student-config', o.studentConfig]);
  // --student-init brings its own size and weights
  exclusive(['--student-init', o.studentInit], ['--student-preset', o.studentPreset]);
  exclusive(['--student-init', o.studentInit], ['--student-config', o.studentConfig]);
  exclusive(['--student-init', o.studentInit], ['--init-from-teacher', o.initFromTeacher || undefined]);
  await checkModelFolder('--student-init', o.studentInit);
  const train = o.train ?? BUNDLED_PROSE;
  const out = o.out ?? defaultDistillOut(o);
  const training = trainingSettings({ ...o, train, out }, seed);
  await checkConfigFile('--student-config', o.studentConfig, o.seqLen);
  refuseOverwritingInputs([{ what: '--out', path: out }], [
    { what: '--teacher', path: o.teacher },
    { what: '--train', path: train },
    ...(o.val !== undefined ? [{ what: '--val', path: o.val }] : []),
    ...(o.studentInit !== undefined ? [{ what: '--student-init', path: o.studentInit }] : []),
  ]);
  await checkResume(training.out, training.resume, training.steps);
  return frozen({
    ...training,
    teacher: o.teacher,
    ...(o.studentPreset !== undefined ? { studentPreset: o.studentPreset } : {}),
    ...(o.studentConfig !== undefined ? { studentConfig: o.studentConfig } : {}),
    ...(o.studentInit !== undefined ? { studentInit: o.studentInit } : {}),
    temperature: o.temperature,
    alpha: o.alpha,
    initFromTeacher: o.initFromTeacher,
  });
}

/** `distill --task classify`: the checked settings (finetune's data and training flags, distillation's student flags). */
export async function classifySettings(o: DistillFlags, command: Command): Promise<Readonly<DistillClassifierOptions>> {
  if (o.train === undefined) throw usageError('--task classify needs --train <labeled csv> (and --label-column)');
  if (o.labelColumn === undefined) throw usageError('--task classify needs --label-column <name>');
  for (const flag of ['seqLen', 'gradAccum'] as const) {
    if (given(command, flag)) throw usageError(`--${flag === 'seqLen' ? 'seq-len' : 'grad-accum'} is for --task mlm; with --task classify use --max-length`);
  }
  if (given(command, 'workers')) throw usageError('--workers is for --task mlm');
  exclusive(['--student-init', o.studentInit], ['--init-from-teacher', o.initFromTeacher || undefined]);
  await checkModelFolder('--teacher', o.teacher);
  await checkModelFolder('--student-init', o.studentInit);
  const out = o.out ?? defaultDistillOut(o);
  const stepsGiven = given(command, 'steps');
  refuseOverwritingInputs([{ what: '--out', path: out }], [
    { what: '--teacher', path: o.teacher },
    { what: '--train', path: o.train },
    ...(o.val !== undefined ? [{ what: '--val', path: o.val }] : []),
    ...(o.studentInit !== undefined ? [{ what: '--student-init', path: o.studentInit }] : []),
  ]);
  await checkResume(out, o.resume, stepsGiven ? o.steps : Number.MAX_SAFE_INTEGER);
  return frozen({
    teacher: o.teacher, train: o.train, ...(o.val !== undefined ? { val: o.val } : {}), out,
    textColumn: o.textColumn, labelColumn: o.labelColumn,
    ...(o.pairColumn !== undefined ? { pairColumn: o.pairColumn } : {}),
    ...(stepsGiven ? { steps: o.steps } : { epochs: o.epochs }),
    batchSize: o.batchSize, maxLength: o.maxLength, lr: o.lr, warmup: o.warmup, schedule: o.schedule, weightDecay: o.weightDecay,
    classWeights: 'none' as const, loss: 'ce' as const,
    ...(o.earlyStop !== undefined ? { earlyStop: o.earlyStop } : {}),
    ...(o.evalEvery !== undefined ? { evalEvery: o.evalEvery } : {}),
    ...(o.saveEvery !== undefined ? { saveEvery: o.saveEvery } : {}),
    ...(o.stopAfter !== undefined ? { stopAfter: o.stopAfter } : {}),
    ...(o.dropout !== undefined ? { dropout: o.dropout } : {}),
    ...(o.studentPreset !== undefined ? { studentPreset: o.studentPreset } : {}),
    ...(o.studentConfig !== undefined ? { studentConfig: o.studentConfig } : {}),
    ...(o.studentInit !== undefined ? { studentInit: o.studentInit } : {}),
    initFromTeacher: o.initFromTeacher, temperature: o.temperature, alpha: o.alpha,
    resume: o.resume, seed: o.seed ?? globals(command).seed, device: o.device,
    ...(o.threads !== undefined ? { threads: o.threads } : {}),
  });
}

const isTrue = (v: string | undefined) => v !== undefined && /^(1|true|yes|on)$/i.test(v.trim());

/** How to pass a teacher without the hub. */
const localTeacher = (id: string) => 'pass a local model folder instead: --teacher <dir> (config.json + model.safetensors: ' +
  `\`huggingface-cli download ${id} --local-dir <dir>\` where there is internet, or a \`compactlm pretrain\` folder)`;

/**
 * A hub id that is not in the local Hugging Face cache is fetched into it now (so the library finds it there);
 * where the hub cannot be reached, or HF_HUB_OFFLINE is set, this stops with one line saying how to pass a folder.
 */
export async function fetchHubTeacher(teacher: string, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  if (existsSync(teacher) || !isHubId(teacher)) return; // folders and bad names: the library's checks
  const cache = hubCacheDir(env);
  if (cachedSnapshot(teacher, cache)) return;
  if (isTrue(env.HF_HUB_OFFLINE)) {
    throw new UserError(`--teacher ${teacher}: no such folder, and not in the Hugging Face cache (looked in ${repoFolder(teacher, cache)}); ` +
      `HF_HUB_OFFLINE is set, so the hub was not asked; ${localTeacher(teacher)}`);
  }
  const endpoint = (env.HF_ENDPOINT || 'https://huggingface.co').replace(/\/+$/, '');
  let bar: Progress | undefined;
  let file = '';
  try {
    await downloadSnapshot(teacher, cache, {
      env,
      onProgress: (f, done, total) => {
        if (f !== file) {
          bar?.stop();
          file = f;
          bar = progress(`download ${f}`, Number.isFinite(total) ? total / 1e6 : 0, 'MB');
        }
        bar!.update(done / 1e6);
      },
    });
  } catch (e) {
    if (e instanceof UserError) throw e;
    const err = e as Error & { cause?: { code?: string; message?: string } };
    const why = err.name === 'TimeoutError' || err.name === 'AbortError' ? 'no answer in time' : (err.cause?.code ?? err.cause?.message ?? err.message);
    throw new UserError(`--teacher ${teacher}: no such folder, not in the Hugging Face cache, and the hub (${endpoint}) cannot be reached (${why}); ${localTeacher(teacher)}`);
  } finally {
    bar?.stop();
  }
}

/** --init-from-teacher copies weights: an export folder (ONNX only) has none to copy. Run after fetchHubTeacher. */
export function checkInitFromTeacher(s: Pick<DistillOptions, 'teacher' | 'initFromTeacher'>): void {
  if (!s.initFromTeacher) return;
  const dir = existsSync(s.teacher) ? s.teacher : isHubId(s.teacher) ? cachedSnapshot(s.teacher) : null;
  if (!dir || !statSync(dir).isDirectory()) return; // the library reports a missing or bad teacher
  const hasWeights = existsSync(join(dir, WEIGHTS_FILE)) || existsSync(join(dir, WEIGHTS_INDEX_FILE));
  if (!hasWeights && existsSync(join(dir, ONNX_MODEL_FILE))) {
    throw usageError(`--init-from-teacher needs the teacher's weights (${WEIGHTS_FILE}), but ${s.teacher} has only ${ONNX_MODEL_FILE}`);
  }
}

/** `compactlm distill`: a smaller BERT learns from a teacher's soft predictions (library: src/distill/distill.ts). */
export function registerDistill(program: Command): void {
  const cmd = program
    .command('distill')
    .description('Distill a teacher BERT into a smaller student (DistilBERT-style masked-LM distillation) and save its model folder.')
    .requiredOption('--teacher <dir|hub-id>', 'teacher: a model folder (config.json + model.safetensors), an export folder (onnx/model.onnx), or a Hugging Face id (from the local HF cache, else downloaded)', nonEmpty);
  addDataOptions(cmd, { train: `the bundled prose, ${packagePath(BUNDLED_PROSE)}`, out: `${DISTILL_RUNS_DIR}/<student>-from-<teacher>` })
    .option('--student-preset <name>', `student size: ${PRESET_NAMES.join(' | ')} (default: the teacher with half its layers)`, choice(PRESET_NAMES))
    .option('--student-config <config.json>', 'student config file (Hugging Face BertConfig keys) instead of --student-preset', nonEmpty)
    .option('--temperature <T>', 'softmax temperature of the soft targets (the KL term is scaled by T²)', float(1e-3, 1000), DISTILL_DEFAULTS.temperature)
    .option('--alpha <a>', 'weight of the distillation term; 1 − alpha weighs the masked-LM cross-entropy', float(0, 1), DISTILL_DEFAULTS.alpha)
    .option('--init-from-teacher', 'start the student from the teacher\'s embeddings, MLM head and every other layer (needs equal hidden sizes)', false)
    .option('--task <name>', 'mlm (masked-LM distillation) | classify (a fine-tuned classifier teacher, labeled --train CSV)', choice(['mlm', 'classify'] as const), 'mlm')
    .option('--label-column <name>', 'classify: the label column of --train/--val', nonEmpty)
    .option('--pair-column <name>', 'classify: a second-text column (sentence pairs)', nonEmpty)
    .option('--student-init <dir>', 'a model folder the student starts from — mlm: its config and weights (to distill a student further; fresh optimizer state); classify: a pretrained masked LM (its size, its encoder; new pooler and head)', nonEmpty)
    .option('--max-length <n>', 'classify: tokens per example, [CLS]/[SEP] included', int(8, 512), 128)
    .option('--epochs <n>', 'classify: passes over the training set unless --steps is given', float(0, 1e6, { exclusiveMin: true }), 3)
    .option('--early-stop <evals>', 'classify: stop after this many evaluations without a better validation macro-F1', int(1, 1e6));
  addTrainingOptions(cmd)
    .addHelpText(
      'after',
      `
Loss on the masked positions (DistilBERT; alpha 0.5 = the mean of both terms):
  alpha · T² · KL(softmax(teacher/T) ‖ softmax(student/T)) + (1 − alpha) · cross-entropy(student, tokens)
with KL averaged over masked tokens (PyTorch KLDivLoss 'batchmean'). Teacher and student must share the
bert-base-uncased vocabulary. --out gets the student's model folder (as pretrain writes it) and
distill_report.json: both models' parameters, validation loss, perplexity and masked-token accuracy on the same
masked batches, and retained_accuracy = student / teacher accuracy. Without --out: ${DISTILL_RUNS_DIR}/<student>-from-<teacher>
(<student> is the --student-preset, the --student-config file's name, or "half"; <teacher> the folder's name or
the hub id with "/" as "--").`,
    )
    .action(async (o: DistillFlags, command: Command) => {
      if (o.task === 'classify') {
        const summary = await distillClassifier(await classifySettings(o, command));
        if (o.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
        return;
      }
      const settings = await distillSettings(o, globals(command).seed);
      await fetchHubTeacher(settings.teacher);
      checkInitFromTeacher(settings);
      const summary = await distill(settings);
      if (o.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
    });
  example(
    cmd,
    'compactlm distill --teacher bert-base-uncased                    # bundled prose → runs/distill/half-from-bert-base-uncased/',
    'compactlm distill --teacher runs/mini --train datasets/prose.csv --out runs/tiny-distilled --student-preset tiny --steps 2000',
    'compactlm distill --teacher exports/mini --train train.csv --val val.csv --out runs/student --student-config student.json --temperature 4 --alpha 0.7',
    'compactlm distill --task classify --teacher runs/sentiment --student-init models/compactlm-tiny --train train.csv --val val.csv --label-column label --out runs/sentiment-tiny',
  );
}
