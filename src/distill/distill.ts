/**
 * Knowledge distillation of a masked LM (what `compactlm distill` runs): a smaller student learns from a teacher's
 * soft predictions at the masked positions plus the true tokens, DistilBERT style. It is pretraining (pretrain.ts:
 * same data, masking, trainer, checkpoints, --resume, outputs) with three changes:
 *
 *   teacher (folder | export | hub id) ──teacher.ts──▶ logits at each batch's masked positions (teacher-batches.ts)
 *   train graph loss: α·T²·KL(teacher ‖ student at temperature T) + (1 − α)·CE (model/distill-loss.ts)
 *   student weights: fresh, copied from the teacher with --init-from-teacher (init-from-teacher.ts), or a
 *                    student folder's (--student-init: its config too, to distill further)
 *
 * and a report at the end, distill_report.json (report.ts): both models scored on the same fixed-masked
 * validation batches. Validation during training (metrics.jsonl, checkpoint ranking) is the student's plain
 * masked-LM cross-entropy, so perplexities compare with pretraining runs.
 *
 * The student: --student-preset or --student-config, else DistilBERT's recipe — the teacher's architecture with
 * half of its layers (at least one).
 */
import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomic.js';
import { loadModelFolder, WEIGHTS_FILE } from '../model/checkpoint-folder.js';
import { DISTILL_DEFAULTS, distillationLoss } from '../model/distill-loss.js';
import { configToJson, validateConfig, type BertConfig } from '../model/config.js';
import { countParams } from '../model/bert.js';
import type { PresetName } from '../model/presets.js';
import { checkDevice } from '../runtime/session.js';
import { defaultMaxPredictions } from '../train/masking.js';
import { resolveConfig, trainMaskedLm, withDropout, type PretrainOptions, type PretrainSummary } from '../train/pretrain.js';
import { VOCAB_SIZE } from '../tokenizer/vocab.js';
import { UserError } from '../util/errors.js';
import { log } from '../util/log.js';
import { initFromTeacher } from './init-from-teacher.js';
import { distillReport, evaluateMaskedLm, type DistillReport } from './report.js';
import { DistillBatchSource } from './teacher-batches.js';
import { ONNX_MODEL_FILE } from '../export/export-folder.js';
import { checkTeacherFits, loadTeacher, maskedLogits, weightsMaskedLogits } from './teacher.js';

export const REPORT_FILE = 'distill_report.json';

export interface DistillOptions extends Omit<PretrainOptions, 'preset' | 'config' | 'loss'> {
  teacher: string;
  studentPreset?: PresetName;
  studentConfig?: string;
  /** Softmax temperature T (default 2) and weight α of the distillation term (default 0.5). */
  temperature?: number;
  alpha?: number;
  initFromTeacher?: boolean;
  /** A masked-LM model folder the student starts from (its config and weights, fresh optimizer state). */
  studentInit?: string;
}

export interface DistillSummary extends PretrainSummary {
  report: DistillReport;
}

/** The student's config: --student-preset / --student-config, else the teacher's with half the layers. */
export async function studentConfig(o: Pick<DistillOptions, 'studentPreset' | 'studentConfig' | 'dropout'>, teacher: BertConfig): Promise<BertConfig> {
  if (o.studentPreset !== undefined || o.studentConfig !== undefined) {
    return resolveConfig({ preset: o.studentPreset, config: o.studentConfig, dropout: o.dropout }, VOCAB_SIZE);
  }
  const { id2label: _a, label2id: _b, ...base } = teacher;
  const half = validateConfig({ ...base, architectures: ['BertForMaskedLM'], num_hidden_layers: Math.max(1, Math.floor(teacher.num_hidden_layers / 2)) }, 'student config');
  return withDropout(half, o.dropout);
}

