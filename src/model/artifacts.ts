/**
 * The compiled artifacts of a BERT masked LM, all from the one model definition in bert.ts:
 *
 *   const step = buildTrainStep(config, { batchSize: 16, seqLen: 128, maxPredictions: 20 });
 *   const evalg = buildEval(config, { batchSize: 16, seqLen: 128, maxPredictions: 20 });
 *   const model = buildInference(config, weights);                     // weights: Map HF name → Float32Array
 *   await writeArtifacts(join(runDir, 'artifacts'), { trainStep: step, eval: evalg, inference: model });
 *
 * Feeds and outputs (B = batchSize, T = seqLen, M = maxPredictions, H = hidden, A = heads, V = vocab; every
 * shape static except in the inference graph; ORT feeds by name, `spec.inputs`/`spec.outputs` list them all):
 *
 * train_step.onnx  (forward + loss + backward + clipping + AdamW)
 *   inputs   <name>                  float32  param shape   every name in spec.paramNames (HF state_dict order)
 *            adam_m.<name>           float32  param shape   AdamW first moment (zeros at step 1)
 *            adam_v.<name>           float32  param shape   AdamW second moment (zeros at step 1)
 *            lr                      float32  []            learning rate for this step
 *            step                    float32  []            1-based step t (bias correction 1 − βᵗ)
 *            input_ids               int64    [B, T]
 *            attention_mask          int64    [B, T]        1 = token, 0 = padding
 *            token_type_ids          int64    [B, T]
 *            masked_positions        int64    [B·M]         flat row indices b·T + t (train/masking.ts)
 *            masked_labels           int64    [B·M]         original token ids, −100 = unused slot
 *            teacher_logits          float32  [B·M, V]      only with `distill`: the teacher's logits at masked_positions
 *            dropout.embeddings                 bool [B, T, H]     keep-masks, true = keep, drawn fresh each step
 *            dropout.layer.<l>.attention        bool [B, A, T, T]  with P(true) = site.keepProb
 *            dropout.layer.<l>.attention.output bool [B, T, H]     (fillKeepMask below); absent when the config's
 *            dropout.layer.<l>.output           bool [B, T, H]     dropout probability is 0 or dropout: false
 *                                                  (feed a Uint8Array of 0/1: new ort.Tensor('bool', u8, shape))
 *   outputs  loss                    float32  []            mean loss over scored slots ('ce' or 'focal'; with `distill`
 *                                                          α·T²·KL + (1 − α)·CE, model/distill-loss.ts)
 *            grad_norm               float32  []            global gradient norm BEFORE clipping
 *            mlm_correct, mlm_count  float32  []            scored slots whose label has the top logit (ties count),
 *                                                           and scored slots (labels ≠ −100)
 *            new.<name>, new.adam_m.<name>, new.adam_v.<name>   float32, the updated tensors: feed them as
 *                                                              <name>, adam_m.<name>, adam_v.<name> next step
 *   Outputs may be preallocated: pass `fetches` tensors to session.run (onnxruntime-node writes into them), e.g.
 *   two buffer sets used alternately, so a step allocates nothing (bench/train-step.mjs does this).
 *
 * eval.onnx  (forward without dropout; params in, nothing updated)
 *   inputs   <name>, input_ids, attention_mask, token_type_ids, masked_positions, masked_labels (as above)
 *   outputs  loss (batch mean), loss_sum (Σ per-token loss), mlm_correct, mlm_count   float32 []
 *            → average over batches as Σ loss_sum / Σ mlm_count.
 *
 * model.onnx  (inference/export; weights as initializers)
 *   inputs   input_ids, attention_mask, token_type_ids   int64 [batch, sequence]  (symbolic dims)
 *   outputs  logits                 float32 [batch, sequence, V]   MLM logits at every position (default)
 *            last_hidden_state      float32 [batch, sequence, H]   with outputs: ['last_hidden_state', ...]
 *
 * Session options: src/runtime/session.ts sessionOptions() (what the trainer and the benches use).
 */
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../data/csv.js';
import { Graph, type DType, type TensorData, type Value } from '../onnx/graph.js';
import type { Rng } from '../util/rng.js';
import { ADAMW_DEFAULTS, adamw, type AdamWOptions } from './adamw.js';
import { BertForMaskedLM, type DropoutSite } from './bert.js';
import type { BertConfig } from './config.js';
import { distillLoss, type DistillLossOptions } from './distill-loss.js';
import { mlmLoss, type MlmLossKind } from './losses.js';
import { paramTable } from './params.js';

