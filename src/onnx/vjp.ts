/**
 * Vector-Jacobian products: one rule per op. A rule gets the recorded node, the gradients of its outputs (dy; null
 * where an output got none) and which inputs need a gradient, and emits backward nodes with the same Graph helpers
 * — standard ONNX ops only (onnxruntime-node has none of the com.microsoft *Grad kernels). Rules reuse forward
 * values (outputs, LayerNorm stats, log_prob) instead of recomputing them. Notation: x = inputs, y = outputs,
 * ḡ = gradient; "unbroadcast" sums a gradient back to the shape of an input that was broadcast.
 */
import { constValues, scalarValue, type Graph, type Node, type Value } from './graph.js';
import { sameShape, size, sliceRange, type Shape } from './shape.js';

export interface VjpContext {
  g: Graph;
  node: Node;
  x: ReadonlyArray<Value | null>; // node inputs
  y: readonly Value[]; // node outputs
  dy: ReadonlyArray<Value | null>; // gradients of the outputs
  needs: readonly boolean[]; // which inputs want a gradient
}
/** Input gradients in input order; null/false/undefined where an input gets none. */
export type VjpRule = (c: VjpContext) => ReadonlyArray<Value | null | undefined | false>;

/** Sums `d` over the axes along which an input of `shape` was broadcast, so the gradient gets `shape` back. */
export function unbroadcast(g: Graph, d: Value, shape: Shape): Value {
  if (sameShape(d.shape, shape)) return d;
  const lead = d.rank - shape.length;
  const axes = d.shape.map((_, i) => i).filter((i) => i < lead || (shape[i - lead] === 1 && d.shape[i] !== 1));
  const onlyLeading = axes.every((i) => i < lead);
  const r = g.reduceSum(d, axes, !onlyLeading);
  return g.reshape(r, shape);
}

const dy0 = (c: VjpContext): Value => {
  if (c.dy.slice(1).some((d) => d)) throw new Error(`gradients: ${c.node.opType} is differentiable only through its first output`);
  return c.dy[0]!;
};
const inp = (c: VjpContext, i: number): Value => c.x[i]!;
/** The gradient of a unary elementwise op: ḡx = ḡy · f'(x) with f'(x) given by `deriv`. */
const unary = (deriv: (g: Graph, x: Value, y: Value) => Value): VjpRule => (c) => [c.g.mul(dy0(c), deriv(c.g, inp(c, 0), c.y[0]))];
const reshapeBack: VjpRule = (c) => [c.g.reshape(dy0(c), inp(c, 0).shape)];

/** Axes of a reduction node: from its axes input (ReduceSum, opset ≥ 18) or attribute; all when absent. */
function reduceAxes(n: Node, x: Value): number[] {
  const ax = n.inputs[1] ? constValues(n.inputs[1]) : [...n.ints('axes', [])];
  return (ax.length ? ax : x.shape.map((_, i) => i)).map((a) => (a < 0 ? a + x.rank : a));
}

/** ∂/∂x of a reduction: ḡ broadcast back over the reduced axes (ReduceMean also divides by their size). */
function reduceRule(mean: boolean): VjpRule {
  return (c) => {
    const { g, node } = c;
    const x = inp(c, 0);
    const axes = reduceAxes(node, x);
    let d = dy0(c);
    if (mean) d = g.mul(d, 1 / axes.reduce((n, a) => n * x.shape[a], 1));
    if (node.int('keepdims', 1) === 0) d = g.reshape(d, x.shape.map((s, i) => (axes.includes(i) ? 1 : s)));
    return [g.expand(d, x.shape)];
  };
}

