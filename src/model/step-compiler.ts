/**
 * The step compiler: every ONNX graph CompactLM runs, from one function and one model definition (bert.ts).
 *
 *   const train = compileStep({ kind: 'train', config, head: mlmHead, loss: maskedLmLoss(), shape });
 *   const evalg = compileStep({ kind: 'eval', config, shape });
 *   const model = compileStep({ kind: 'inference', config, weights, outputs: ['logits', 'last_hidden_state'] });
 *   // train.bytes → an ORT session; train.io says what to feed, what to keep, what to fetch.
 *
 * Kinds (B = batch, T = sequence, M = gathered masked slots per sequence, static shapes except 'inference'):
 *   train      forward + loss + backward + clipping + AdamW: one optimizer step
 *   grad       forward + loss + backward on one micro-batch, gradients of loss_sum out (gradient accumulation)
 *   apply      clipping + AdamW from the accumulated gradients and count (gradient accumulation)
 *   eval       forward + loss without dropout; nothing updated
 *   logits     forward to the head's scored logits with weights as initializers (a distillation teacher)
 *   inference  forward with weights as initializers, symbolic batch/sequence dims (export, infer)
 *
 * The IO spec is the whole contract with the trainer (train/trainer.ts), which never names a model tensor:
 *   batch     inputs fed every micro-batch by the batch source (ids, masks, labels, dropout keep-masks …)
 *   hyper     per-step scalars the trainer computes: `lr`, `step` (1-based, for Adam's bias correction)
 *   state     tensors that live in the worker: parameters and optimizer moments, each with its initial value
 *             ('param' = the model's initializer, 'zeros') and the output that replaces it after the step
 *   accumulate  (grad) output → the apply step's input it is summed into over micro-batches
 *   metrics   which scalar outputs are the loss, its sum and count, the gradient norm, and ratio metrics
 *             (e.g. mlm_acc = mlm_correct / mlm_count), so the trainer can log and average them generically
 *
 * A head (heads/) says where the loss looks and what inference returns; a loss (losses.ts, distill-loss.ts)
 * declares its own inputs and returns a closed-form gradient of the logits. Adding a task is one head and one
 * loss file; nothing here changes.
 */
import { Graph, type DType, type TensorData, type Value } from '../onnx/graph.js';
import { ADAMW_DEFAULTS, adamw, type AdamWOptions } from './adamw.js';
import { BertForMaskedLM, paramTable, type DropoutSite } from './bert.js';
import type { BertConfig } from './config.js';
import { mlmHead } from './heads/mlm.js';
import { maskedLmLoss } from './losses.js';
import type { ParamSpec } from './params.js';

/** Static batch shape of training, evaluation and teacher graphs. */
export interface StepShape {
  batchSize: number;
  seqLen: number;
  /** Gathered masked-LM slots per sequence (M); heads that score one row per sequence ignore it. */
  maxPredictions: number;
}

export interface TensorInfo {
  name: string;
  dtype: DType;
  /** Static dims, or symbolic names (INFERENCE_DIMS) in inference graphs. */
  shape: Array<number | string>;
}

/** The symbolic dims of inference/export graphs (Optimum's names). */
export const INFERENCE_DIMS = ['batch_size', 'sequence_length'] as const;

/** A task head on top of the encoder. */
export interface Head {
  name: string;
  /** The logits the loss scores, for batches of `shape` (declaring any batch inputs it needs, e.g. positions). */
  scored(g: Graph, bert: BertForMaskedLM, shape: StepShape): Value;
  /** Inference outputs from the encoder's rows [batch·sequence, H] (dynamic dims). */
  outputs: Record<string, (bert: BertForMaskedLM, rows: Value) => Value>;
  defaultOutputs: readonly string[];
  /** The symbolic row count of the scored logits where the batch source decides it (masked-LM: MASKED_SLOTS). */
  scoredRows?: string;
  /** Eval graphs also output the scored logits (small per-sequence logits, for metrics such as macro-F1). */
  evalLogits?: boolean;
}

/** What a loss returns: scalars and the closed-form ∂loss/∂logits. */
export interface LossTerms {
  /** lossSum / max(count, 1). */
  loss: Value;
  lossSum: Value;
  count: Value;
  /** Sums whose ratio to `count` is a metric, by output name (e.g. mlm_correct). */
  sums: Record<string, Value>;
  dLogits: Value;
}

