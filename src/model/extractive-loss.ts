/**
 * The extractive-summarization loss for the step compiler (BertSumExt's): binary cross-entropy of each sentence's
 * sigmoid score against its greedy-oracle label, averaged over the real sentences of the batch. On the head's
 * logits z [B·S] (heads/extractive.ts) with inputs `sentence_labels` [B·S] (1 = in the oracle summary, 0 = not) and
 * `sentence_mask` [B·S] (1 = a real sentence, 0 = an unused slot), both in the logits' dtype:
 *
 *   ℓᵢ = −yᵢ·log σ(zᵢ) − (1 − yᵢ)·log(1 − σ(zᵢ)) = max(zᵢ, 0) − yᵢ·zᵢ + log(1 + e^(−|zᵢ|))   (stable for any z)
 *   loss = Σ mᵢ·ℓᵢ / max(n, 1),  n = Σ mᵢ          ∂loss/∂zᵢ = mᵢ·(σ(zᵢ) − yᵢ) / max(n, 1)
 *
 * (PyTorch's BCEWithLogitsLoss with the padding masked out.) Reports ext_count = n and accuracy = ext_correct / n,
 * a sentence counting as correct when σ(z) > 0.5 agrees with its label.
 */
import type { Graph, Value } from '../onnx/graph.js';
import type { Loss, LossTerms } from './step-compiler.js';

/** The loss terms on logits [N] with labels and mask [N] (exported for the gradient check). */
export function sentenceBce(g: Graph, logits: Value, labels: Value, mask: Value): LossTerms {
  const relu = g.relu(logits);
  const abs = g.max(logits, g.neg(logits));
  const row = g.add(g.sub(relu, g.mul(labels, logits)), g.log(g.add(g.exp(g.neg(abs)), 1))); // ℓᵢ
  const count = g.reduceSum(mask, undefined, false);
  const inv = g.div(1, g.max(count, 1));
  const lossSum = g.reduceSum(g.mul(row, mask), undefined, false);
  const dLogits = g.mul(g.mul(g.sub(g.sigmoid(logits), labels), mask), inv);
  const predicted = g.cast(g.greater(logits, 0), logits.dtype);
  const agree = g.add(g.mul(predicted, labels), g.mul(g.sub(1, predicted), g.sub(1, labels)));
  const correct = g.reduceSum(g.mul(agree, mask), undefined, false);
  return { loss: g.mul(lossSum, inv), lossSum, count, sums: { ext_correct: correct }, dLogits };
}

export function extractiveLoss(): Loss {
  return {
    name: 'bce',
    countName: 'ext_count',
    ratios: { accuracy: 'ext_correct' },
    perplexity: false,
    build(g, logits, shape) {
      const n = shape.batchSize * shape.maxPredictions;
      const labels = g.input('sentence_labels', logits.dtype, [n]);
      const mask = g.input('sentence_mask', logits.dtype, [n]);
      return sentenceBce(g, logits, labels, mask);
    },
  };
}
