/**
 * Knowledge-distillation loss for masked-LM students (DistilBERT, Sanh et al. 2019; Hinton et al. 2015), as graph
 * ops on the student's logits s [N, V] at the gathered masked positions, the teacher's logits t [N, V] at the same
 * positions (fed, no gradient) and int64 labels [N] (−100 = unused slot, ignored everywhere):
 *
 *   loss = α · T² · KL(softmax(t/T) ‖ softmax(s/T)) + (1 − α) · CE(s, labels)
 *   KLᵢ  = Σ_v pᵢᵥ (log pᵢᵥ − log qᵢᵥ),   p = softmax(t/T), q = softmax(s/T)
 *
 * Both terms are means over the n scored rows. For the KL term that is PyTorch's `KLDivLoss(reduction=
 * 'batchmean')` on the [n, V] rows of the masked positions — what DistilBERT's distiller.py does (`restrict_ce_to_
 * mask`, `ce_loss_fct = nn.KLDivLoss(reduction="batchmean")`, times T²) and what the seed's
 * `0.5 * (distillation_loss + student_loss)` is at α = 0.5. (`reduction='mean'` would divide by n·V as well,
 * shrinking the term by the vocabulary size; batchmean is the true KL per token.)
 *
 * T² keeps the soft-target gradient's size independent of T (Hinton 2015 §2): ∂(T²·KLᵢ)/∂sᵢ = T·(qᵢ − pᵢ), which
 * for large T tends to (sᵢ − tᵢ − mean(sᵢ − tᵢ))/V, matching logits.
 *
 * Gradient in closed form, as losses.ts does for CE (three passes over [N, V] instead of autodiff's graph):
 *   ∂loss/∂sᵢ = (α·T·(qᵢ − pᵢ) + (1 − α)·(softmax(sᵢ) − onehot(yᵢ))) / n  on scored rows, 0 on the others.
 * `lossSum` = Σ over scored rows of the per-row loss, so loss = lossSum / n and gradient accumulation over
 * micro-batches works as for CE (step-compiler.ts, kinds grad and apply). `correct`/`count` are the student's masked-token accuracy counts.
 */
import type { Graph, Value } from '../onnx/graph.js';
import { MASKED_SLOTS } from './heads/mlm.js';
import { mlmLoss, type MlmLoss } from './losses.js';
import type { Loss } from './step-compiler.js';

export interface DistillLossOptions {
  /** Softmax temperature T > 0 (default 2, DistilBERT's). */
  temperature?: number;
  /** Weight α ∈ [0, 1] of the distillation term; 1 − α weighs the masked-LM cross-entropy (default 0.5). */
  alpha?: number;
  ignoreIndex?: number;
}

export const DISTILL_DEFAULTS = { temperature: 2, alpha: 0.5 } as const;

export interface DistillLoss extends MlmLoss {
  /** Scalars: the two terms as means over scored rows — T²·KL (batchmean) and CE. */
  kd: Value;
  ce: Value;
}

export function checkDistillOptions(o: DistillLossOptions): { temperature: number; alpha: number } {
  const temperature = o.temperature ?? DISTILL_DEFAULTS.temperature;
  const alpha = o.alpha ?? DISTILL_DEFAULTS.alpha;
  if (!(temperature > 0 && Number.isFinite(temperature))) throw new Error(`distillation temperature must be > 0, got ${temperature}`);
  if (!(alpha >= 0 && alpha <= 1)) throw new Error(`distillation alpha must be in [0, 1], got ${alpha}`);
  return { temperature, alpha };
}