/**
 * ONNX Runtime session options measured to suit train_step.onnx (BERT-mini, bench/train-step.mjs): optimization
 * level 'all' (numerically safe on these graphs), and no memory pattern — same speed, but the planned
 * single-block pattern raised peak RSS from about 0.9 to 1.3–1.4 GB. Plain data so this file needs no ORT import.
 */

export interface TensorInfo {
  name: string;
  dtype: DType;
  /** Static dims, or symbolic names ('batch', 'sequence') in the inference graph. */
  shape: Array<number | string>;
}

export interface StepShape {
  batchSize: number;
  seqLen: number;
  /** Gathered masked-LM slots per sequence (M). */
  maxPredictions: number;
}

export interface TrainStepOptions extends StepShape {
  loss?: MlmLossKind;
  /** Focal loss α, γ (defaults 1, 2). */
  focalAlpha?: number;
  focalGamma?: number;
  optimizer?: Partial<AdamWOptions>;
  /** Feed dropout keep-masks (default true; a config with zero dropout probabilities has none anyway). */
  dropout?: boolean;
  /** Knowledge distillation: a `teacher_logits` input [B·M, V] and the distillation loss instead of `loss`. */
  distill?: DistillLossOptions;
}

interface CompiledGraph {
  bytes: Uint8Array;
  inputs: TensorInfo[];
  outputs: TensorInfo[];
}

export interface TrainStepSpec extends CompiledGraph {
  kind: 'train_step';
  paramNames: string[];
  /** The bool keep-mask inputs, each with P(keep); fill them with fillKeepMask. */
  dropoutInputs: DropoutSite[];
  shape: StepShape;
  loss: MlmLossKind;
  /** Set when the loss is the distillation loss (the graph then takes teacher_logits). */
  distill?: DistillLossOptions;
  optimizer: AdamWOptions;
}

export interface EvalSpec extends CompiledGraph {
  kind: 'eval';
  paramNames: string[];
  shape: StepShape;
  loss: MlmLossKind;
}

export interface InferenceSpec extends CompiledGraph {
  kind: 'inference';
}

const info = (v: Value): TensorInfo => ({ name: v.name!, dtype: v.dtype, shape: [...(v.dims ?? v.shape)] });

function compiled(g: Graph, bytes: Uint8Array): CompiledGraph {
  return { bytes, inputs: g.inputs.map(info), outputs: g.outputs.map(info) };
}

/** Model + masked-LM loss on the gathered slots; shared by train_step and eval. */
function forwardWithLoss(g: Graph, config: BertConfig, o: StepShape & { dropout: boolean; loss: MlmLossKind; focalAlpha?: number; focalGamma?: number; distill?: DistillLossOptions }) {
  const { batchSize: B, seqLen: T, maxPredictions: M } = o;
  if (!(Number.isInteger(M) && M >= 1 && M <= T)) throw new Error(`maxPredictions must be an integer in [1, ${T}], got ${M}`);
  const bert = new BertForMaskedLM(g, config, { batchSize: B, seqLen: T, dropout: o.dropout });
  const positions = g.input('masked_positions', 'int64', [B * M]);
  const labels = g.input('masked_labels', 'int64', [B * M]);
  const logits = bert.mlmLogits(g.gather(bert.encode(), positions)); // [B·M, V]
  const loss = o.distill
    ? distillLoss(g, logits, g.input('teacher_logits', 'float32', [B * M, config.vocab_size]), labels, o.distill)
    : mlmLoss(g, logits, labels, { kind: o.loss, alpha: o.focalAlpha, gamma: o.focalGamma });
  return { bert, logits, loss };
}

