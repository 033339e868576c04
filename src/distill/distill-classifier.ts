/**
 * Task distillation (`compactlm distill --task classify`): a small student classifier learns from a fine-tuned
 * teacher classifier's logits on the labeled training set, plus the true labels:
 *
 *   loss = α · T² · KL(softmax(teacher/T) ‖ softmax(student/T)) + (1 − α) · CE(student, labels)   (distill-loss.ts)
 *
 * It is fine-tuning (finetune.ts: same data loading, batches, trainer, best checkpoint by val macro-F1, outputs)
 * with the teacher's logits fed per batch (the teacher's `logits` graph runs on each batch while the worker
 * trains the previous one). The student starts from a pretrained masked LM (`studentInit`, e.g. the shipped
 * compactlm-tiny: its encoder, a new pooler and head), from the teacher's layers (`initFromTeacher`, DistilBERT's
 * every-other-layer rule, pooler and classifier copied), or fresh.
 *
 * distill_report.json: {task: "classify", teacher/student parameters and param_ratio, teacher/student
 * {accuracy, macro_f1} on the validation set (the same texts, the same metric code), retained_accuracy,
 * retained_macro_f1 (student / teacher), temperature, alpha, steps}.
 */
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { accuracy, argmax, macroF1 } from '../eval/classification-metrics.js';
import { classifierDistillationLoss, DISTILL_DEFAULTS } from '../model/distill-loss.js';
import { modelTable } from '../model/architecture.js';
import { loadModelFolder } from '../model/checkpoint-folder.js';
import { classifierConfig, classifierLabels, isClassifier, type BertConfig } from '../model/config.js';
import { classifierHead } from '../model/heads/classifier.js';
import { initTable, numel } from '../model/params.js';
import type { PresetName } from '../model/presets.js';
import { compileStep } from '../model/step-compiler.js';
import { checkDevice, createSession } from '../runtime/session.js';
import { f32, type WireFeeds } from '../runtime/wire.js';
import { Classifier } from '../infer/classifier.js';
import type { BatchSource } from '../train/trainer.js';
import { writeFileAtomic } from '../util/atomic.js';
import { UserError } from '../util/errors.js';
import { log } from '../util/log.js';
import { Rng } from '../util/rng.js';
import { folderTokenizer } from '../infer/encoder-model.js';
import { encodeRun, loadLabeledData, trainClassifier, type FinetuneOptions, type FinetuneSummary } from '../finetune/finetune.js';
import { initClassifier } from '../finetune/init-classifier.js';
import type { ClassifyBatchSource } from '../finetune/classify-batches.js';
import { withDropout } from '../train/pretrain.js';
import { initFromTeacher } from './init-from-teacher.js';
import { REPORT_FILE, studentConfig } from './distill.js';

export interface DistillClassifierOptions extends Omit<FinetuneOptions, 'model' | 'resetHead'> {
  teacher: string;
  studentPreset?: PresetName;
  studentConfig?: string;
  /** A pretrained masked-LM folder the student's encoder starts from. */
  studentInit?: string;
  initFromTeacher?: boolean;
  temperature?: number;
  alpha?: number;
}

export interface ClassifierDistillReport {
  task: 'classify';
  teacher_params: number;
  student_params: number;
  param_ratio: number;
  teacher: { accuracy: number; macro_f1: number };
  student: { accuracy: number; macro_f1: number };
  retained_accuracy: number | null;
  retained_macro_f1: number | null;
  val_examples: number;
  temperature: number;
  alpha: number;
  student_init: string;
  steps: number;
}

const countOf = (config: BertConfig) => modelTable(config).reduce((n, p) => n + numel(p.shape), 0);

