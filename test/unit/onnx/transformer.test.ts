/**
 * A whole small model: one BERT-style layer (embeddings + LayerNorm → self-attention with padding mask, softmax
 * and fed-randomness dropout → residual LayerNorm → GELU MLP → residual LayerNorm → MLM head on masked positions
 * with tied decoder → masked cross-entropy). Autodiff gradients of the loss vs central finite differences on
 * random coordinates of every parameter, in float64 (tanh GELU, rel. tol 1e-6) and float32 (exact GELU, the
 * LayerNorm stats path; loose tolerance).
 */
import { checkGradients, type GradInput } from './gradcheck.js';
import type { Graph, Value } from '../../../src/onnx/graph.js';

const [B, T, V, H, NH, I, M] = [2, 5, 13, 8, 2, 16, 3];
const D = H / NH;

const PARAMS: Array<[string, number[]]> = [
  ['embeddings.word_embeddings.weight', [V, H]],
  ['embeddings.position_embeddings.weight', [T, H]],
  ['embeddings.token_type_embeddings.weight', [2, H]],
  ['embeddings.LayerNorm.weight', [H]], ['embeddings.LayerNorm.bias', [H]],
  ['attention.self.query.weight', [H, H]], ['attention.self.query.bias', [H]], // Linear weights [out, in] (HF)
  ['attention.self.key.weight', [H, H]], ['attention.self.key.bias', [H]],
  ['attention.self.value.weight', [H, H]], ['attention.self.value.bias', [H]],
  ['attention.output.dense.weight', [H, H]], ['attention.output.dense.bias', [H]], // stored [in, out]: MatMul
  ['attention.output.LayerNorm.weight', [H]], ['attention.output.LayerNorm.bias', [H]],
  ['intermediate.dense.weight', [H, I]], ['intermediate.dense.bias', [I]],
  ['output.dense.weight', [I, H]], ['output.dense.bias', [H]],
  ['output.LayerNorm.weight', [H]], ['output.LayerNorm.bias', [H]],
  ['cls.transform.dense.weight', [H, H]], ['cls.transform.dense.bias', [H]],
  ['cls.transform.LayerNorm.weight', [H]], ['cls.transform.LayerNorm.bias', [H]],
  ['cls.bias', [V]],
];

const DATA: GradInput[] = [
  { name: 'input_ids', shape: [B, T], dtype: 'int64', values: [1, 7, 7, 12, 0, 3, 7, 5, 0, 0] },
  { name: 'token_type_ids', shape: [B, T], dtype: 'int64', values: [0, 0, 1, 1, 1, 0, 0, 0, 0, 0] },
  { name: 'attention_mask', shape: [B, T], values: [1, 1, 1, 1, 1, 1, 1, 1, 0, 0], grad: false },
  { name: 'masked_positions', shape: [M], dtype: 'int64', values: [1, 3, 6] }, // rows of the flattened [B·T, H]
  // Labels 4, ignored, 9 as one-hot rows (the ignored slot's row is all zeros); the loss averages over 2 scored rows.
  { name: 'labels_onehot', shape: [M, V], values: Array.from({ length: M * V }, (_, i) => (i === 4 || i === 2 * V + 9 ? 1 : 0)), grad: false },
  { name: 'dropout_u', shape: [B, NH, T, T], values: Array.from({ length: B * NH * T * T }, (_, i) => (i * 0.618034) % 1), grad: false },
];

function bertLayerLoss(g: Graph, xs: Value[], gelu: 'none' | 'tanh'): Value {
  const v = Object.fromEntries([...DATA, ...PARAMS.map(([name]) => ({ name }))].map((d, i) => [d.name, xs[i]]));
  const p = (name: string) => v[name];
  const linear = (x2: Value, name: string) => g.gemm(x2, p(`${name}.weight`), p(`${name}.bias`), { transB: true }); // x·Wᵀ + b
  const ln = (x: Value, name: string) => g.layerNorm(x, p(`${name}.weight`), p(`${name}.bias`), { epsilon: 1e-12 });

  const positions = g.constant('int64', [T], [0, 1, 2, 3, 4]);
  const emb = g.add(g.add(g.gather(p('embeddings.word_embeddings.weight'), p('input_ids')),
    g.gather(p('embeddings.position_embeddings.weight'), positions)), g.gather(p('embeddings.token_type_embeddings.weight'), p('token_type_ids')));
  const x = ln(emb, 'embeddings.LayerNorm'); // [B, T, H]

  const x2 = g.reshape(x, [-1, H]);
  const heads = (t: Value) => g.transpose(g.reshape(t, [B, T, NH, D]), [0, 2, 1, 3]); // [B, NH, T, D]
  const q = heads(linear(x2, 'attention.self.query'));
  const k = heads(linear(x2, 'attention.self.key'));
  const val = heads(linear(x2, 'attention.self.value'));
  const maskBias = g.reshape(g.mul(g.sub(1, p('attention_mask')), -10000), [B, 1, 1, T]);
  const scores = g.add(g.mul(g.matmul(q, g.transposeLast2(k)), 1 / Math.sqrt(D)), maskBias);
  const keep = g.where(g.less(p('dropout_u'), 0.9), g.scalar(1 / 0.9, scores.dtype), 0); // inverted dropout, fed randomness
  const probs = g.mul(g.softmax(scores), keep);
  const ctx = g.reshape(g.transpose(g.matmul(probs, val), [0, 2, 1, 3]), [B, T, H]);
  const attn = g.add(g.matmul(ctx, p('attention.output.dense.weight')), p('attention.output.dense.bias'));
  const x1 = ln(g.add(x, attn), 'attention.output.LayerNorm');

  const hmid = g.gelu(g.add(g.matmul(x1, p('intermediate.dense.weight')), p('intermediate.dense.bias')), gelu);
  const out = g.gemm(g.reshape(hmid, [-1, I]), p('output.dense.weight'), p('output.dense.bias')); // [B·T, H]
  const x3 = ln(g.add(g.reshape(x1, [-1, H]), out), 'output.LayerNorm');

  const picked = g.gather(x3, p('masked_positions')); // [M, H]
  const t = ln(g.gelu(linear(picked, 'cls.transform.dense'), gelu), 'cls.transform.LayerNorm');
  const logits = g.gemm(t, p('embeddings.word_embeddings.weight'), p('cls.bias'), { transB: true }); // tied decoder
  return g.mul(g.reduceSum(g.mul(p('labels_onehot'), g.logSoftmax(logits, -1)), undefined, false), -1 / 2); // masked CE
}

describe('one-layer transformer: gradients of every parameter vs finite differences', () => {
  const inputs = (scale: number): GradInput[] => [...DATA, ...PARAMS.map(([name, shape]) => ({
    name, shape, values: Array.from({ length: shape.reduce((a, b) => a * b) }, (_, i) => scale * Math.sin(1 + i * 2.3 + name.length)),
  }))];

  test('float64 (tanh GELU, LayerNorm stats recomputed)', async () => {
    const r = await checkGradients({ inputs: inputs(0.8), build: (g, xs) => bertLayerLoss(g, xs, 'tanh'), maxCoords: 4, seed: 3 });
    expect(r.analytic.length).toBe(PARAMS.length * 4); // every parameter has ≥ 4 elements
  });

  test('float32 (exact GELU, LayerNorm stats reused)', async () => {
    await checkGradients({ dtype: 'float32', inputs: inputs(0.8), build: (g, xs) => bertLayerLoss(g, xs, 'none'), maxCoords: 3, seed: 5, rtol: 1e-2, atol: 1e-3 });
  });
});