/** The GELU derivatives: exact Φ(x) + x·φ(x); tanh form 0.5(1+t) + 0.5x(1−t²)·√(2/π)(1+3·0.044715x²). */
function geluDerivative(g: Graph, x: Value, approximate: string): Value {
  if (approximate === 'tanh') {
    const x2 = g.mul(x, x);
    const k0 = Math.sqrt(2 / Math.PI);
    const k1 = 0.044715;
    const t = g.tanh(g.mul(x, g.add(g.mul(x2, k0 * k1), k0))); // tanh(√(2/π)(x + k1 x³))
    const du = g.add(g.mul(x2, 3 * k0 * k1), k0); // d/dx of the tanh argument
    const left = g.add(g.mul(t, 0.5), 0.5);
    const right = g.mul(g.mul(x, g.sub(1, g.mul(t, t))), g.mul(du, 0.5));
    return g.add(left, right);
  }
  // Φ(x) + xφ(x) = 0.5·(1 + erf(a) + (2/√π)·a·e^(−a²)) with a = x/√2; the constant rides in the exponent.
  const a = g.mul(x, Math.SQRT1_2);
  const ae = g.mul(a, g.exp(g.sub(Math.log(2 / Math.sqrt(Math.PI)), g.mul(a, a))));
  return g.mul(g.sum([g.erf(a), ae, g.scalar(1, x.dtype)]), 0.5);
}