export interface Loss {
  name: string;
  /** Output name of the count of scored rows (e.g. mlm_count). */
  countName: string;
  /** Metric name → output name of its numerator in `sums` (e.g. mlm_acc → mlm_correct). */
  ratios: Record<string, string>;
  /** The loss is a cross-entropy over tokens, so exp(loss) is a perplexity worth reporting. */
  perplexity: boolean;
  /** Builds the loss on the head's logits, declaring its own inputs (labels, teacher logits …). */
  build(g: Graph, logits: Value, shape: StepShape, config: BertConfig): LossTerms;
}

export type StepKind = 'train' | 'grad' | 'apply' | 'eval' | 'logits' | 'inference';

export interface CompileOptions {
  kind: StepKind;
  config: BertConfig;
  /** Default: the masked-LM head. */
  head?: Head;
  /** Default: masked-LM cross-entropy. */
  loss?: Loss;
  /** Required except for 'apply' and 'inference'. */
  shape?: StepShape;
  optimizer?: Partial<AdamWOptions>;
  /** train/grad: feed dropout keep-masks (default true; none where the config's probability is 0). */
  dropout?: boolean;
  /** logits/inference: weights (HF names) stored as initializers. */
  weights?: ReadonlyMap<string, TensorData>;
  /** inference: head outputs (default head.defaultOutputs). */
  outputs?: readonly string[];
  opset?: number;
  irVersion?: number;
}

export interface StateTensor {
  name: string;
  shape: number[];
  /** 'param': a model parameter (its initializer is `spec.init`); 'moment': optimizer state, zeros at step 1. */
  role: 'param' | 'moment';
  /** The output that replaces it after the step; absent when the step only reads it. */
  next?: string;
  /** `next` may be written into this tensor's own buffer (Graph.mayWriteInto): a runner may update it in place. */
  inPlace?: boolean;
}

export interface MetricSpec {
  loss?: string;
  lossSum?: string;
  count?: string;
  gradNorm?: string;
  /** Eval graphs of heads with `evalLogits`: the scored logits output. */
  logits?: string;
  ratios: Record<string, string>;
  perplexity: boolean;
}

export interface IoSpec {
  inputs: TensorInfo[];
  outputs: TensorInfo[];
  batch: TensorInfo[];
  dropout: DropoutSite[];
  hyper: TensorInfo[];
  state: StateTensor[];
  accumulate: Record<string, string>;
  metrics: MetricSpec;
}

export interface CompiledStep {
  kind: StepKind;
  bytes: Uint8Array;
  io: IoSpec;
  /** The model's parameters (name, shape, initializer, decay), in state_dict order. */
  params: ParamSpec[];
  /** The graph itself (export quantizes it). */
  graph: Graph;
  optimizer?: AdamWOptions;
}

const MOMENTS = ['adam_m', 'adam_v'] as const;
const momentName = (m: string, p: string) => `${m}.${p}`;
const nextName = (name: string) => `new.${name}`;
const gradName = (p: string) => `grad.${p}`;

const info = (v: Value): TensorInfo => ({ name: v.name!, dtype: v.dtype, shape: [...(v.dims ?? v.shape)] });

