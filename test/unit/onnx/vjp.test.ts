/**
 * Every VJP rule against central finite differences, in float64 where ORT has float64 kernels (rel. tol 1e-6) and
 * in float32 with loose tolerances where it has not (Erf, exact Gelu) or where float32 takes another code path
 * (LayerNormalization reuses the node's float32 Mean/InvStdDev).
 */
import { checkGradients, session, run } from './gradcheck.js';
import { Graph, type Value } from '../../../src/onnx/graph.js';
import { gradients } from '../../../src/onnx/autodiff.js';
import { unbroadcast } from '../../../src/onnx/vjp.js';

const pos = (n: number, lo = 0.5, hi = 2) => Array.from({ length: n }, (_, i) => lo + ((i * 0.618034) % 1) * (hi - lo));

type Case = [string, Parameters<typeof checkGradients>[0]];
const X = (name: string, shape: number[], extra: object = {}) => ({ name, shape, ...extra });

const cases: Case[] = [
  ['Add broadcast', { inputs: [X('a', [2, 3, 4]), X('b', [4]), X('c', [3, 1])], build: (g, [a, b, c]) => g.add(g.add(a, b), c) }],
  ['Sub broadcast', { inputs: [X('a', [2, 3]), X('b', [1, 3])], build: (g, [a, b]) => g.sub(a, b) }],
  ['Mul broadcast', { inputs: [X('a', [2, 1, 4]), X('b', [3, 1])], build: (g, [a, b]) => g.mul(a, b) }],
  ['Div broadcast', { inputs: [X('a', [2, 3]), X('b', [3], { values: pos(3) })], build: (g, [a, b]) => g.div(a, b) }],
  ['Neg', { inputs: [X('a', [5])], build: (g, [a]) => g.neg(a) }],
  ['Exp', { inputs: [X('a', [5])], build: (g, [a]) => g.exp(a) }],
  ['Log', { inputs: [X('a', [5], { values: pos(5) })], build: (g, [a]) => g.log(a) }],
  ['Sqrt', { inputs: [X('a', [5], { values: pos(5) })], build: (g, [a]) => g.sqrt(a) }],
  ['Reciprocal', { inputs: [X('a', [5], { values: pos(5) })], build: (g, [a]) => g.reciprocal(a) }],
  ['Tanh', { inputs: [X('a', [5])], build: (g, [a]) => g.tanh(a) }],
  ['Sigmoid', { inputs: [X('a', [5])], build: (g, [a]) => g.sigmoid(a) }],
  ['Relu', { inputs: [X('a', [6], { values: [-1, -0.5, -0.1, 0.2, 0.7, 1.3] })], build: (g, [a]) => g.relu(a) }],
  ['Pow x^3, x^2, x^0.5', { inputs: [X('a', [4], { values: pos(4) })], build: (g, [a]) => [g.pow(a, 3), g.pow(a, 2), g.pow(a, 0.5)] }],
  ['Pow tensor exponent', { inputs: [X('a', [3], { values: pos(3) }), X('p', [3])], build: (g, [a, p]) => g.pow(a, p) }],
  ['Sum of one value used 3 times', { inputs: [X('a', [3])], build: (g, [a]) => [g.exp(a), g.mul(a, a)] }],
  ['MatMul 2-D', { inputs: [X('a', [3, 4]), X('b', [4, 2])], build: (g, [a, b]) => g.matmul(a, b) }],
  ['MatMul [B,T,K]@[K,N] (Gemm path)', { inputs: [X('a', [2, 3, 4]), X('b', [4, 5])], build: (g, [a, b]) => g.matmul(a, b) }],
  ['MatMul batched', { inputs: [X('a', [2, 3, 4]), X('b', [2, 4, 5])], build: (g, [a, b]) => g.matmul(a, b) }],
  ['MatMul broadcast batch', { inputs: [X('a', [2, 1, 3, 4]), X('b', [3, 4, 2])], build: (g, [a, b]) => g.matmul(a, b) }],
  ['MatMul q·kᵀ', { inputs: [X('q', [2, 3, 4]), X('k', [2, 3, 4])], build: (g, [q, k]) => g.matmul(q, g.transposeLast2(k)) }],
  ...[false, true].flatMap((tA) => [false, true].map((tB): Case => [`Gemm transA=${tA} transB=${tB}`, {
    inputs: [X('a', tA ? [4, 3] : [3, 4]), X('b', tB ? [5, 4] : [4, 5]), X('c', [5])],
    build: (g, [a, b, c]) => g.gemm(a, b, c, { transA: tA, transB: tB, alpha: 0.7, beta: 1.3 }),
  }])),
  ['Gemm C [M,1]', { inputs: [X('a', [3, 4]), X('b', [4, 2]), X('c', [3, 1])], build: (g, [a, b, c]) => g.gemm(a, b, c) }],
  ['Reshape with 0 and -1', { inputs: [X('a', [2, 3, 4])], build: (g, [a]) => g.reshape(a, [0, -1]) }],
  ['Transpose', { inputs: [X('a', [2, 3, 4])], build: (g, [a]) => g.transpose(a, [2, 0, 1]) }],
  ['Unsqueeze/Squeeze', { inputs: [X('a', [2, 3])], build: (g, [a]) => [g.unsqueeze(a, [0, -1]), g.squeeze(g.unsqueeze(a, [1]), [1])] }],
  ['Expand', { inputs: [X('a', [3, 1])], build: (g, [a]) => g.expand(a, [2, 3, 4]) }],
  ['Concat', { inputs: [X('a', [2, 1]), X('b', [2, 3]), X('c', [2, 2])], build: (g, [a, b, c]) => g.concat([a, b, c], 1) }],
  ['Split (one output unused)', { inputs: [X('a', [5, 2])], build: (g, [a]) => { const [p, , r] = g.split(a, [2, 1, 2], 0); return [p, g.exp(r)]; } }],
  ['Slice with negative start', { inputs: [X('a', [4, 5])], build: (g, [a]) => g.slice(a, [1, -3], [3, 100], [0, 1]) }],
  ['Gather axis 0 (embedding, repeated ids)', {
    inputs: [X('w', [5, 3]), X('ids', [2, 3], { dtype: 'int64', values: [4, 0, 4, 1, 4, 2] })], build: (g, [w, ids]) => g.gather(w, ids),
  }],
  ['Gather axis 1, 2-D indices', {
    inputs: [X('w', [2, 5, 3]), X('ids', [2, 2], { dtype: 'int64', values: [1, 1, 4, -1] })], build: (g, [w, ids]) => g.gather(w, ids, 1),
  }],
  ['Tied embedding: Gather and Gemm(transB) on one table', {
    inputs: [X('w', [5, 3]), X('ids', [4], { dtype: 'int64', values: [1, 3, 1, 0] })], build: (g, [w, ids]) => g.gemm(g.gather(w, ids), w, null, { transB: true }),
  }],
  ['GatherND (masked positions)', {
    inputs: [X('h', [2, 4, 3]), X('ix', [3, 2], { dtype: 'int64', values: [0, 1, 1, 3, 0, 1] })], build: (g, [h, ix]) => g.gatherND(h, ix),
  }],
  ['ReduceSum keepdims 0 and 1', { inputs: [X('a', [2, 3, 4])], build: (g, [a]) => [g.reduceSum(a, [1], false), g.reduceSum(a, [0, 2], true)] }],
  ['ReduceMean axis and all', { inputs: [X('a', [2, 3, 4])], build: (g, [a]) => [g.reduceMean(a, [-1], true), g.reduceMean(a, undefined, false)] }],
  ['ReduceMean opset 17 (axes attribute)', { opset: 17, inputs: [X('a', [2, 3])], build: (g, [a]) => g.reduceMean(a, [1], false) }],
  ['Softmax last axis', { inputs: [X('a', [2, 5])], build: (g, [a]) => g.softmax(a) }],
  ['Softmax axis 1 of 3-D', { inputs: [X('a', [2, 3, 4])], build: (g, [a]) => g.softmax(a, 1) }],
  ['LogSoftmax', { inputs: [X('a', [3, 4])], build: (g, [a]) => g.logSoftmax(a) }],
  ['Where broadcast', {
    inputs: [X('c', [3], { dtype: 'bool', values: [1, 0, 1] }), X('a', [2, 3]), X('b', [1])], build: (g, [c, a, b]) => g.where(c, a, b),
  }],
  ['Tanh GELU op (float64 runs)', { inputs: [X('a', [7])], build: (g, [a]) => g.gelu(a, 'tanh') }],
  ['Tanh GELU composite (opset 17)', { opset: 17, inputs: [X('a', [7])], build: (g, [a]) => g.gelu(a, 'tanh') }],
  ['LayerNormalization float64 (stats recomputed)', {
    inputs: [X('x', [2, 3, 5]), X('s', [5]), X('b', [5])], build: (g, [x, s, b]) => g.layerNorm(x, s, b, { epsilon: 1e-3 }),
  }],
  ['LayerNormalization over the last two axes', {
    inputs: [X('x', [2, 3, 4]), X('s', [3, 4]), X('b', [4])], build: (g, [x, s, b]) => g.layerNorm(x, s, b, { axis: 1 }),
  }],
  ['LayerNorm composite (primitive VJPs)', {
    inputs: [X('x', [3, 6]), X('s', [6]), X('b', [6])],
    build: (g, [x, s, b]) => {
      const xc = g.sub(x, g.reduceMean(x, [-1]));
      const r = g.div(1, g.sqrt(g.add(g.reduceMean(g.mul(xc, xc), [-1]), 1e-5)));
      return g.add(g.mul(g.mul(xc, r), s), b);
    },
  }],
  ['Cast float32 → float64', { dtype: 'float32', inputs: [X('a', [4])], build: (g, [a]) => g.cast(a, 'float64') }],
  ['Soft-target cross-entropy −Σ p·log_softmax(s)', {
    inputs: [X('s', [2, 4]), X('t', [2, 4])],
    build: (g, [s, t]) => g.neg(g.reduceSum(g.mul(g.softmax(t), g.logSoftmax(s)), [-1], false)),
  }],
  // float32-only kernels: loose tolerance (rtol 2e-2, atol 2e-3 with h = 1e-2)
  ['Erf (float32)', { dtype: 'float32', inputs: [X('a', [6])], build: (g, [a]) => g.erf(a) }],
  ['GELU exact op (float32)', { dtype: 'float32', inputs: [X('a', [8], { values: [-3, -1.5, -0.7, -0.1, 0.2, 0.9, 1.6, 2.8] })], build: (g, [a]) => g.gelu(a) }],
  ['GELU exact composite opset 17 (float32)', { dtype: 'float32', opset: 17, inputs: [X('a', [6])], build: (g, [a]) => g.gelu(a) }],
  ['LayerNormalization float32 (node stats reused)', {
    dtype: 'float32', inputs: [X('x', [2, 6]), X('s', [6]), X('b', [6])], build: (g, [x, s, b]) => g.layerNorm(x, s, b),
  }],
];