export const VJP: Record<string, VjpRule> = {
  Identity: (c) => [dy0(c)],
  // y = a ± b: ḡa = ḡ, ḡb = ±ḡ (unbroadcast)
  Add: (c) => [c.needs[0] && unbroadcast(c.g, dy0(c), inp(c, 0).shape), c.needs[1] && unbroadcast(c.g, dy0(c), inp(c, 1).shape)],
  Sub: (c) => [c.needs[0] && unbroadcast(c.g, dy0(c), inp(c, 0).shape), c.needs[1] && c.g.neg(unbroadcast(c.g, dy0(c), inp(c, 1).shape))],
  Sum: (c) => c.x.map((v, i) => c.needs[i] && unbroadcast(c.g, dy0(c), v!.shape)),
  // y = a·b: ḡa = ḡ·b, ḡb = ḡ·a
  Mul: (c) => {
    const [a, b] = [inp(c, 0), inp(c, 1)];
    return [c.needs[0] && unbroadcast(c.g, c.g.mul(dy0(c), b), a.shape), c.needs[1] && unbroadcast(c.g, c.g.mul(dy0(c), a), b.shape)];
  },
  // y = a/b: ḡa = ḡ/b, ḡb = −ḡ·a/b² = −(ḡ/b)·y
  Div: (c) => {
    const { g } = c;
    const q = g.div(dy0(c), inp(c, 1));
    return [c.needs[0] && unbroadcast(g, q, inp(c, 0).shape), c.needs[1] && g.neg(unbroadcast(g, g.mul(q, c.y[0]), inp(c, 1).shape))];
  },
  Neg: (c) => [c.g.neg(dy0(c))],
  // y = aᵖ: ḡa = ḡ·p·aᵖ⁻¹, ḡp = ḡ·y·ln a
  Pow: (c) => {
    const { g } = c;
    const [a, p] = [inp(c, 0), inp(c, 1)];
    const pc = scalarValue(p);
    const da = pc === undefined ? g.mul(p, g.pow(a, g.sub(p, 1)))
      : pc === 2 ? g.mul(a, 2) : g.mul(g.pow(a, pc - 1), pc);
    return [c.needs[0] && unbroadcast(g, g.mul(dy0(c), da), a.shape),
      c.needs[1] && unbroadcast(g, g.mul(dy0(c), g.mul(c.y[0], g.log(a))), p.shape)];
  },
  Exp: unary((g, x, y) => y), // (eˣ)' = eˣ = y
  Log: (c) => [c.g.div(dy0(c), inp(c, 0))], // (ln x)' = 1/x
  Sqrt: (c) => [c.g.div(c.g.mul(dy0(c), 0.5), c.y[0])], // (√x)' = 1/(2√x)
  Reciprocal: (c) => [c.g.neg(c.g.mul(dy0(c), c.g.mul(c.y[0], c.y[0])))], // (1/x)' = −y²
  Tanh: unary((g, x, y) => g.sub(1, g.mul(y, y))), // 1 − tanh²
  Sigmoid: unary((g, x, y) => g.mul(y, g.sub(1, y))), // σ(1 − σ)
  Relu: (c) => [c.g.where(c.g.greater(inp(c, 0), 0), dy0(c), 0)],
  Erf: unary((g, x) => g.mul(g.exp(g.neg(g.mul(x, x))), 2 / Math.sqrt(Math.PI))), // erf'(x) = 2/√π·e^(−x²)
  Gelu: (c) => [c.g.mul(dy0(c), geluDerivative(c.g, inp(c, 0), c.node.str('approximate', 'none')))],
  Cast: (c) => [c.g.cast(dy0(c), inp(c, 0).dtype)],
  // y = cond ? a : b: the gradient goes to the branch that was picked
  Where: (c) => {
    const { g } = c;
    const [cond, a, b] = [inp(c, 0), inp(c, 1), inp(c, 2)];
    return [null, c.needs[1] && unbroadcast(g, g.where(cond, dy0(c), 0), a.shape),
      c.needs[2] && unbroadcast(g, g.where(cond, 0, dy0(c)), b.shape)];
  },

  // Y = A·B: ḡA = ḡ·Bᵀ, ḡB = Aᵀ·ḡ. A weight B [k,n] (a Linear layer) takes Gemm with trans flags on 2-D views:
  // no Transpose node, and ḡB sums over the batch inside one Gemm.
  MatMul: (c) => {
    const { g } = c;
    const [a, b] = [inp(c, 0), inp(c, 1)];
    const dy = dy0(c);
    if (b.rank === 2) {
      const [k, n] = b.shape;
      const dy2 = g.reshape(dy, [-1, n]);
      return [c.needs[0] && g.reshape(g.gemm(dy2, b, null, { transB: true }), a.shape),
        c.needs[1] && g.gemm(g.reshape(a, [-1, k]), dy2, null, { transA: true })];
    }
    return [c.needs[0] && unbroadcast(g, g.matmul(dy, g.transposeLast2(b)), a.shape),
      c.needs[1] && unbroadcast(g, g.matmul(g.transposeLast2(a), dy), b.shape)];
  },
  // Y = α·op(A)·op(B) + β·C, op = transpose when trans*: each case is again one Gemm with other trans flags.
  Gemm: (c) => {
    const { g, node } = c;
    const [a, b, cc] = [inp(c, 0), inp(c, 1), c.x[2]];
    const dy = dy0(c);
    const alpha = node.float('alpha', 1);
    const tA = node.int('transA', 0) === 1;
    const tB = node.int('transB', 0) === 1;
    const dA = !tA ? g.gemm(dy, b, null, { transB: !tB, alpha }) // α·ḡ·op(B)ᵀ
      : g.gemm(b, dy, null, { transA: tB, transB: true, alpha }); // (α·ḡ·op(B)ᵀ)ᵀ = α·op(B)·ḡᵀ
    const dB = () => (!tB ? g.gemm(a, dy, null, { transA: !tA, alpha }) // α·op(A)ᵀ·ḡ
      : g.gemm(dy, a, null, { transA: true, transB: tA, alpha })); // α·ḡᵀ·op(A)
    return [c.needs[0] && dA, c.needs[1] && dB(), c.needs[2] && unbroadcast(g, g.mul(dy, node.float('beta', 1)), cc!.shape)];
  },

  Reshape: reshapeBack,
  Squeeze: reshapeBack,
  Unsqueeze: reshapeBack,
  Flatten: reshapeBack,
  Transpose: (c) => {
    const perm = c.node.ints('perm');
    const inv = perm.map((_, i) => perm.indexOf(i));
    return [c.g.transpose(dy0(c), inv)];
  },
  Expand: (c) => [unbroadcast(c.g, dy0(c), inp(c, 0).shape)],
  Concat: (c) => {
    const axis = c.node.int('axis');
    return c.g.split(dy0(c), c.x.map((v) => v!.shape[axis]), axis);
  },
  Split: (c) => {
    const { g } = c;
    return [g.concat(c.y.map((y, i) => c.dy[i] ?? g.zeros(y.shape, y.dtype)), c.node.int('axis', 0))];
  },
  // Step-1 slice: the gradient is ḡ padded with zeros back to the input's extent.
  Slice: (c) => {
    const { g } = c;
    const x = inp(c, 0);
    const [starts, ends] = [constValues(inp(c, 1)), constValues(inp(c, 2))];
    const axes = c.x[3] ? constValues(c.x[3]) : starts.map((_, i) => i);
    if (c.x[4] && constValues(c.x[4]).some((s) => s !== 1)) throw new Error('gradients: Slice with steps ≠ 1');
    const pads = new Array<number>(2 * x.rank).fill(0);
    axes.forEach((a0, i) => {
      const a = a0 < 0 ? a0 + x.rank : a0;
      const [s, e] = sliceRange(x.shape[a], starts[i], ends[i]);
      pads[a] = s;
      pads[x.rank + a] = x.shape[a] - e;
    });
    return [g.op('Pad', [dy0(c), g.ints(pads)], {}, [{ dtype: x.dtype, shape: x.shape }])[0]];
  },
  // Embedding lookup: ḡtable = zeros with ḡ's rows added at ids (scatterAddRows) — repeated ids accumulate; a small
  // table takes one Gemm with a one-hot matrix instead (oneHotRows).
  // Another axis is moved to the front first, and the result moved back.
  Gather: (c) => {
    const { g } = c;
    const [x, idx] = [inp(c, 0), inp(c, 1)];
    const a = c.node.int('axis', 0);
    const r = idx.rank;
    let dy = dy0(c);
    let shape: Shape = x.shape;
    const front = [a, ...x.shape.map((_, i) => i).filter((i) => i !== a)]; // x axes with `a` first
    if (a !== 0) {
      dy = g.transpose(dy, [...Array.from({ length: r }, (_, i) => a + i), ...Array.from({ length: a }, (_, i) => i),
        ...Array.from({ length: x.rank - a - 1 }, (_, i) => a + r + i)]);
      shape = front.map((i) => x.shape[i]);
    }
    const scattered = shape[0] <= SMALL_TABLE_ROWS ? oneHotRows(g, shape, idx, dy)
      : scatterAddRows(g, g.zeros(shape, x.dtype), idx, dy);
    return [a === 0 ? scattered : g.transpose(scattered, front.map((_, i) => front.indexOf(i)))];
  },
  GatherND: (c) => {
    if (c.node.int('batch_dims', 0) !== 0) throw new Error('gradients: GatherND with batch_dims ≠ 0');
    const { g } = c;
    const [x, idx] = [inp(c, 0), inp(c, 1)];
    // indices [..., k] address the first k axes: turn them into flat row numbers of x seen as [d0·…·dk-1, rest]
    const k = idx.shape[idx.rank - 1];
    const strides = x.shape.slice(0, k).map((_, j) => size(x.shape.slice(j + 1, k)));
    const rows = g.reduceSum(g.mul(idx, g.constant('int64', [k], strides)), [-1], false);
    const table = g.zeros([size(x.shape.slice(0, k)), ...x.shape.slice(k)], x.dtype);
    return [g.reshape(scatterAddRows(g, table, rows, dy0(c)), x.shape)];
  },

  ReduceSum: reduceRule(false),
  ReduceMean: reduceRule(true),
  // y = softmax(x): ḡx = y ⊙ (ḡ − Σ(ḡ ⊙ y)) along the axis
  Softmax: (c) => {
    const { g } = c;
    const y = c.y[0];
    const dy = dy0(c);
    const axis = c.node.int('axis', -1);
    return [g.mul(y, g.sub(dy, g.reduceSum(g.mul(dy, y), [axis], true)))];
  },
  // y = log softmax(x): ḡx = ḡ − eʸ·Σḡ along the axis
  LogSoftmax: (c) => {
    const { g } = c;
    const dy = dy0(c);
    return [g.sub(dy, g.mul(g.exp(c.y[0]), g.reduceSum(dy, [c.node.int('axis', -1)], true)))];
  },
  // x̂ = (x − μ)·r with r = 1/√(σ² + ε), y = x̂·γ + β over the normalized axes (size N):
  // ḡx = r·(ḡx̂ − mean(ḡx̂) − x̂·mean(ḡx̂·x̂)) with ḡx̂ = ḡ·γ;  ḡγ = Σ ḡ·x̂;  ḡβ = Σ ḡ. 12 passes over [N, k]:
  // ḡ·x̂ is shared by ḡγ and mean(ḡx̂·x̂), and both row means are MatMuls against γ/k.
  // float32 reuses the node's Mean/InvStdDev; float64 recomputes them (ORT's stats are float32 only).
  LayerNormalization: (c) => {
    const { g, node } = c;
    const [x, scale, bias] = [inp(c, 0), inp(c, 1), c.x[2]];
    const dy = dy0(c);
    const axis = node.int('axis', -1);
    const axes = x.shape.map((_, i) => i).slice(axis < 0 ? axis + x.rank : axis);
    let xhat: Value;
    let r: Value;
    if (x.dtype === 'float32') {
      r = c.y[2];
      xhat = g.mul(g.sub(x, c.y[1]), r);
    } else {
      const xc = g.sub(x, g.reduceMean(x, axes, true));
      r = g.reciprocal(g.sqrt(g.add(g.reduceMean(g.mul(xc, xc), axes, true), node.float('epsilon', 1e-5))));
      xhat = g.mul(xc, r);
    }
    const dyXhat = c.needs[0] || c.needs[1] ? g.mul(dy, xhat) : null; // shared by ḡγ and mean(ḡx̂·x̂) = mean(ḡ·x̂·γ)
    let dx: Value | null = null;
    if (c.needs[0]) {
      const dxhat = g.mul(dy, scale);
      const k = size(x.shape.slice(axes[0]));
      // Row means of u·γ: one MatMul of rows [·, k] with γ/k (one read of u, no [N, k] product written), when γ
      // spans the normalized axes; else the plain ReduceMean of the product.
      const meanTimesScale = size(scale.shape) === k
        ? (u: Value) => g.reshape(g.matmul(g.reshape(u, [-1, k]), g.reshape(g.mul(scale, 1 / k), [k, 1])), leadingDynamic(r.shape))
        : (u: Value) => g.reduceMean(g.mul(u, scale), axes, true);
      const inner = g.sub(dxhat, g.add(g.mul(xhat, meanTimesScale(dyXhat!)), meanTimesScale(dy)));
      dx = g.mul(inner, r);
    }
    return [dx, c.needs[1] && unbroadcast(g, dyXhat!, scale.shape), c.needs[2] && unbroadcast(g, dy, bias!.shape)];
  },
};