export function compileStep(o: CompileOptions): CompiledStep {
  const head = o.head ?? mlmHead;
  const loss = o.loss ?? maskedLmLoss();
  const g = new Graph({ name: `compactlm_${o.kind}`, ...(o.opset !== undefined ? { opset: o.opset } : {}) });
  if (o.kind === 'apply') return compileApply(g, o, head);
  if (o.kind === 'inference') return compileInference(g, o, head);
  const shape = o.shape;
  if (!shape) throw new Error(`compileStep: kind ${o.kind} needs a shape`);
  const { batchSize: B, seqLen: T, maxPredictions: M } = shape;
  if (!(Number.isInteger(M) && M >= 1 && M <= T)) throw new Error(`compileStep: maxPredictions must be an integer in [1, ${T}], got ${M}`);
  const training = o.kind === 'train' || o.kind === 'grad';
  const bert = new BertForMaskedLM(g, o.config, { batchSize: B, seqLen: T, dropout: training && (o.dropout ?? true) });
  const logits = head.scored(g, bert, shape);
  const params = bert.specs;
  const metrics: MetricSpec = { ratios: { ...loss.ratios }, perplexity: loss.perplexity };
  const state: StateTensor[] = params.map((p) => ({ name: p.name, shape: p.shape, role: 'param' }));
  const accumulate: Record<string, string> = {};
  let optimizer: AdamWOptions | undefined;

  const scoredDims = head.scoredRows ? { dims: [head.scoredRows, ...logits.shape.slice(1)] } : {};
  if (o.kind === 'logits') {
    g.output(logits, 'logits', scoredDims);
    return finish(g, o, bert, params, { state: [], accumulate, metrics, weights: o.weights });
  }

  const terms = loss.build(g, logits, shape, o.config);
  const sums = () => Object.entries(terms.sums).forEach(([name, v]) => g.output(v, name));
  if (o.kind === 'eval') {
    g.output(terms.loss, 'loss');
    g.output(terms.lossSum, 'loss_sum');
    g.output(terms.count, loss.countName);
    sums();
    Object.assign(metrics, { loss: 'loss', lossSum: 'loss_sum', count: loss.countName });
    if (head.evalLogits) metrics.logits = g.output(logits, 'logits', scoredDims).name!;
  } else if (o.kind === 'grad') {
    // ∂loss_sum = ∂loss · max(count, 1): summed over micro-batches and divided once by the total count in apply,
    // that is the big batch's gradient exactly (micro-batches score different numbers of slots).
    const grads = bert.gradients(logits, g.mul(terms.dLogits, g.max(terms.count, 1)));
    g.output(terms.lossSum, 'loss_sum');
    g.output(terms.count, loss.countName);
    sums();
    for (const [name, grad] of grads) accumulate[g.output(grad, gradName(name)).name!] = gradName(name);
    accumulate[loss.countName] = 'count';
    Object.assign(metrics, { lossSum: 'loss_sum', count: loss.countName });
  } else {
    optimizer = { ...ADAMW_DEFAULTS, ...o.optimizer };
    const moments = MOMENTS.map((m) => params.map((p) => g.input(momentName(m, p.name), 'float32', p.shape)));
    const lr = g.input('lr', 'float32', []);
    const step = g.input('step', 'float32', []);
    const grads = bert.gradients(logits, terms.dLogits);
    const slots = params.map((p, i) => ({ param: bert.params.get(p.name)!, grad: grads.get(p.name)!, m: moments[0][i], v: moments[1][i], decay: p.decay }));
    const { gradNorm, updated } = adamw(g, slots, lr, step, optimizer);
    g.output(terms.loss, 'loss');
    g.output(gradNorm, 'grad_norm');
    g.output(terms.count, loss.countName);
    sums();
    Object.assign(metrics, { loss: 'loss', gradNorm: 'grad_norm', count: loss.countName });
    updateOutputs(g, params, slots, updated, state);
  }
  return { ...finish(g, o, bert, params, { state, accumulate, metrics }), ...(optimizer ? { optimizer } : {}) };
}

type Triple = { param: Value; m: Value; v: Value };

/**
 * Outputs new.<p>, new.adam_m.<p>, new.adam_v.<p> and records them as the state's next values (`inPlace` where the
 * graph allows writing each into its input's buffer).
 */
function updateOutputs(g: Graph, params: ParamSpec[], inputs: Triple[], updated: Triple[], state: StateTensor[]): void {
  const out = (i: number, k: keyof Triple, name: string) => g.mayWriteInto(inputs[i][k], g.output(updated[i][k], nextName(name)));
  params.forEach((p, i) => Object.assign(state[i], { next: nextName(p.name), inPlace: out(i, 'param', p.name) }));
  for (const [m, k] of [['adam_m', 'm'], ['adam_v', 'v']] as const) {
    params.forEach((p, i) => {
      const name = momentName(m, p.name);
      state.push({ name, shape: p.shape, role: 'moment', next: nextName(name), inPlace: out(i, k, name) });
    });
  }
}