describe('VJP rules vs central finite differences', () => {
  test.each(cases)('%s', async (_, c) => {
    const r = await checkGradients(c);
    expect(r.maxErr).toBeLessThanOrEqual(1);
    expect(r.analytic.length).toBeGreaterThan(0);
  });
});

describe('gradients()', () => {
  test('an input the loss does not depend on gets zeros; integer paths carry no gradient', async () => {
    const g = new Graph();
    const a = g.input('a', 'float64', [3]);
    const b = g.input('b', 'float64', [2, 2]);
    const loss = g.reduceSum(g.mul(a, g.cast(g.greater(a, 0), 'float64')), undefined, false); // Σ relu-like
    const [da, db] = gradients(g, loss, [a, b]);
    g.output(da, 'da');
    g.output(db, 'db');
    const out = await run(await session(g.toBytes()), {
      a: { dtype: 'float64', shape: [3], data: Float64Array.from([-1, 2, 3]) },
      b: { dtype: 'float64', shape: [2, 2], data: new Float64Array(4) },
    });
    expect(out.da).toEqual([0, 1, 1]);
    expect(out.db).toEqual([0, 0, 0, 0]);
  });

  test('a non-scalar loss needs a seed, which scales the gradient', async () => {
    const g = new Graph();
    const a = g.input('a', 'float64', [2]);
    const y = g.mul(a, a);
    expect(() => gradients(g, y, [a])).toThrow(/needs a seed/);
    const seed = g.input('seed', 'float64', [2]);
    g.output(gradients(g, y, [a], seed)[0], 'da');
    const out = await run(await session(g.toBytes()), {
      a: { dtype: 'float64', shape: [2], data: Float64Array.from([3, -2]) },
      seed: { dtype: 'float64', shape: [2], data: Float64Array.from([1, 10]) },
    });
    expect(out.da).toEqual([6, -40]);
  });

  test('an op without a rule is reported by name', () => {
    const g = new Graph();
    const a = g.input('a', 'float32', [2]);
    const [y] = g.op('Floor', [a], {}, [{ dtype: 'float32', shape: [2] }]);
    expect(() => gradients(g, g.reduceSum(y, undefined, false), [a])).toThrow(/no gradient rule for Floor/);
  });

  test('unbroadcast sums leading and size-1 axes back to the input shape', () => {
    const g = new Graph();
    const d = g.input('d', 'float32', [2, 3, 4]);
    expect(unbroadcast(g, d, [4]).shape).toEqual([4]);
    expect(unbroadcast(g, d, [3, 1]).shape).toEqual([3, 1]);
    expect(unbroadcast(g, d, [2, 3, 4])).toBe(d);
    const v: Value = unbroadcast(g, d, [1, 1, 1]);
    expect(v.shape).toEqual([1, 1, 1]);
  });
});
