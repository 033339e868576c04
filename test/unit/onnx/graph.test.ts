/**
 * Graph builder: static shape inference, shape errors, constant folding and trivial-op skipping, and the lean
 * shape of emitted backward graphs (no Transpose for Linear layers, none doubled for attention).
 */
import { Graph, constValues, type Value } from '../../../src/onnx/graph.js';
import { gradients } from '../../../src/onnx/autodiff.js';
import { run, session } from './gradcheck.js';
import { InferenceSession, Tensor } from 'onnxruntime-node';

const opsOf = (g: Graph, from = 0) => g.nodes.slice(from).map((n) => n.opType);

describe('shape inference', () => {
  const g = new Graph();
  const x = g.input('x', 'float32', [2, 3, 4]);
  test.each<[string, () => Value, number[]]>([
    ['add broadcast', () => g.add(x, g.input('b1', 'float32', [3, 1])), [2, 3, 4]],
    ['matmul batch broadcast', () => g.matmul(g.input('a2', 'float32', [5, 1, 3, 4]), g.input('b2', 'float32', [2, 4, 6])), [5, 2, 3, 6]],
    ['reshape 0 / -1', () => g.reshape(x, [0, -1]), [2, 12]],
    ['transpose', () => g.transpose(x, [2, 0, 1]), [4, 2, 3]],
    ['gather axis 1', () => g.gather(x, g.input('i3', 'int64', [5, 6]), 1), [2, 5, 6, 4]],
    ['gatherND', () => g.gatherND(x, g.input('i4', 'int64', [7, 2])), [7, 4]],
    ['slice clamps', () => g.slice(x, [-2, 1], [100, -1], [1, 2]), [2, 2, 2]],
    ['concat', () => g.concat([x, x], -1), [2, 3, 8]],
    ['unsqueeze', () => g.unsqueeze(x, [0, -1]), [1, 2, 3, 4, 1]],
    ['reduceSum keepdims', () => g.reduceSum(x, [1]), [2, 1, 4]],
    ['reduceMean all', () => g.reduceMean(x, undefined, false), []],
    ['gemm transA transB', () => g.gemm(g.input('a5', 'float32', [4, 3]), g.input('b5', 'float32', [6, 4]), null, { transA: true, transB: true }), [3, 6]],
  ])('%s', (_, f, shape) => expect(f().shape).toEqual(shape));

  test('split and layerNorm stats', () => {
    expect(g.split(x, [1, 2], 1).map((v) => v.shape)).toEqual([[2, 1, 4], [2, 2, 4]]);
    const y = g.layerNorm(x, g.input('s7', 'float32', [4]), null);
    expect(y.producer!.outputs.map((v) => [v.dtype, v.shape])).toEqual([['float32', [2, 3, 4]], ['float32', [2, 3, 1]], ['float32', [2, 3, 1]]]);
  });

  test('shape errors name the op and the shapes', () => {
    const a = g.input('a8', 'float32', [3, 4]);
    expect(() => g.matmul(a, a)).toThrow('MatMul: inner dims differ: [3,4] @ [3,4]');
    expect(() => g.add(x, g.input('b8', 'float32', [3, 5]))).toThrow('Add: shapes [2,3,4] and [3,5] do not broadcast');
    expect(() => g.reshape(x, [5, -1])).toThrow(/Reshape: cannot infer -1/);
    expect(() => g.squeeze(x, [0])).toThrow(/Squeeze: axis 0 of \[2,3,4\] is not 1/);
    expect(() => g.input('x', 'float32', [1])).toThrow(/already used/);
    expect(() => g.add(x, g.input('i9', 'int64', [1]))).toThrow(/dtypes differ/);
    expect(() => new Graph({ opset: 13 })).toThrow(/opset 13 unsupported/);
  });
});