function compileApply(g: Graph, o: CompileOptions, head: Head): CompiledStep {
  const optimizer = { ...ADAMW_DEFAULTS, ...o.optimizer };
  // An apply step builds no forward pass: its parameters are those config + head register.
  const params = paramTable(o.config, (g, bert) => head.scored(g, bert, { batchSize: 1, seqLen: 1, maxPredictions: 1 }));
  const values = params.map((p) => g.param(p.name, p.shape));
  const moments = MOMENTS.map((m) => params.map((p) => g.input(momentName(m, p.name), 'float32', p.shape)));
  const lr = g.input('lr', 'float32', []);
  const step = g.input('step', 'float32', []);
  const sums = params.map((p) => g.input(gradName(p.name), 'float32', p.shape));
  const inv = g.reciprocal(g.max(g.input('count', 'float32', []), 1)); // as the loss's lossSum / max(count, 1)
  const slots = params.map((p, i) => ({ param: values[i], grad: g.mul(sums[i], inv), m: moments[0][i], v: moments[1][i], decay: p.decay }));
  const { gradNorm, updated } = adamw(g, slots, lr, step, optimizer);
  g.output(gradNorm, 'grad_norm');
  const state: StateTensor[] = params.map((p) => ({ name: p.name, shape: p.shape, role: 'param' }));
  updateOutputs(g, params, slots, updated, state);
  const bytes = g.toBytes(o.irVersion !== undefined ? { irVersion: o.irVersion } : {});
  const inputs = g.inputs.map(info);
  return {
    kind: 'apply', bytes, graph: g, params, optimizer,
    io: {
      inputs, outputs: g.outputs.map(info), batch: [], dropout: [],
      hyper: inputs.filter((t) => t.name === 'lr' || t.name === 'step'),
      state, accumulate: {}, metrics: { gradNorm: 'grad_norm', ratios: {}, perplexity: false },
    },
  };
}

function compileInference(g: Graph, o: CompileOptions, head: Head): CompiledStep {
  // Example dims 2×3 are labels only: with dynamic: true every op takes the real dims at run time.
  const bert = new BertForMaskedLM(g, o.config, { batchSize: 2, seqLen: 3, dynamic: true });
  for (const v of [bert.inputIds, bert.attentionMask, bert.tokenTypeIds]) v.dims = INFERENCE_DIMS;
  const rows = bert.encode();
  const wanted = o.outputs ?? head.defaultOutputs;
  if (wanted.length === 0) throw new Error('compileStep: no inference outputs requested');
  for (const name of wanted) {
    const build = head.outputs[name];
    if (!build) throw new Error(`compileStep: head ${head.name} has no output ${name} (it has ${Object.keys(head.outputs).join(', ')})`);
    const y = build(bert, rows);
    // Per-token outputs are [batch, sequence, …]; per-sequence ones (a classifier's logits) [batch, labels];
    // per-masked-row ones [num_masked, V].
    const dims = name === 'masked_logits' ? ['num_masked', y.shape[1]]
      : y.rank === 2 ? [INFERENCE_DIMS[0], y.shape[1]] : [...INFERENCE_DIMS, ...y.shape.slice(2)];
    g.output(y, name, { dims });
  }
  return finish(g, o, bert, bert.specs, { state: [], accumulate: {}, metrics: { ratios: {}, perplexity: false }, weights: o.weights });
}


function finish(g: Graph, o: CompileOptions, bert: BertForMaskedLM, params: ParamSpec[],
  r: { state: StateTensor[]; accumulate: Record<string, string>; metrics: MetricSpec; weights?: ReadonlyMap<string, TensorData> }): CompiledStep {
  let weights = r.weights;
  if (weights) weights = new Map(params.map((p) => [p.name, mustHave(weights!, p.name)]));
  const bytes = g.toBytes({ ...(weights ? { weights } : {}), ...(o.irVersion !== undefined ? { irVersion: o.irVersion } : {}) });
  const inputs = g.inputs.filter((v) => !(weights && v.kind === 'param')).map(info);
  const stateNames = new Set(r.state.map((s) => s.name));
  const hyper = inputs.filter((t) => t.name === 'lr' || t.name === 'step');
  return {
    kind: o.kind, bytes, graph: g, params,
    io: {
      inputs,
      outputs: g.outputs.map(info),
      batch: inputs.filter((t) => !stateNames.has(t.name) && !hyper.includes(t)),
      dropout: bert.dropoutSites,
      hyper,
      state: r.state,
      accumulate: r.accumulate,
      metrics: r.metrics,
    },
  };
}

function mustHave(weights: ReadonlyMap<string, TensorData>, name: string): TensorData {
  const w = weights.get(name);
  if (!w) throw new Error(`compileStep: no weights for ${name}`);
  return w;
}

/** The IO spec and sizes of a compiled step, without its bytes (what artifacts.json records). */
export function describeStep(step: CompiledStep): Record<string, unknown> {
  return { kind: step.kind, bytes: step.bytes.byteLength, io: step.io, ...(step.optimizer ? { optimizer: step.optimizer } : {}) };
}
