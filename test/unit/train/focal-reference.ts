/**
 * Reference (float64, plain loops) cross-entropy and focal loss with their gradients, to test the ONNX loss graphs
 * against. Not used for training itself.
 *
 * Focal loss (Lin et al. 2017, "Focal Loss for Dense Object Detection"), per scored token i:
 *   CE_i = −log softmax(z_i)[y_i],  pt_i = exp(−CE_i),  FL_i = α·(1 − pt_i)^γ · CE_i        (α = 1, γ = 2)
 *   loss = mean of FL_i over tokens whose label is not ignoreIndex (−100), i.e. over the masked positions.
 * Reading of the seed's FocalLoss: its source is not available here; the common PyTorch form computes
 * `F.cross_entropy(..., reduction='none')` and then the factor per token, which is what this implements. (Applying
 * the factor to the batch-mean CE instead would make it one scalar weight for the whole batch — no longer a
 * per-example down-weighting of easy tokens.) Ignored tokens are left out of the mean, not counted as zeros.
 *
 * Gradient w.r.t. the logits of token i, with p = pt_i, s = softmax(z_i), e_y the one-hot label:
 *   dFL_i/dz_i = α·[(1 − p)^γ − γ·(1 − p)^(γ−1)·p·log p] · (s − e_y)      (γ = 0 gives α·(s − e_y), CE's)
 */

export interface FocalOptions {
  alpha?: number;
  gamma?: number;
  ignoreIndex?: number;
}

export interface LossResult {
  /** Mean over scored tokens (0 when none is scored). */
  loss: number;
  /** Scored tokens. */
  count: number;
  /** d loss / d logits, [N, C], zero rows for ignored tokens. */
  grad: Float64Array;
}

/** Focal loss of logits [N, C] (row-major) against labels [N]. */
export function focalLoss(logits: ArrayLike<number>, labels: ArrayLike<number | bigint>, numClasses: number, opts: FocalOptions = {}): LossResult {
  const alpha = opts.alpha ?? 1;
  const gamma = opts.gamma ?? 2;
  const ignore = opts.ignoreIndex ?? -100;
  const C = numClasses;
  const N = labels.length;
  if (logits.length !== N * C) throw new RangeError(`focalLoss: ${logits.length} logits for ${N} labels of ${C} classes`);
  const grad = new Float64Array(N * C);
  const s = new Float64Array(C);
  let sum = 0;
  let count = 0;
  for (let i = 0; i < N; i++) {
    const y = Number(labels[i]);
    if (y === ignore) continue;
    if (!(y >= 0 && y < C && Number.isInteger(y))) throw new RangeError(`focalLoss: label ${y} at row ${i} is not in [0, ${C})`);
    let max = -Infinity;
    for (let c = 0; c < C; c++) max = Math.max(max, logits[i * C + c]);
    let z = 0;
    for (let c = 0; c < C; c++) z += s[c] = Math.exp(logits[i * C + c] - max);
    for (let c = 0; c < C; c++) s[c] /= z;
    const logp = logits[i * C + y] - max - Math.log(z);
    const ce = -logp;
    const p = Math.exp(logp);
    const q = -Math.expm1(logp); // 1 − p without cancellation
    sum += alpha * q ** gamma * ce;
    count++;
    // (1−p)^(γ−1)·log p → 0 as p → 1 for any γ > 0; guard the 0·∞ at q = 0.
    const factor = alpha * (q ** gamma - (gamma === 0 || q === 0 ? 0 : gamma * q ** (gamma - 1) * p * logp));
    for (let c = 0; c < C; c++) grad[i * C + c] = factor * (s[c] - (c === y ? 1 : 0));
  }
  if (count > 0) for (let k = 0; k < grad.length; k++) grad[k] /= count;
  return { loss: count > 0 ? sum / count : 0, count, grad };
}

/** Mean softmax cross-entropy over non-ignored labels (focal with α = 1, γ = 0). */
export function crossEntropyLoss(logits: ArrayLike<number>, labels: ArrayLike<number | bigint>, numClasses: number, ignoreIndex = -100): LossResult {
  return focalLoss(logits, labels, numClasses, { alpha: 1, gamma: 0, ignoreIndex });
}