describe('folding and trivial ops', () => {
  test('ops on constants are computed while building', () => {
    const g = new Graph();
    const c = g.mul(g.constant('float64', [2], [2, 3]), g.constant('float64', [2, 1], [10, -1]));
    expect(c.kind).toBe('const');
    expect(constValues(c)).toEqual([20, 30, -2, -3]);
    expect(constValues(g.reshape(g.ints([1, 2, 3, 4]), [2, 2]))).toEqual([1, 2, 3, 4]);
    expect(constValues(g.expand(g.constant('float32', [2, 1], [1, 2]), [2, 3]))).toEqual([1, 1, 1, 2, 2, 2]);
    expect(g.scalar(1)).toBe(g.scalar(1)); // small constants are shared
    expect(g.nodes).toHaveLength(0);
  });

  test('x·1, x+0, x/1, same-shape reshape, transpose of transpose, cast to own dtype are skipped', () => {
    const g = new Graph();
    const x = g.input('x', 'float32', [2, 3]);
    expect(g.mul(x, 1)).toBe(x);
    expect(g.mul(g.scalar(1), x)).toBe(x);
    expect(g.add(0, x)).toBe(x);
    expect(g.div(x, 1)).toBe(x);
    expect(g.reshape(x, [2, -1])).toBe(x);
    expect(g.transpose(g.transpose(x))).toBe(x);
    expect(g.cast(x, 'float32')).toBe(x);
    expect(g.reshape(g.reshape(x, [6]), [3, 2]).producer!.inputs[0]).toBe(x);
    expect(g.mul(x, g.constant('float32', [2, 1], [1, 1])).shape).toEqual([2, 3]); // not scalar: kept
    expect(opsOf(g)).toEqual(['Transpose', 'Reshape', 'Reshape', 'Mul']);
  });

  test('a folded graph still computes the same thing', async () => {
    const g = new Graph();
    const x = g.input('x', 'float32', [3]);
    g.output(g.add(x, g.mul(g.sqrt(g.scalar(16)), g.constant('float32', [3], [1, 2, 3]))), 'y');
    expect(opsOf(g)).toEqual(['Add']);
    const out = await run(await session(g.toBytes()), { x: { dtype: 'float32', shape: [3], data: Float32Array.from([1, 1, 1]) } });
    expect(out.y).toEqual([5, 9, 13]);
  });
});

describe('lean backward graphs', () => {
  test('a Linear layer on [B,T,K] takes two Gemms, no Transpose', () => {
    const g = new Graph();
    const x = g.input('x', 'float32', [2, 5, 4]);
    const w = g.param('w', [4, 3]);
    const b = g.param('b', [3]);
    const y = g.add(g.matmul(x, w), b);
    const start = g.nodes.length;
    gradients(g, g.reduceSum(y, undefined, false), [x, w, b]);
    const ops = opsOf(g, start);
    expect(ops.filter((o) => o === 'Gemm')).toHaveLength(2);
    expect(ops).not.toContain('Transpose');
  });

  test('attention q·kᵀ: ∂q multiplies by k directly (kᵀᵀ is folded away)', () => {
    const g = new Graph();
    const q = g.input('q', 'float32', [2, 3, 4]);
    const k = g.input('k', 'float32', [2, 3, 4]);
    const s = g.matmul(q, g.transposeLast2(k));
    const start = g.nodes.length;
    const [dq] = gradients(g, g.reduceSum(s, undefined, false), [q]);
    expect(dq.producer!.opType).toBe('MatMul');
    expect(dq.producer!.inputs[1]).toBe(k);
    expect(opsOf(g, start)).not.toContain('Transpose');
  });

  test('LayerNorm stats are written only when the backward pass reads them', () => {
    const build = (train: boolean) => {
      const g = new Graph();
      const x = g.input('x', 'float32', [2, 4]);
      const s = g.param('s', [4]);
      const y = g.layerNorm(x, s, g.param('b', [4]));
      g.output(y, 'y');
      if (train) g.output(gradients(g, g.reduceSum(g.mul(y, y), undefined, false), [s])[0], 'ds');
      return Buffer.from(g.toBytes());
    };
    expect(build(false).includes('LayerNormalization_')).toBe(false); // only Y: the stats have auto names
    expect(build(true).includes('LayerNormalization_')).toBe(true);
  });

  test('opset 17 writes GELU as Erf ops; opset 20 as one Gelu node', () => {
    for (const [opset, op] of [[17, 'Erf'], [20, 'Gelu']] as const) {
      const g = new Graph({ opset });
      g.gelu(g.input('x', 'float32', [2]));
      expect(opsOf(g)).toContain(op);
      expect(opsOf(g).includes('Gelu')).toBe(opset === 20);
    }
  });
});