/**
 * A reshape target with the leading dim left to the runtime (−1), so that the rule also holds where that dim is
 * symbolic: the masked-LM head's row count (heads/mlm.ts MASKED_SLOTS), fixed only at run time.
 */
const leadingDynamic = (shape: Shape): number[] => [-1, ...shape.slice(1)];

/**
 * A table with at most this many rows (token types, say) gets its Gather gradient from one Gemm with a one-hot
 * matrix, because ScatterElements adds its B·T [H]-rows into those few rows one at a time.
 */
const SMALL_TABLE_ROWS = 16;

/** ḡtable [R, ...rest] = onehot(ids)ᵀ · ḡrows, as Equal(ids, 0..R−1) → Cast → Gemm(transA); negative ids wrap. */
function oneHotRows(g: Graph, shape: Shape, ids: Value, updates: Value): Value {
  const R = shape[0];
  const flat = g.reshape(ids, [-1, 1]);
  const wrapped = g.where(g.less(flat, 0), g.add(flat, R), flat);
  const hot = g.cast(g.equal(wrapped, g.constant('int64', [1, R], Array.from({ length: R }, (_, i) => i))), updates.dtype); // [n, R]
  const d = g.gemm(hot, g.reshape(updates, [-1, size(shape.slice(1))]), null, { transA: true }); // [R, cols]
  return g.reshape(d, shape);
}

/**
 * Row scatter-add: data [R, ...rest] with updates[i] ([...rest]) added to row ids[i] for every index i of `ids`
 * (int64, any shape; updates is [...ids.shape, ...rest]); repeated ids accumulate.
 * Written as ScatterElements(axis 0) with the ids broadcast along each row, NOT ScatterND: onnxruntime's CPU
 * ScatterND with reduction='add' runs chunks of indices on several threads and loses updates when ids repeat
 * (the regression test in test/unit/onnx shows it), while ScatterElements applies them in order.
 */
export function scatterAddRows(g: Graph, data: Value, ids: Value, updates: Value): Value {
  const cols = size(data.shape.slice(1));
  const table = g.reshape(data, [data.shape[0], cols]);
  const index = g.expand(g.reshape(ids, [-1, 1]), [1, cols]);
  const out = g.op('ScatterElements', [table, index, g.reshape(updates, [-1, cols])], { axis: 0, reduction: 'add' },
    [{ dtype: data.dtype, shape: table.shape }])[0];
  return g.reshape(out, data.shape);
}