export function distillLoss(g: Graph, logits: Value, teacherLogits: Value, labels: Value, o: DistillLossOptions = {}): DistillLoss {
  const { temperature: T, alpha } = checkDistillOptions(o);
  if (teacherLogits.rank !== 2 || teacherLogits.shape[0] !== logits.shape[0] || teacherLogits.shape[1] !== logits.shape[1]) {
    throw new Error(`distillLoss: teacher logits [${teacherLogits.shape}] do not match student logits [${logits.shape}]`);
  }
  const dt = logits.dtype;
  const ce = mlmLoss(g, logits, labels, { kind: 'ce', ignoreIndex: o.ignoreIndex });
  const scored = g.cast(g.not(g.equal(labels, o.ignoreIndex ?? -100)), dt); // [N] 1/0
  const inv = g.div(1, g.max(ce.count, 1));

  const logq = g.logSoftmax(g.mul(logits, 1 / T), -1); // log softmax(s/T)
  const logp = g.logSoftmax(g.mul(g.cast(teacherLogits, dt), 1 / T), -1); // log softmax(t/T): finite even where p underflows
  const p = g.exp(logp);
  const klRow = g.reduceSum(g.mul(p, g.sub(logp, logq)), [1], false); // [N]
  const kdSum = g.mul(g.reduceSum(g.mul(klRow, scored), undefined, false), T * T);
  const kd = g.mul(kdSum, inv);

  const mix = (a: Value, b: Value) => (alpha === 0 ? b : alpha === 1 ? a : g.add(g.mul(a, alpha), g.mul(b, 1 - alpha)));
  const lossSum = mix(kdSum, ce.lossSum);
  const loss = g.mul(lossSum, inv);
  // α·T·(q − p)/n on scored rows (α folded into the per-row weight), plus (1 − α) times CE's gradient.
  const dKd = g.mul(g.sub(g.exp(logq), p), g.unsqueeze(g.mul(g.mul(scored, inv), alpha * T), [1]));
  const dLogits = alpha === 0 ? ce.dLogits : alpha === 1 ? dKd : g.add(dKd, g.mul(ce.dLogits, 1 - alpha));
  return { loss, lossSum, count: ce.count, correct: ce.correct, dLogits, kd, ce: ce.loss };
}

/** A distillation Loss for the step compiler: `inputs` declares the labels and teacher logits it reads. */
function stepLoss(o: DistillLossOptions, m: Pick<Loss, 'countName' | 'ratios' | 'perplexity'> & {
  correct: string;
  inputs: (...a: Parameters<Loss['build']>) => { labels: Value; teacher: Value };
}): Loss {
  const opts = checkDistillOptions(o);
  return {
    name: `distill(T=${opts.temperature}, alpha=${opts.alpha})`,
    countName: m.countName,
    ratios: m.ratios,
    perplexity: m.perplexity,
    build(g, logits, shape, config) {
      const { labels, teacher } = m.inputs(g, logits, shape, config);
      const l = distillLoss(g, logits, teacher, labels, opts);
      return { loss: l.loss, lossSum: l.lossSum, count: l.count, sums: { [m.correct]: l.correct }, dLogits: l.dLogits };
    },
  };
}

/**
 * The distillation loss for the step compiler: inputs `masked_labels` int64 [num_masked] and `teacher_logits` float32
 * [num_masked, V] (the teacher's logits at the same gathered positions, fed by the batch source); metrics as the MLM loss.
 */
export function distillationLoss(o: DistillLossOptions = {}): Loss {
  return stepLoss(o, {
    countName: 'mlm_count', ratios: { mlm_acc: 'mlm_correct' }, perplexity: true, correct: 'mlm_correct',
    inputs: (g, _logits, shape, config) => {
      const n = shape.batchSize * shape.maxPredictions;
      return {
        labels: g.input('masked_labels', 'int64', [n], { dims: [MASKED_SLOTS] }),
        teacher: g.input('teacher_logits', 'float32', [n, config.vocab_size], { dims: [MASKED_SLOTS, config.vocab_size] }),
      };
    },
  });
}

/**
 * Task distillation of a classifier: the same loss on the student's class logits [B, C] with the fine-tuned
 * teacher's `teacher_logits` float32 [B, C] and `labels` int64 [B] (−100 = a padding row); metrics as the
 * classification loss (cls_count, accuracy).
 */
export function classifierDistillationLoss(o: DistillLossOptions = {}): Loss {
  return stepLoss(o, {
    countName: 'cls_count', ratios: { accuracy: 'cls_correct' }, perplexity: false, correct: 'cls_correct',
    inputs: (g, logits, shape) => {
      g.input('example_weight', 'float32', [shape.batchSize]); // fed by the classifier batches; distillation weighs rows equally
      return { labels: g.input('labels', 'int64', [shape.batchSize]), teacher: g.input('teacher_logits', 'float32', [shape.batchSize, logits.shape[1]]) };
    },
  });
}
