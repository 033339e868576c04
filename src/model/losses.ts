/**
 * Softmax losses and accuracy counts as graph ops, on logits [N, V] and int64 labels [N] (−100 = a row to ignore
 * everywhere), with their gradient w.r.t. the logits in closed form: the masked-LM loss (rows = the gathered masked
 * positions, V = the vocabulary) and, through `weights`, the classification loss (classification-loss.ts).
 *
 * - 'ce': mean softmax cross-entropy over the scored rows (HF BertForMaskedLM's loss).
 * - 'focal': focal loss (Lin et al. 2017) per scored token, α·(1 − pₜ)^γ·CEᵢ with pₜ = exp(−CEᵢ), averaged over the
 *   scored tokens — the reading of the seed's FocalLoss documented in test/unit/train/focal-reference.ts (α 1, γ 2).
 *
 * Why a closed-form gradient instead of autodiff: both losses are (per row) a function of CEᵢ only, so
 * ∂loss/∂zᵢ = wᵢ·(softmax(zᵢ) − onehot(yᵢ)) with one scalar wᵢ per row (CE: 1/n; focal:
 * α·[(1−pₜ)^γ + γ(1−pₜ)^(γ−1)·pₜ·CEᵢ]/n), which costs three passes over the [N, V] logits. ONNX Runtime has no
 * SoftmaxCrossEntropyLoss kernel outside its training build: it expands the function body, whose LogSoftmax runs
 * on axis 1 of [N, V, 1] (transposes); here LogSoftmax runs on the last axis.
 * Feed `dLogits` as the seed of the backward pass: `bert.gradients(logits, loss.dLogits)`.
 */
import type { Graph, Value } from '../onnx/graph.js';
import { MASKED_SLOTS } from './heads/mlm.js';
import type { Loss } from './step-compiler.js';

/** Label value that the loss ignores (PyTorch's and ONNX's `ignore_index`): an unused masked-LM slot. */
export const IGNORE_INDEX = -100;

export type MlmLossKind = 'ce' | 'focal';

export interface MlmLossOptions {
  kind?: MlmLossKind;
  /** Focal loss α and γ ≥ 0 (defaults 1 and 2). */
  alpha?: number;
  gamma?: number;
  ignoreIndex?: number;
  /** Per-row loss weights [N] (sample or class weights): lossSum = Σ wᵢ·lossᵢ; count and accuracy stay unweighted. */
  weights?: Value;
}

export interface MlmLoss {
  /** Scalar: lossSum / max(count, 1). */
  loss: Value;
  /** Scalar: sum over scored rows of the per-token loss. */
  lossSum: Value;
  /** Scalars (float): scored rows, and scored rows whose label has the highest logit (ties count as correct). */
  count: Value;
  correct: Value;
  /** ∂loss/∂logits [N, V], zero on ignored rows. */
  dLogits: Value;
}

export function mlmLoss(g: Graph, logits: Value, labels: Value, o: MlmLossOptions = {}): MlmLoss {
  const ignore = o.ignoreIndex ?? IGNORE_INDEX;
  const dt = logits.dtype;
  const scored = g.not(g.equal(labels, ignore)); // [N] bool
  const safe = g.unsqueeze(g.where(scored, labels, g.scalar(0, 'int64')), [1]); // [N, 1], ignored rows → class 0
  const logp = g.logSoftmax(logits, -1); // [N, V]
  const picked = g.reshape(g.op('GatherElements', [logp, safe], { axis: 1 }, [{ dtype: dt, shape: safe.shape }])[0], [-1]); // log pᵧ [N]
  const ce = g.where(scored, g.neg(picked), g.scalar(0, dt)); // CEᵢ, 0 on ignored rows
  const count = g.reduceSum(g.cast(scored, dt), undefined, false);
  const inv = g.div(1, g.max(count, 1)); // 1/n

  let rowLoss = ce;
  let dRow: Value = g.cast(scored, dt); // ∂(per-row loss)/∂CEᵢ, 0 on ignored rows
  if ((o.kind ?? 'ce') === 'focal') {
    const alpha = o.alpha ?? 1;
    const gamma = o.gamma ?? 2;
    if (!(gamma >= 0)) throw new Error(`focal loss: gamma must be ≥ 0, got ${gamma}`);
    const pt = g.exp(g.neg(ce));
    const q = g.sub(1, pt); // 1 − pₜ
    rowLoss = g.mul(g.mul(g.pow(q, gamma), ce), alpha);
    // d/dCE [α·q^γ·CE] = α·(q^γ + γ·q^(γ−1)·pₜ·CE), since dq/dCE = pₜ. The second term is 0 at q = 0 (CE = 0).
    let d = g.pow(q, gamma);
    if (gamma > 0) {
      let t = g.mul(g.mul(g.pow(q, gamma - 1), pt), g.mul(ce, gamma));
      if (gamma < 1) t = g.where(g.greater(q, 0), t, g.scalar(0, dt));
      d = g.add(d, t);
    }
    dRow = g.mul(g.mul(d, dRow), alpha);
  }
  if (o.weights) {
    rowLoss = g.mul(rowLoss, o.weights);
    dRow = g.mul(dRow, o.weights);
  }
  const lossSum = g.reduceSum(rowLoss, undefined, false);
  const loss = g.mul(lossSum, inv);

  // ∂loss/∂z = w·(softmax − onehot): exp(log p)·w, then −w scattered onto each row's label.
  const w = g.unsqueeze(g.mul(dRow, inv), [1]); // [N, 1]
  const scaled = g.mul(g.exp(logp), w);
  const dLogits = g.op('ScatterElements', [scaled, safe, g.neg(w)], { axis: 1, reduction: 'add' }, [{ dtype: dt, shape: logits.shape }])[0];

  const best = g.reshape(g.reduceMax(logp, [1]), [-1]); // [N]
  const correct = g.reduceSum(g.cast(g.and(scored, g.not(g.less(picked, best))), dt), undefined, false);
  return { loss, lossSum, count, correct, dLogits };
}

/**
 * The masked-LM loss for the step compiler: labels `masked_labels` int64 [num_masked] (≤ B·M rows; −100 = unused slot) at the head's
 * gathered positions; reports mlm_count and mlm_acc = mlm_correct / mlm_count.
 */
export function maskedLmLoss(o: Omit<MlmLossOptions, 'ignoreIndex'> = {}): Loss {
  return {
    name: o.kind ?? 'ce',
    countName: 'mlm_count',
    ratios: { mlm_acc: 'mlm_correct' },
    perplexity: true,
    build(g, logits, shape) {
      const labels = g.input('masked_labels', 'int64', [shape.batchSize * shape.maxPredictions], { dims: [MASKED_SLOTS] });
      const l = mlmLoss(g, logits, labels, o);
      return { loss: l.loss, lossSum: l.lossSum, count: l.count, sums: { mlm_correct: l.correct }, dLogits: l.dLogits };
    },
  };
}