/** train_step.onnx: see the file comment for every feed and output. */
export function buildTrainStep(config: BertConfig, opts: TrainStepOptions): TrainStepSpec {
  const optimizer = { ...ADAMW_DEFAULTS, ...opts.optimizer };
  const lossKind = opts.loss ?? 'ce';
  const g = new Graph({ name: 'compactlm_train_step' });
  const table = paramTable(config);
  const m = table.map((p) => g.input(`adam_m.${p.name}`, 'float32', p.shape));
  const v = table.map((p) => g.input(`adam_v.${p.name}`, 'float32', p.shape));
  const lr = g.input('lr', 'float32', []);
  const step = g.input('step', 'float32', []);
  const { bert, logits, loss } = forwardWithLoss(g, config, { ...opts, dropout: opts.dropout ?? true, loss: lossKind });
  const grads = bert.gradients(logits, loss.dLogits);
  const slots = table.map((p, i) => ({ param: bert.params.get(p.name)!, grad: grads.get(p.name)!, m: m[i], v: v[i], decay: p.decay }));
  const { gradNorm, updated } = adamw(g, slots, lr, step, optimizer);

  g.output(loss.loss, 'loss');
  g.output(gradNorm, 'grad_norm');
  g.output(loss.correct, 'mlm_correct');
  g.output(loss.count, 'mlm_count');
  table.forEach((p, i) => g.output(updated[i].param, `new.${p.name}`));
  table.forEach((p, i) => g.output(updated[i].m, `new.adam_m.${p.name}`));
  table.forEach((p, i) => g.output(updated[i].v, `new.adam_v.${p.name}`));
  return {
    kind: 'train_step',
    ...compiled(g, g.toBytes()),
    paramNames: table.map((p) => p.name),
    dropoutInputs: bert.dropoutSites,
    shape: { batchSize: opts.batchSize, seqLen: opts.seqLen, maxPredictions: opts.maxPredictions },
    loss: lossKind,
    ...(opts.distill ? { distill: opts.distill } : {}),
    optimizer,
  };
}

/** eval.onnx: forward without dropout → loss, loss_sum, mlm_correct, mlm_count. */
export function buildEval(config: BertConfig, opts: StepShape & { loss?: MlmLossKind; focalAlpha?: number; focalGamma?: number }): EvalSpec {
  const lossKind = opts.loss ?? 'ce';
  const g = new Graph({ name: 'compactlm_eval' });
  const { bert, loss } = forwardWithLoss(g, config, { ...opts, dropout: false, loss: lossKind });
  g.output(loss.loss, 'loss');
  g.output(loss.lossSum, 'loss_sum');
  g.output(loss.correct, 'mlm_correct');
  g.output(loss.count, 'mlm_count');
  return {
    kind: 'eval',
    ...compiled(g, g.toBytes()),
    paramNames: [...bert.params.keys()],
    shape: { batchSize: opts.batchSize, seqLen: opts.seqLen, maxPredictions: opts.maxPredictions },
    loss: lossKind,
  };
}

export type InferenceOutput = 'logits' | 'last_hidden_state';

/**
 * The inference graph with `weights` (HF names → Float32Array) as initializers, dynamic batch and sequence. Outputs
 * `logits` [batch, sequence, V] by default; ask for 'last_hidden_state' [batch, sequence, H] (embeddings) as well
 * or instead.
 */