export async function distill(o: DistillOptions): Promise<DistillSummary> {
  const temperature = o.temperature ?? DISTILL_DEFAULTS.temperature;
  const alpha = o.alpha ?? DISTILL_DEFAULTS.alpha;
  const session = { device: o.device ?? 'cpu', threads: o.threads };
  checkDevice(session.device);

  // The teacher first: a bad one fails before minutes of tokenizing.
  const teacher = await loadTeacher(o.teacher);
  checkTeacherFits(teacher, o.seqLen);
  if (o.studentInit !== undefined && (o.studentPreset !== undefined || o.studentConfig !== undefined || o.initFromTeacher)) {
    throw new UserError(`--student-init ${o.studentInit}: the student takes that folder's size and weights; drop --student-preset, --student-config and --init-from-teacher`);
  }
  const start = o.studentInit !== undefined ? await loadModelFolder(o.studentInit) : undefined;
  if (start && start.config.vocab_size !== VOCAB_SIZE) {
    throw new UserError(`--student-init ${o.studentInit}: vocab_size is ${start.config.vocab_size}, but distillation uses bert-base-uncased's ${VOCAB_SIZE} tokens`);
  }
  const config = start ? withDropout({ ...start.config, torch_dtype: 'float32' }, o.dropout) : await studentConfig(o, teacher.config);
  if (o.initFromTeacher && !teacher.weights) {
    throw new UserError(`${teacher.dir}: initializing the student from the teacher needs the teacher's weights (${WEIGHTS_FILE}), but the folder has only ${ONNX_MODEL_FILE}`);
  }
  // Copied now (errors before any work), dropped from the teacher: only the session needs them from here on.
  const initial = start ? start.params : o.initFromTeacher ? initFromTeacher(config, teacher.config, teacher.weights!) : undefined;
  const shape = { batchSize: o.batchSize, seqLen: o.seqLen, maxPredictions: defaultMaxPredictions(o.seqLen) };
  const teacherLogits = await maskedLogits(teacher, shape, session);
  teacher.weights = null;
  log().info(
    { teacher: teacher.dir, format: teacher.format, teacherParams: teacher.numParams, studentParams: countParams(config) },
    `distill: teacher ${teacher.source} (${teacher.numParams.toLocaleString('en')} parameters) → student of ${countParams(config).toLocaleString('en')}` +
      `${o.initFromTeacher ? ', initialized from the teacher' : ''}; T=${temperature}, α=${alpha}`,
  );

  try {
    const run = await trainMaskedLm({ ...o, loss: 'ce' }, {
      label: 'distill',
      config,
      init: initial ? () => initial : undefined,
      loss: distillationLoss({ temperature, alpha }),
      wrapSource: (source) => new DistillBatchSource(source, teacherLogits, config.vocab_size),
      fingerprint: { teacher: teacher.dir, teacherConfig: JSON.parse(configToJson(teacher.config)), temperature, alpha, initFromTeacher: !!o.initFromTeacher, ...(o.studentInit !== undefined ? { studentInit: o.studentInit } : {}) },
    });

    // Both models on the same fixed-masked validation batches, scored by the same code.
    const student = await weightsMaskedLogits(config, run.params, shape, session);
    const [teacherMetrics, studentMetrics] = [await evaluateMaskedLm(teacherLogits, run.evalFeeds, config.vocab_size), await evaluateMaskedLm(student, run.evalFeeds, config.vocab_size)];
    await student.release();
    const report = distillReport({
      teacherParams: teacher.numParams,
      studentParams: countParams(config),
      teacher: teacherMetrics,
      student: studentMetrics,
      temperature,
      alpha,
      initFromTeacher: !!o.initFromTeacher,
      steps: run.summary.steps,
      teacherSource: teacher.source,
      teacherFormat: teacher.format,
    });
    await writeFileAtomic(join(o.out, REPORT_FILE), JSON.stringify(report, null, 2) + '\n');
    const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
    log().info(report,
      `distill: student ${pct(report.param_ratio)} of the teacher's parameters; masked-token accuracy ${pct(report.student.val_mlm_acc)} vs ` +
        `${pct(report.teacher.val_mlm_acc)} (retains ${report.retained_accuracy === null ? 'n/a' : pct(report.retained_accuracy)}); report in ${join(o.out, REPORT_FILE)}`);
    return { ...run.summary, report };
  } finally {
    await teacherLogits.release();
  }
}
