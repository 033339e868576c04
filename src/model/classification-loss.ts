/**
 * The classification loss for the step compiler: softmax cross-entropy (or focal) over a classifier's logits
 * [B, C], with labels `labels` int64 [B] (−100 = a padding row of the last, short batch) and per-example weights
 * `example_weight` float [B] (sample weights such as Kamiran–Calders reweighing, times class weights; 1 when
 * unweighted): loss = Σ wᵢ·CEᵢ / n over the n real rows, the weighted mean HF Trainer users write for sample
 * weights. Reports cls_count and accuracy = cls_correct / cls_count (unweighted).
 */
import { mlmLoss, type MlmLossKind } from './losses.js';
import type { Loss } from './step-compiler.js';

export interface ClassificationLossOptions {
  kind?: MlmLossKind;
  /** Focal loss α and γ (defaults 1 and 2). */
  alpha?: number;
  gamma?: number;
}

export function classificationLoss(o: ClassificationLossOptions = {}): Loss {
  return {
    name: o.kind ?? 'ce',
    countName: 'cls_count',
    ratios: { accuracy: 'cls_correct' },
    perplexity: false,
    build(g, logits, shape) {
      const labels = g.input('labels', 'int64', [shape.batchSize]);
      const weights = g.input('example_weight', 'float32', [shape.batchSize]);
      const l = mlmLoss(g, logits, labels, { ...o, weights });
      return { loss: l.loss, lossSum: l.lossSum, count: l.count, sums: { cls_correct: l.correct }, dLogits: l.dLogits };
    },
  };
}
