/**
 * distill_report.json: how much of the teacher the student kept, measured on the SAME fixed-masked validation
 * batches for both (mlm-batches.ts fixedEvalFeeds), with the same code for both:
 *
 *   { teacher_params, student_params, param_ratio,          param_ratio = student_params / teacher_params
 *     teacher: { val_loss, val_ppl, val_mlm_acc },          val_loss: mean cross-entropy over the scored masked
 *     student: { val_loss, val_ppl, val_mlm_acc },            tokens (nats), val_ppl = exp(val_loss),
 *     retained_accuracy,                                      val_mlm_acc: share whose label has the top logit
 *     val_tokens, temperature, alpha, init_from_teacher, steps, teacher_source, teacher_format }
 *
 * retained_accuracy = student val_mlm_acc / teacher val_mlm_acc (DistilBERT's "retains 97% of BERT's performance"
 * measure, here on masked-token accuracy); null when the teacher scores 0.
 * Metrics are computed here in float64 from the float32 logits at the masked positions (a label tied with the
 * top logit counts as correct, as in losses.ts).
 */
import type { WireFeeds } from '../runtime/wire.js';
import type { MaskedLogits } from './teacher.js';

export interface MlmMetrics {
  val_loss: number;
  val_ppl: number;
  val_mlm_acc: number;
  /** Scored masked tokens. */
  tokens: number;
}

/** Σ cross-entropy and correct predictions over scored rows of logits [N, V] (labels −100 are skipped). */
export class MlmMeter {
  private lossSum = 0;
  private correct = 0;
  private count = 0;

  constructor(readonly vocabSize: number) {}

  add(logits: Float32Array, labels: ArrayLike<bigint | number>): void {
    const V = this.vocabSize;
    if (logits.length !== labels.length * V) throw new Error(`MlmMeter: ${logits.length} logits for ${labels.length} labels of ${V} classes`);
    for (let i = 0; i < labels.length; i++) {
      const y = Number(labels[i]);
      if (y === -100) continue;
      const row = logits.subarray(i * V, (i + 1) * V);
      let max = -Infinity;
      for (let v = 0; v < V; v++) if (row[v] > max) max = row[v];
      let sum = 0;
      for (let v = 0; v < V; v++) sum += Math.exp(row[v] - max);
      this.lossSum += max + Math.log(sum) - row[y];
      if (row[y] >= max) this.correct++;
      this.count++;
    }
  }

  result(): MlmMetrics {
    const loss = this.lossSum / Math.max(this.count, 1);
    return { val_loss: loss, val_ppl: Math.exp(loss), val_mlm_acc: this.correct / Math.max(this.count, 1), tokens: this.count };
  }
}

/** A model's masked-LM metrics over fixed validation feeds. */
export async function evaluateMaskedLm(model: MaskedLogits, feeds: readonly WireFeeds[], vocabSize: number): Promise<MlmMetrics> {
  const meter = new MlmMeter(vocabSize);
  for (const f of feeds) meter.add(await model.run(f), f.masked_labels.data as BigInt64Array);
  return meter.result();
}

export interface DistillReport {
  teacher_params: number;
  student_params: number;
  param_ratio: number;
  teacher: Omit<MlmMetrics, 'tokens'>;
  student: Omit<MlmMetrics, 'tokens'>;
  retained_accuracy: number | null;
  val_tokens: number;
  temperature: number;
  alpha: number;
  init_from_teacher: boolean;
  steps: number;
  teacher_source: string;
  teacher_format: 'safetensors' | 'onnx';
}

export function distillReport(o: {
  teacherParams: number;
  studentParams: number;
  teacher: MlmMetrics;
  student: MlmMetrics;
  temperature: number;
  alpha: number;
  initFromTeacher: boolean;
  steps: number;
  teacherSource: string;
  teacherFormat: 'safetensors' | 'onnx';
}): DistillReport {
  const strip = ({ tokens: _, ...m }: MlmMetrics) => m;
  return {
    teacher_params: o.teacherParams,
    student_params: o.studentParams,
    param_ratio: o.studentParams / o.teacherParams,
    teacher: strip(o.teacher),
    student: strip(o.student),
    retained_accuracy: o.teacher.val_mlm_acc > 0 ? o.student.val_mlm_acc / o.teacher.val_mlm_acc : null,
    val_tokens: o.student.tokens,
    temperature: o.temperature,
    alpha: o.alpha,
    init_from_teacher: o.initFromTeacher,
    steps: o.steps,
    teacher_source: o.teacherSource,
    teacher_format: o.teacherFormat,
  };
}