export function buildInference(config: BertConfig, weights: ReadonlyMap<string, TensorData>,
  opts: { outputs?: readonly InferenceOutput[] } = {}): InferenceSpec {
  const wanted = opts.outputs ?? ['logits'];
  if (wanted.length === 0) throw new Error('buildInference: no outputs requested');
  const g = new Graph({ name: 'compactlm_bert' });
  // Example dims 2×3: only labels, every op takes the real dims at run time.
  const bert = new BertForMaskedLM(g, config, { batchSize: 2, seqLen: 3, dynamic: true });
  const rows = bert.encode();
  const dims = (last: number) => ({ dims: ['batch', 'sequence', last] });
  for (const name of wanted) {
    if (name === 'logits') g.output(bert.unflattenRows(bert.mlmLogits(rows)), 'logits', dims(config.vocab_size));
    else if (name === 'last_hidden_state') g.output(bert.unflattenRows(rows), 'last_hidden_state', dims(config.hidden_size));
    else throw new Error(`buildInference: unknown output ${String(name)}`);
  }
  const bytes = g.toBytes({ weights });
  return { kind: 'inference', bytes, inputs: [bert.inputIds, bert.attentionMask, bert.tokenTypeIds].map(info), outputs: g.outputs.map(info) };
}

/**
 * Fills a dropout keep-mask: out[i] = 1 with probability keepProb. Four draws from `rng` seed a local xoshiro128**
 * stream (the generator Rng uses, kept in local variables: about 1 ns per element instead of a method call per
 * draw); each 32-bit output gives two 16-bit uniforms, so P(keep) is keepProb rounded to 1/65536 (0.9 → 0.899994).
 * Same rng state → same mask.
 */
export function fillKeepMask(rng: Rng, out: Uint8Array, keepProb: number): Uint8Array {
  const threshold = Math.round(keepProb * 65536);
  let s0 = rng.nextUint32();
  let s1 = rng.nextUint32();
  let s2 = rng.nextUint32();
  let s3 = rng.nextUint32();
  if ((s0 | s1 | s2 | s3) === 0) s0 = 1; // the all-zero state is a fixed point
  const n = out.length;
  for (let i = 0; i < n; i += 2) {
    const r = Math.imul(rotl(Math.imul(s1, 5), 7), 9);
    const t = s1 << 9;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = rotl(s3, 11);
    out[i] = ((r & 0xffff) - threshold) >>> 31; // 1 when the low 16 bits < threshold (sign of the difference)
    out[i + 1] = ((r >>> 16) - threshold) >>> 31; // past the end for odd n: a typed array ignores it
  }
  return out;
}

const rotl = (x: number, k: number): number => (x << k) | (x >>> (32 - k));

/** The specs without their bytes (what artifacts.json records). */
function describe(spec: CompiledGraph): Record<string, unknown> {
  const { bytes, ...rest } = spec;
  return { ...rest, bytes: bytes.byteLength };
}

export const ARTIFACT_FILES = { trainStep: 'train_step.onnx', eval: 'eval.onnx', inference: 'model.onnx' } as const;

/**
 * Writes the given graphs into `dir` (created; the trainer uses `<run>/artifacts/`) as train_step.onnx, eval.onnx
 * and model.onnx, plus artifacts.json describing every feed and output, for inspection (e.g. in Netron). Each file
 * is written atomically. Returns the paths written.
 */
export async function writeArtifacts(dir: string, a: { trainStep?: TrainStepSpec; eval?: EvalSpec; inference?: InferenceSpec }): Promise<string[]> {
  await fsp.mkdir(dir, { recursive: true });
  const written: string[] = [];
  const index: Record<string, unknown> = {};
  for (const key of ['trainStep', 'eval', 'inference'] as const) {
    const spec = a[key];
    if (!spec) continue;
    const path = join(dir, ARTIFACT_FILES[key]);
    await writeFileAtomic(path, spec.bytes);
    written.push(path);
    index[ARTIFACT_FILES[key]] = describe(spec);
  }
  const indexPath = join(dir, 'artifacts.json');
  await writeFileAtomic(indexPath, JSON.stringify(index, null, 2) + '\n');
  written.push(indexPath);
  return written;
}
