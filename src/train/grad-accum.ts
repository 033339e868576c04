/**
 * Gradient accumulation (`--grad-accum k`): two graphs that together make one train step over k micro-batches,
 * equal to train_step.onnx on the k·B-row batch up to float summation order.
 *
 * (The same pair also trains a distillation student, with `distill`: the loss of model/distill-loss.ts.)
 *
 *   grad_step.onnx   forward + loss + backward on one micro-batch of B rows, NO update:
 *     inputs   <name> (params), input_ids, attention_mask, token_type_ids, masked_positions, masked_labels,
 *              dropout.* keep-masks — exactly train_step's batch feeds
 *     outputs  loss_sum, mlm_count, mlm_correct (float32 []), grad.<name> = ∂ loss_sum / ∂ <name>
 *   apply_step.onnx  clipping + AdamW from accumulated gradients:
 *     inputs   <name>, adam_m.<name>, adam_v.<name>, lr, step (as train_step),
 *              grad.<name>  Σ over micro-batches of grad_step's grad.<name>,  count  Σ of their mlm_count
 *     outputs  grad_norm, new.<name>, new.adam_m.<name>, new.adam_v.<name>
 *
 * Why sums: train_step's loss is the mean over the batch's scored slots, Σ loss_sum / Σ count. Micro-batches score
 * different numbers of slots, so averaging k per-micro-batch means would weight slots unequally; summing the
 * gradients of loss_sum and dividing once by the total count is the big batch's gradient exactly.
 */
import { Graph } from '../onnx/graph.js';
import { ADAMW_DEFAULTS, adamw, type AdamWOptions } from '../model/adamw.js';
import { BertForMaskedLM, type DropoutSite } from '../model/bert.js';
import type { BertConfig } from '../model/config.js';
import { distillLoss } from '../model/distill-loss.js';
import { mlmLoss, type MlmLossKind } from '../model/losses.js';
import { paramTable } from '../model/params.js';
import type { StepShape } from '../model/artifacts.js';

export interface GradStepSpec {
  kind: 'grad_step';
  bytes: Uint8Array;
  paramNames: string[];
  dropoutInputs: DropoutSite[];
  shape: StepShape;
}

export interface ApplyStepSpec {
  kind: 'apply_step';
  bytes: Uint8Array;
  paramNames: string[];
  optimizer: AdamWOptions;
}

export interface GradStepOptions extends StepShape {
  loss?: MlmLossKind;
  dropout?: boolean;
  /**
   * Distillation (model/distill-loss.ts): adds the input `teacher_logits` float32 [B·M, V] and minimizes
   * α·T²·KL(teacher ‖ student) + (1 − α)·CE instead of `loss`.
   */
  distill?: { temperature: number; alpha: number };
}

export function buildGradStep(config: BertConfig, o: GradStepOptions): GradStepSpec {
  const { batchSize: B, seqLen: T, maxPredictions: M } = o;
  const g = new Graph({ name: 'compactlm_grad_step' });
  const bert = new BertForMaskedLM(g, config, { batchSize: B, seqLen: T, dropout: o.dropout ?? true });
  const positions = g.input('masked_positions', 'int64', [B * M]);
  const labels = g.input('masked_labels', 'int64', [B * M]);
  const logits = bert.mlmLogits(g.gather(bert.encode(), positions));
  const loss = o.distill
    ? distillLoss(g, logits, g.input('teacher_logits', 'float32', [B * M, config.vocab_size]), labels, o.distill)
    : mlmLoss(g, logits, labels, { kind: o.loss ?? 'ce' });
  // losses.ts gives ∂loss/∂logits in closed form for the mean loss = loss_sum / max(count, 1); scale it back.
  const grads = bert.gradients(logits, g.mul(loss.dLogits, g.max(loss.count, 1)));
  g.output(loss.lossSum, 'loss_sum');
  g.output(loss.count, 'mlm_count');
  g.output(loss.correct, 'mlm_correct');
  for (const [name, grad] of grads) g.output(grad, `grad.${name}`);
  return {
    kind: 'grad_step',
    bytes: g.toBytes(),
    paramNames: [...bert.params.keys()],
    dropoutInputs: bert.dropoutSites,
    shape: { batchSize: B, seqLen: T, maxPredictions: M },
  };
}

export function buildApplyStep(config: BertConfig, opts: { optimizer?: Partial<AdamWOptions> } = {}): ApplyStepSpec {
  const optimizer = { ...ADAMW_DEFAULTS, ...opts.optimizer };
  const g = new Graph({ name: 'compactlm_apply_step' });
  const table = paramTable(config);
  const params = table.map((p) => g.param(p.name, p.shape));
  const m = table.map((p) => g.input(`adam_m.${p.name}`, 'float32', p.shape));
  const v = table.map((p) => g.input(`adam_v.${p.name}`, 'float32', p.shape));
  const lr = g.input('lr', 'float32', []);
  const step = g.input('step', 'float32', []);
  const sums = table.map((p) => g.input(`grad.${p.name}`, 'float32', p.shape));
  const count = g.input('count', 'float32', []);
  const inv = g.reciprocal(g.max(count, 1)); // as the loss's lossSum / max(count, 1)
  const slots = table.map((p, i) => ({ param: params[i], grad: g.mul(sums[i], inv), m: m[i], v: v[i], decay: p.decay }));
  const { gradNorm, updated } = adamw(g, slots, lr, step, optimizer);
  g.output(gradNorm, 'grad_norm');
  table.forEach((p, i) => g.output(updated[i].param, `new.${p.name}`));
  table.forEach((p, i) => g.output(updated[i].m, `new.adam_m.${p.name}`));
  table.forEach((p, i) => g.output(updated[i].v, `new.adam_v.${p.name}`));
  return { kind: 'apply_step', bytes: g.toBytes(), paramNames: table.map((p) => p.name), optimizer };
}
