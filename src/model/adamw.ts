/**
 * AdamW (Loshchilov & Hutter, decoupled weight decay) with global-norm gradient clipping, as graph ops, matching
 * torch.optim.AdamW and torch.nn.utils.clip_grad_norm_ (what the HF Trainer runs):
 *
 *   norm = √(Σ‖g‖²);  s = min(1, maxNorm / (norm + 1e-6));  g ← s·g
 *   m ← β1·m + (1 − β1)·g;   v ← β2·v + (1 − β2)·g²
 *   p ← p·(1 − lr·wd) − lr/(1 − β1ᵗ) · m / (√v / √(1 − β2ᵗ) + ε)          (wd only where `decay`)
 *
 * The scalars are folded (s into the moment coefficients, the bias corrections into one step size and ε), so each
 * tensor costs 13 elementwise ops (12 without decay) — ONNX Runtime's CPU build has no fused optimizer kernel.
 * A per-tensor update beats one Concat'ed flat update of the small tensors (the copies cost more than the small
 * nodes save; bench/train-step.mjs --profile shows the split).
 * `lr` and `step` (t ≥ 1, float) are graph inputs so schedules and resumed runs need no new graph.
 */
import type { Graph, Value } from '../onnx/graph.js';

export interface AdamWOptions {
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** Clip the global gradient norm to this; 0 or Infinity = no clipping. */
  maxGradNorm: number;
}

/** HF TrainingArguments defaults, except weight decay 0.01 (BERT pretraining's). */
export const ADAMW_DEFAULTS: AdamWOptions = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, maxGradNorm: 1 };

export interface AdamWSlot {
  param: Value;
  grad: Value;
  m: Value;
  v: Value;
  /** Weight decay applies (not to biases or LayerNorm weights). */
  decay: boolean;
}

export interface AdamWResult {
  /** Global gradient norm before clipping (scalar). */
  gradNorm: Value;
  updated: Array<{ param: Value; m: Value; v: Value }>;
}

/** Global L2 norm of a list of tensors. */
export function globalNorm(g: Graph, xs: readonly Value[]): Value {
  const squares = xs.map((x) => g.op('ReduceSumSquare', [x], { keepdims: 0 }, [{ dtype: x.dtype, shape: [] }])[0]);
  return g.sqrt(g.sum(squares));
}

export function adamw(g: Graph, slots: readonly AdamWSlot[], lr: Value, step: Value, o: AdamWOptions = ADAMW_DEFAULTS): AdamWResult {
  const { beta1, beta2, eps, weightDecay, maxGradNorm } = o;
  const gradNorm = globalNorm(g, slots.map((s) => s.grad));
  const clips = maxGradNorm > 0 && Number.isFinite(maxGradNorm);
  const s = clips ? g.min(g.div(maxGradNorm, g.add(gradNorm, 1e-6)), 1) : null; // torch's clip_coef_clamped
  const c1 = s ? g.mul(s, 1 - beta1) : g.scalar(1 - beta1, lr.dtype); // (1 − β1)·s
  const c2 = s ? g.mul(g.mul(s, s), 1 - beta2) : g.scalar(1 - beta2, lr.dtype); // (1 − β2)·s²
  const bc1 = g.sub(1, g.pow(g.scalar(beta1, lr.dtype), step));
  const sqrtBc2 = g.sqrt(g.sub(1, g.pow(g.scalar(beta2, lr.dtype), step)));
  const stepSize = g.div(g.mul(lr, sqrtBc2), bc1); // lr·√bc2/bc1
  const epsHat = g.mul(sqrtBc2, eps); // ε·√bc2
  const shrink = g.sub(1, g.mul(lr, weightDecay)); // 1 − lr·wd

  const updated = slots.map(({ param, grad, m, v, decay }) => {
    const m1 = g.add(g.mul(m, beta1), g.mul(grad, c1));
    const v1 = g.add(g.mul(v, beta2), g.mul(g.mul(grad, grad), c2));
    const update = g.mul(g.div(m1, g.add(g.sqrt(v1), epsHat)), stepSize);
    const p1 = g.sub(decay && weightDecay !== 0 ? g.mul(param, shrink) : param, update);
    return { param: p1, m: m1, v: v1 };
  });
  return { gradNorm, updated };
}