export async function distillClassifier(o: DistillClassifierOptions): Promise<FinetuneSummary & { report: ClassifierDistillReport }> {
  const temperature = o.temperature ?? DISTILL_DEFAULTS.temperature;
  const alpha = o.alpha ?? DISTILL_DEFAULTS.alpha;
  const session = { device: o.device ?? 'cpu', threads: o.threads };
  checkDevice(session.device);
  const teacher = await loadModelFolder(o.teacher);
  if (!isClassifier(teacher.config)) {
    throw new UserError(`--teacher ${o.teacher}: is a ${teacher.config.architectures[0]}; distill --task classify needs a fine-tuned classifier (a folder from \`compactlm finetune\`)`);
  }
  const labels = classifierLabels(teacher.config);
  const root = new Rng(o.seed);
  const [initSeed, sourceSeed, holdOutSeed] = [root.nextUint32(), root.nextUint32(), root.nextUint32()];
  const data = await loadLabeledData({ ...o, model: o.teacher }, holdOutSeed, labels);

  // The student: its size, then where its weights start.
  const base = o.studentInit !== undefined && o.studentPreset === undefined && o.studentConfig === undefined
    ? (await loadModelFolder(o.studentInit)).config
    : await studentConfig(o, teacher.config);
  let config = classifierConfig({ ...base, torch_dtype: 'float32' }, labels);
  let init: Map<string, Float32Array>;
  let studentInit: string;
  if (o.studentInit !== undefined) {
    const start = await initClassifier(o.studentInit, labels, new Rng(initSeed));
    if (start.config.hidden_size !== config.hidden_size || start.config.num_hidden_layers !== config.num_hidden_layers) {
      throw new UserError(`--student-init ${o.studentInit}: its size differs from the student's (drop --student-preset/--student-config to take its size)`);
    }
    ({ config, params: init } = start);
    studentInit = o.studentInit;
  } else if (o.initFromTeacher) {
    init = initFromTeacher(config, teacher.config, teacher.params);
    studentInit = 'teacher layers';
  } else {
    init = initTable(modelTable(config), config, new Rng(initSeed));
    studentInit = 'random';
  }
  config = withDropout(config, o.dropout);
  const tokenizer = await folderTokenizer(o.teacher, teacher.config);
  const run = encodeRun(config, data, tokenizer, { ...o, model: o.teacher });
  const C = labels.length;
  const teacherGraph = compileStep({ kind: 'logits', config: teacher.config, head: classifierHead(C), weights: teacher.params, shape: { batchSize: o.batchSize, seqLen: run.seqLen, maxPredictions: 1 } });
  const teacherSession = await createSession(teacherGraph.bytes, session);
  teacher.params.clear();
  log().info({ teacher: o.teacher, teacherParams: countOf(teacher.config), studentParams: countOf(config), studentInit },
    `distill --task classify: teacher ${o.teacher} (${countOf(teacher.config).toLocaleString('en')} parameters) → student of ${countOf(config).toLocaleString('en')} (${studentInit}); T=${temperature}, α=${alpha}`);
  let summary: FinetuneSummary;
  try {
    summary = await trainClassifier({ ...o, model: o.teacher }, run, {
      label: 'distill',
      init: () => init,
      sourceSeed,
      loss: classifierDistillationLoss({ temperature, alpha }),
      wrapSource: (inner) => new TeacherLogitsSource(inner, teacherSession),
      fingerprint: { teacher: o.teacher, temperature, alpha, studentInit },
    });
  } finally {
    await teacherSession.release();
  }

  // Both models on the same validation texts, through the same inference code.
  const score = async (dir: string) => {
    const clf = await Classifier.load(dir, { ...session, maxLength: o.maxLength });
    try {
      const preds = (await clf.predict(data.val.texts, data.val.pairs)).map((p) => argmax(p));
      return { accuracy: accuracy(data.valIds, preds), macro_f1: macroF1(data.valIds, preds, C) };
    } finally {
      await clf.close();
    }
  };
  const [t, s] = [await score(o.teacher), await score(o.out)];
  const ratio = (a: number, b: number) => (b > 0 ? a / b : null);
  const report: ClassifierDistillReport = {
    task: 'classify',
    teacher_params: countOf(teacher.config),
    student_params: countOf(config),
    param_ratio: countOf(config) / countOf(teacher.config),
    teacher: t,
    student: s,
    retained_accuracy: ratio(s.accuracy, t.accuracy),
    retained_macro_f1: ratio(s.macro_f1, t.macro_f1),
    val_examples: data.val.texts.length,
    temperature, alpha, student_init: studentInit, steps: summary.steps,
  };
  await writeFileAtomic(join(o.out, REPORT_FILE), JSON.stringify(report, null, 2) + '\n');
  const pct = (x: number | null) => (x === null ? 'n/a' : `${(100 * x).toFixed(1)}%`);
  log().info(report, `distill: student ${pct(report.param_ratio)} of the teacher's parameters; accuracy ${pct(s.accuracy)} vs ${pct(t.accuracy)} (retains ${pct(report.retained_accuracy)}), macro-F1 ${s.macro_f1.toFixed(3)} vs ${t.macro_f1.toFixed(3)}`);
  return { ...summary, report };
}

/** Adds the teacher's logits on each micro-batch (`teacher_logits` [B, C]) to the classifier batches. */
class TeacherLogitsSource implements BatchSource {
  readonly tokensPerMicroBatch: number;
  constructor(private readonly inner: ClassifyBatchSource, private readonly teacher: ort.InferenceSession) {
    this.tokensPerMicroBatch = inner.tokensPerMicroBatch;
  }

  async next(k: number): Promise<WireFeeds[]> {
    const feeds = this.inner.next(k);
    for (const f of feeds) {
      const run: Record<string, ort.Tensor> = {};
      for (const name of ['input_ids', 'attention_mask', 'token_type_ids']) run[name] = new ort.Tensor('int64', f[name].data as BigInt64Array, f[name].dims);
      const logits = (await this.teacher.run(run)).logits;
      f.teacher_logits = f32(new Float32Array(logits.data as Float32Array), [...logits.dims]);
    }
    return feeds;
  }

  state(): unknown {
    return this.inner.state();
  }
}