describe('the usage example at the top of graph.ts', () => {
  test('runs as a training graph and, with embedded weights, as an inference graph', async () => {
    const g = new Graph();
    const x = g.input('x', 'float32', [8, 16]);
    const w = g.param('dense.weight', [16, 4]);
    const b = g.param('dense.bias', [4]);
    const y = g.gelu(g.add(g.matmul(x, w), b));
    const loss = g.reduceMean(g.mul(y, y), undefined, false);
    const [dw, db] = gradients(g, loss, [w, b]);
    g.output(loss, 'loss'); g.output(dw, 'grad.dense.weight'); g.output(db, 'grad.dense.bias'); g.output(y, 'y');
    const w32 = Float32Array.from({ length: 64 }, (_, i) => Math.cos(i) / 4);
    const b32 = Float32Array.from([0.1, -0.2, 0.3, 0]);
    const x32 = Float32Array.from({ length: 128 }, (_, i) => Math.sin(i));
    expect(g.params.map((p) => p.name)).toEqual(['dense.weight', 'dense.bias']);
    const train = await run(await session(g.toBytes()), {
      x: { dtype: 'float32', shape: [8, 16], data: x32 },
      'dense.weight': { dtype: 'float32', shape: [16, 4], data: w32 },
      'dense.bias': { dtype: 'float32', shape: [4], data: b32 },
    });
    const infer = await run(await session(g.toBytes({ outputs: ['y'], weights: new Map([['dense.weight', w32], ['dense.bias', b32]]) })),
      { x: { dtype: 'float32', shape: [8, 16], data: x32 } });
    expect(Object.keys(infer)).toEqual(['y']);
    expect(infer.y).toEqual(train.y);
    expect(train['grad.dense.weight']).toHaveLength(64);
    expect(train.loss[0]).toBeCloseTo(train.y.reduce((a, v) => a + v * v, 0) / 32, 5);
  });
});

describe('tied embeddings', () => {
  test('the embedding scatter adds into the decoder gradient instead of a zero table', () => {
    const g = new Graph();
    const emb = g.param('emb', [50, 4]);
    const ids = g.input('ids', 'int64', [6]);
    const h = g.gather(emb, ids); // [6, 4]
    const logits = g.gemm(h, emb, null, { transB: true }); // [6, 50]
    const [d] = gradients(g, g.reduceSum(logits, undefined, false), [emb]);
    expect(d.producer!.opType).toBe('ScatterElements');
    expect(d.producer!.inputs[0]!.producer!.opType).toBe('Gemm');
  });

  test('repeated ids accumulate exactly with several threads (ORT ScatterND add races; we must not use it)', async () => {
    const g = new Graph();
    const emb = g.param('emb', [4, 64]);
    const ids = g.input('ids', 'int64', [4096]);
    const [d] = gradients(g, g.reduceSum(g.gather(emb, ids), undefined, false), [emb]);
    g.output(d, 'grad');
    const session = await InferenceSession.create(g.toBytes(), { intraOpNumThreads: 2 });
    const feeds = {
      emb: new Tensor('float32', new Float32Array(256), [4, 64]),
      ids: new Tensor('int64', new BigInt64Array(4096).fill(1n), [4096]),
    };
    for (let run = 0; run < 3; run++) {
      const grad = (await session.run(feeds)).grad.data as Float32Array;
      expect(Array.from(grad.subarray(64, 128))).toEqual(new Array(64).fill(4096));
      expect(grad[0]).toBe(0);
    }
  });
});

describe('mayWriteInto (in-place state updates)', () => {
  test('true when every reader of the input is an ancestor of the producer, or the producer itself elementwise', () => {
    const g = new Graph();
    const w = g.param('w', [3, 3]);
    const x = g.input('x', 'float32', [3, 3]);
    const loss = g.output(g.reduceSum(g.matmul(x, w), undefined, false), 'loss'); // reads w; the update waits for it
    const next = g.output(g.sub(w, g.mul(x, loss)), 'new.w');
    expect(g.mayWriteInto(w, next)).toBe(true);
  });

  test('false when a node ORT could fuse into the producer reads the input other than elementwise', () => {
    const g = new Graph();
    const w = g.param('w', [3, 3]);
    const x = g.input('x', 'float32', [3, 3]);
    const next = g.output(g.add(g.matmul(x, w), x), 'new.w'); // MatMul + Add: one Gemm reading w as it writes
    expect(g.mayWriteInto(w, next)).toBe(false);
    const h = new Graph();
    const v = h.param('v', [3, 3]);
    const y = h.input('y', 'float32', [3, 3]);
    const product = h.matmul(y, v);
    h.output(product, 'product'); // a second consumer: the MatMul cannot be fused into the Add
    expect(h.mayWriteInto(v, h.output(h.add(product, v), 'new.v'))).toBe(true);
  });

  test('false when a reader of the input may run after the write, or the producer is not elementwise', () => {
    const g = new Graph();
    const w = g.param('w', [3, 3]);
    const x = g.input('x', 'float32', [3, 3]);
    g.output(g.matmul(x, w), 'y'); // nothing orders this read before new.w's write
    const next = g.output(g.sub(w, x), 'new.w');
    expect(g.mayWriteInto(w, next)).toBe(false);
    const h = new Graph();
    const v = h.param('v', [3, 3]);
    const vv = h.output(h.matmul(v, v), 'new.v'); // a MatMul reads rows of v after it wrote others
    expect(h.mayWriteInto(v, vv)).toBe(false);
  });
});
