/**
 * Graph builder: records ONNX ops with STATIC shapes and dtypes, in order (the order is the autodiff tape), and
 * serializes them to an ONNX model (proto.ts). Typed helpers infer each output's shape with numpy broadcasting and
 * ONNX rules, so shape bugs fail while building, with the op and shapes in the message.
 *
 *   import { Graph } from './graph.js';
 *   import { gradients } from './autodiff.js';
 *   const g = new Graph();                                  // opset 20 (Gelu); 17–19 work, Gelu then composite
 *   const x = g.input('x', 'float32', [8, 16]);             // fed every run
 *   const w = g.param('dense.weight', [16, 4]);             // trainable, float32 by default
 *   const b = g.param('dense.bias', [4]);
 *   const y = g.gelu(g.add(g.matmul(x, w), b));
 *   const loss = g.reduceMean(g.mul(y, y), undefined, false); // scalar: mean over all axes
 *   const [dw, db] = gradients(g, loss, [w, b]);            // backward nodes, standard ONNX ops only
 *   g.output(loss, 'loss'); g.output(dw, 'grad.dense.weight'); g.output(db, 'grad.dense.bias'); g.output(y, 'y');
 *   const train = g.toBytes();                              // params are graph inputs, fed with the data
 *   const infer = g.toBytes({ outputs: ['y'], weights: new Map([['dense.weight', w32], ['dense.bias', b32]]) });
 *   const session = await InferenceSession.create(train);   // onnxruntime-node
 *
 * Helpers (all return Values with inferred static shapes): sources input/param/constant/scalar/ints/zeros;
 * elementwise add/sub/mul/div/pow/max/min/sum/neg/exp/log/sqrt/reciprocal/tanh/erf/sigmoid/relu/gelu/cast/where/
 * equal/less/greater/and/not; matmul/gemm; reshape/transpose/
 * transposeLast2/unsqueeze/squeeze/expand/concat/split/slice/gather/gatherND; reduceSum/reduceMean/reduceMax;
 * softmax/logSoftmax/layerNorm. `g.params` lists the trainable params.
 *
 * Rules of the road:
 * - Shapes are static. For an inference graph with dynamic batch/sequence, label dims at serialization
 *   (`g.input(name, dtype, [2, 8], { dims: ['batch', 'sequence'] })`, same for `output`) and keep every op
 *   shape-agnostic: `reshape` with 0 (copy dim) / -1 (infer), no shape-specific constants.
 * - Numbers passed where a Value is expected become scalar constants of the other operand's dtype.
 * - Constants become initializers (small ones deduplicated); ops whose inputs are all small constants are folded
 *   here; trivial ops (x·1, x+0, reshape to the same shape, transpose of a transpose) are skipped.
 * - `toBytes` keeps only the nodes that the requested outputs need (dead-node elimination); every declared input
 *   and (without `weights`) every param stays a graph input so the feed interface is stable.
 * - `g.op(...)` records any ONNX op with explicit output types (no gradient unless vjp.ts has a rule for it).
 * - ORT has no float64 kernels for Erf/Gelu(exact); LayerNormalization runs in float64 but returns float32 stats.
 */
import { DATA_TYPE, encodeModel, type AttrSpec, type DType, type NodeSpec, type TensorSpec, type ValueInfoSpec } from './proto.js';
import { axisOf, broadcast, fmt, matmulShape, reshapeShape, sameShape, size, sliceRange, type Shape } from './shape.js';

export type { DType } from './proto.js';
export type { Shape } from './shape.js';
export type TensorData = Float32Array | Float64Array | BigInt64Array | Int32Array | Uint8Array | Int8Array;
export type Operand = Value | number;

const ARRAY = {
  float32: Float32Array, float64: Float64Array, int64: BigInt64Array, int32: Int32Array,
  uint8: Uint8Array, int8: Int8Array, bool: Uint8Array,
} as const;
export const isFloat = (t: DType): boolean => t === 'float32' || t === 'float64';

/** Typed array of a dtype from plain numbers (int64 → BigInt64Array, bool → Uint8Array of 0/1). */
export function toTypedArray(dtype: DType, values: ArrayLike<number>): TensorData {
  if (dtype === 'int64') return BigInt64Array.from(Array.from(values, (v) => BigInt(Math.trunc(v))));
  return ARRAY[dtype].from(values as ArrayLike<number>);
}

/** Attribute values for `g.op`: a number is an INT (floats must be wrapped with `float()`), a string a STRING. */
export type AttrInput = number | string | readonly number[] | AttrSpec;
export const float = (value: number): AttrSpec => ({ kind: 'float', value });
export const floats = (value: readonly number[]): AttrSpec => ({ kind: 'floats', value });
export const tensorAttr = (dtype: DType, dims: Shape, values: ArrayLike<number>): AttrSpec =>
  ({ kind: 'tensor', value: { dtype, dims, raw: bytesOf(toTypedArray(dtype, values)) } });

function attrSpec(name: string, a: AttrInput): AttrSpec {
  if (typeof a === 'string') return { kind: 'string', value: a };
  if (typeof a === 'number') {
    if (!Number.isInteger(a)) throw new Error(`attribute ${name}=${a}: wrap float attributes with float()`);
    return { kind: 'int', value: a };
  }
  if (Array.isArray(a)) {
    if (!a.every(Number.isInteger)) throw new Error(`attribute ${name}: wrap float lists with floats()`);
    return { kind: 'ints', value: a };
  }
  return a as AttrSpec;
}

export type ValueKind = 'input' | 'param' | 'const' | 'node';

/** A tensor in the graph: a graph input, a trainable parameter, a constant, or a node output. */
export class Value {
  /** Set for inputs, params and outputs; other values get automatic names when serialized. */
  name?: string;
  /** Symbolic dims (e.g. 'batch') written for this value when it is a graph input or output. */
  dims?: ReadonlyArray<number | string>;
  constructor(
    readonly id: number,
    readonly dtype: DType,
    readonly shape: Shape,
    readonly kind: ValueKind,
    readonly producer: Node | null = null,
    readonly index = 0,
    readonly data?: TensorData, // constants only
  ) {}
  get rank(): number { return this.shape.length; }
  get size(): number { return size(this.shape); }
}

/** One recorded op. Attribute getters return the ONNX default when the attribute is absent. */
export class Node {
  outputs: Value[] = [];
  constructor(
    readonly opType: string,
    readonly inputs: ReadonlyArray<Value | null>,
    readonly attrs: ReadonlyMap<string, AttrSpec>,
    readonly domain = '',
  ) {}
  int(name: string, dflt?: number): number { return this.attr(name, 'int', dflt) as number; }
  float(name: string, dflt?: number): number { return this.attr(name, 'float', dflt) as number; }
  str(name: string, dflt?: string): string { return this.attr(name, 'string', dflt) as string; }
  ints(name: string, dflt?: readonly number[]): readonly number[] { return this.attr(name, 'ints', dflt) as number[]; }
  private attr(name: string, kind: AttrSpec['kind'], dflt: unknown): unknown {
    const a = this.attrs.get(name);
    if (a && a.kind !== kind) throw new Error(`${this.opType}.${name}: expected ${kind} attribute, got ${a.kind}`);
    if (a) return a.value;
    if (dflt === undefined) throw new Error(`${this.opType}: missing attribute ${name}`);
    return dflt;
  }
}

export interface GraphOptions { opset?: number; name?: string }
export interface SerializeOptions {
  /** Embed params as initializers, from these arrays (by param name). Without it params are graph inputs. */
  weights?: ReadonlyMap<string, TensorData> | ((name: string) => TensorData | undefined);
  /** Names of the declared outputs to keep (default: all); nodes only they don't need are dropped. */
  outputs?: readonly string[];
  irVersion?: number;
}

const FOLD_LIMIT = 4096; // elements: constants up to this size are folded in JS

export class Graph {
  readonly opset: number;
  readonly name: string;
  readonly nodes: Node[] = [];
  readonly inputs: Value[] = []; // graph inputs and params, in declaration order
  readonly outputs: Value[] = [];
  private nextId = 0;
  private names = new Set<string>();
  private constCache = new Map<string, Value>();
  private consumers?: { size: number; counts: Map<Value, number> };

  constructor(opts: GraphOptions = {}) {
    this.opset = opts.opset ?? 20;
    this.name = opts.name ?? 'compactlm';
    if (this.opset < 17 || this.opset > 21) throw new Error(`Graph: opset ${this.opset} unsupported (17–21)`);
  }

  get params(): Value[] { return this.inputs.filter((v) => v.kind === 'param'); }

  // ---- sources -------------------------------------------------------------------------------------------------

  /** A graph input fed at run time; `dims` labels dynamic dims for serialization, e.g. ['batch', 'sequence']. */
  input(name: string, dtype: DType, shape: Shape, opts: { dims?: ReadonlyArray<number | string> } = {}): Value {
    return this.source(name, dtype, shape, 'input', opts.dims);
  }

  /** A trainable parameter: a graph input for training graphs, an initializer when `toBytes({weights})`. */
  param(name: string, shape: Shape, dtype: DType = 'float32'): Value {
    return this.source(name, dtype, shape, 'param');
  }

  private source(name: string, dtype: DType, shape: Shape, kind: ValueKind, dims?: ReadonlyArray<number | string>): Value {
    this.claim(name);
    if (dims && dims.length !== shape.length) throw new Error(`input ${name}: dims ${dims} do not match shape ${fmt(shape)}`);
    const v = new Value(this.nextId++, dtype, [...shape], kind);
    v.name = name;
    v.dims = dims;
    this.inputs.push(v);
    return v;
  }

  private claim(name: string): void {
    if (!name || this.names.has(name)) throw new Error(`Graph: name "${name}" is empty or already used`);
    this.names.add(name);
  }

  /** A constant tensor (an initializer). Small constants with equal contents are shared. */
  constant(dtype: DType, shape: Shape, values: ArrayLike<number> | TensorData): Value {
    const data = values instanceof ARRAY[dtype] ? (values as TensorData) : toTypedArray(dtype, values as ArrayLike<number>);
    if (data.length !== size(shape)) throw new Error(`constant: ${data.length} values for shape ${fmt(shape)}`);
    const key = data.length <= 64 ? `${dtype}|${shape}|${Array.from(data as ArrayLike<number | bigint>).join(',')}` : '';
    const hit = key ? this.constCache.get(key) : undefined;
    if (hit) return hit;
    const v = new Value(this.nextId++, dtype, [...shape], 'const', null, 0, data);
    if (key) this.constCache.set(key, v);
    return v;
  }
  scalar(x: number, dtype: DType = 'float32'): Value { return this.constant(dtype, [], [x]); }
  /** A 1-D int64 constant (shapes, axes, indices). */
  ints(values: readonly number[]): Value { return this.constant('int64', [values.length], values); }

  /** Zeros made at run time (ConstantOfShape), so big zero tensors never sit in the model file. */
  zeros(shape: Shape, dtype: DType = 'float32'): Value {
    if (size(shape) <= 64) return this.constant(dtype, shape, new Array(size(shape)).fill(0));
    return this.emit('ConstantOfShape', [this.ints(shape)], { value: tensorAttr(dtype, [1], [0]) }, [[dtype, shape]])[0];
  }

  /** Declares a graph output. A value that already has a name (input, param, other output) gets an Identity. */
  output(v: Value, name: string, opts: { dims?: ReadonlyArray<number | string> } = {}): Value {
    if (v.kind !== 'node' || v.name !== undefined) v = this.emit('Identity', [v], {}, [[v.dtype, v.shape]], '', false)[0];
    this.claim(name);
    v.name = name;
    v.dims = opts.dims;
    this.outputs.push(v);
    return v;
  }

  // ---- generic op ------------------------------------------------------------------------------------------------

  /** Records any ONNX op; the caller gives each output's dtype and shape. */
  op(opType: string, inputs: ReadonlyArray<Value | null>, attrs: Record<string, AttrInput>,
    outputs: ReadonlyArray<{ dtype: DType; shape: Shape }>, opts: { domain?: string } = {}): Value[] {
    return this.emit(opType, inputs, attrs, outputs.map((o) => [o.dtype, o.shape]), opts.domain);
  }

  private emit(opType: string, inputs: ReadonlyArray<Value | null>, attrs: Record<string, AttrInput>,
    outs: ReadonlyArray<readonly [DType, Shape]>, domain = '', mayFold = true): Value[] {
    const folded = mayFold ? fold(this, opType, inputs, outs) : undefined;
    if (folded) return [folded];
    const spec = new Map<string, AttrSpec>();
    for (const [k, a] of Object.entries(attrs)) if (a !== undefined) spec.set(k, attrSpec(k, a));
    const node = new Node(opType, inputs, spec, domain);
    node.outputs = outs.map(([t, s], i) => new Value(this.nextId++, t, [...s], 'node', node, i));
    this.nodes.push(node);
    return node.outputs;
  }
  private emit1(opType: string, inputs: ReadonlyArray<Value | null>, attrs: Record<string, AttrInput>, dtype: DType, shape: Shape): Value {
    return this.emit(opType, inputs, attrs, [[dtype, shape]])[0];
  }

  // ---- elementwise -----------------------------------------------------------------------------------------------

  private lift(a: Operand, b: Operand, op: string): [Value, Value] {
    if (typeof a === 'number' && typeof b === 'number') throw new Error(`${op}: at least one operand must be a Value`);
    const va = typeof a === 'number' ? this.scalar(a, (b as Value).dtype) : a;
    const vb = typeof b === 'number' ? this.scalar(b, va.dtype) : b;
    if (va.dtype !== vb.dtype) throw new Error(`${op}: dtypes differ (${va.dtype}, ${vb.dtype})`);
    return [va, vb];
  }
  private binary(op: string, a: Operand, b: Operand, outType?: DType): Value {
    const [va, vb] = this.lift(a, b, op);
    return this.emit1(op, [va, vb], {}, outType ?? va.dtype, broadcast(op, va.shape, vb.shape));
  }
  /** `x` unchanged when `c` is the scalar constant `k` and does not change x's shape. */
  private trivial(x: Operand, c: Operand, k: number): x is Value {
    return typeof x !== 'number' && scalarValue(c) === k && sameShape(broadcast('', x.shape, typeof c === 'number' ? [] : c.shape), x.shape);
  }

  add(a: Operand, b: Operand): Value {
    if (this.trivial(a, b, 0)) return a;
    if (this.trivial(b, a, 0)) return b;
    return this.binary('Add', a, b);
  }
  sub(a: Operand, b: Operand): Value { return this.trivial(a, b, 0) ? a : this.binary('Sub', a, b); }
  mul(a: Operand, b: Operand): Value {
    if (this.trivial(a, b, 1)) return a;
    if (this.trivial(b, a, 1)) return b;
    return this.binary('Mul', a, b);
  }
  div(a: Operand, b: Operand): Value { return this.trivial(a, b, 1) ? a : this.binary('Div', a, b); }
  /** x ** p; p is usually a number (a scalar constant). */
  pow(x: Value, p: Operand): Value { return this.trivial(x, p, 1) ? x : this.binary('Pow', x, p); }
  /** Elementwise sum of any number of values (broadcasting); one value is returned as is. */
  sum(xs: readonly Value[]): Value {
    if (xs.length === 1) return xs[0];
    if (xs.length === 2) return this.add(xs[0], xs[1]);
    return this.emit1('Sum', xs, {}, xs[0].dtype, broadcast('Sum', ...xs.map((x) => x.shape)));
  }
  max(a: Operand, b: Operand): Value { return this.binary('Max', a, b); }
  min(a: Operand, b: Operand): Value { return this.binary('Min', a, b); }
  equal(a: Operand, b: Operand): Value { return this.binary('Equal', a, b, 'bool'); }
  less(a: Operand, b: Operand): Value { return this.binary('Less', a, b, 'bool'); }
  greater(a: Operand, b: Operand): Value { return this.binary('Greater', a, b, 'bool'); }
  and(a: Value, b: Value): Value { return this.binary('And', a, b, 'bool'); }
  not(x: Value): Value { return this.unary('Not', x); }
  /** cond ? a : b, broadcasting all three. */
  where(cond: Value, a: Operand, b: Operand): Value {
    const [va, vb] = this.lift(a, b, 'Where');
    return this.emit1('Where', [cond, va, vb], {}, va.dtype, broadcast('Where', cond.shape, va.shape, vb.shape));
  }

  private unary(op: string, x: Value, attrs: Record<string, AttrInput> = {}): Value {
    return this.emit1(op, [x], attrs, x.dtype, x.shape);
  }
  neg(x: Value): Value { return this.unary('Neg', x); }
  exp(x: Value): Value { return this.unary('Exp', x); }
  log(x: Value): Value { return this.unary('Log', x); }
  sqrt(x: Value): Value { return this.unary('Sqrt', x); }
  reciprocal(x: Value): Value { return this.unary('Reciprocal', x); }
  tanh(x: Value): Value { return this.unary('Tanh', x); }
  erf(x: Value): Value { return this.unary('Erf', x); }
  sigmoid(x: Value): Value { return this.unary('Sigmoid', x); }
  relu(x: Value): Value { return this.unary('Relu', x); }
  identity(x: Value): Value { return this.unary('Identity', x); }
  cast(x: Value, to: DType): Value { return x.dtype === to ? x : this.emit1('Cast', [x], { to: DATA_TYPE[to] }, to, x.shape); }

  /**
   * GELU. 'none' = x·Φ(x) (erf form, BERT's), 'tanh' = 0.5x(1+tanh(√(2/π)(x+0.044715x³))). Opset ≥ 20 emits the
   * Gelu op; lower opsets get the same formula from Erf/Tanh ops (autodiff then differentiates the pieces).
   */
  gelu(x: Value, approximate: 'none' | 'tanh' = 'none'): Value {
    if (x.dtype === 'float64' && approximate === 'none') throw new Error('Gelu: ONNX Runtime has no float64 Erf/Gelu kernel; use the tanh form in float64');
    if (this.opset >= 20 && x.dtype !== 'float64') return this.unary('Gelu', x, { approximate });
    // Exactly the shape ONNX Runtime's GeluFusion matches (Div by √2, Erf, Add 1, Mul by x·0.5): fused into one
    // Gelu kernel by ORT, transformers.js's included, instead of five elementwise passes.
    if (approximate === 'none') return this.mul(this.mul(x, 0.5), this.add(this.erf(this.div(x, Math.SQRT2)), 1));
    const u = this.mul(this.add(x, this.mul(this.pow(x, 3), 0.044715)), Math.sqrt(2 / Math.PI));
    return this.mul(this.mul(x, 0.5), this.add(this.tanh(u), 1));
  }

  // ---- linear algebra ----------------------------------------------------------------------------------------------

  /** Batched MatMul with broadcast batch dims: [..., m, k] @ [..., k, n]. */
  matmul(a: Value, b: Value): Value { return this.emit1('MatMul', [a, b], {}, a.dtype, matmulShape(a.shape, b.shape)); }

  /** Gemm: alpha·op(A)·op(B) + beta·C on 2-D A and B, with op = transpose when transA/transB; C broadcasts. */
  gemm(a: Value, b: Value, c: Value | null = null,
    o: { transA?: boolean; transB?: boolean; alpha?: number; beta?: number } = {}): Value {
    if (a.rank !== 2 || b.rank !== 2) throw new Error(`Gemm: operands must be 2-D, got ${fmt(a.shape)}, ${fmt(b.shape)}`);
    const [m, k] = o.transA ? [a.shape[1], a.shape[0]] : a.shape;
    const [k2, n] = o.transB ? [b.shape[1], b.shape[0]] : b.shape;
    if (k !== k2) throw new Error(`Gemm: inner dims differ: ${fmt(a.shape)}${o.transA ? 'ᵀ' : ''} · ${fmt(b.shape)}${o.transB ? 'ᵀ' : ''}`);
    if (c && !sameShape(broadcast('Gemm', [m, n], c.shape), [m, n])) throw new Error(`Gemm: C ${fmt(c.shape)} does not broadcast to [${m},${n}]`);
    const attrs: Record<string, AttrInput> = {};
    if (o.transA) attrs.transA = 1;
    if (o.transB) attrs.transB = 1;
    if (o.alpha !== undefined && o.alpha !== 1) attrs.alpha = float(o.alpha);
    if (c && o.beta !== undefined && o.beta !== 1) attrs.beta = float(o.beta);
    return this.emit1('Gemm', c ? [a, b, c] : [a, b], attrs, a.dtype, [m, n]);
  }

  // ---- shape ops ---------------------------------------------------------------------------------------------------

  /** Reshape; `shape` may use 0 (copy the input dim) and -1 (infer), written as given for dynamic-dim graphs. */
  reshape(x: Value, shape: Shape): Value {
    const out = reshapeShape(x.shape, shape);
    if (sameShape(out, x.shape)) return x;
    const src = x.producer?.opType === 'Reshape' && !shape.includes(0) ? x.producer.inputs[0]! : x;
    if (sameShape(out, src.shape)) return src;
    return this.emit1('Reshape', [src, this.ints(shape)], {}, x.dtype, out);
  }

  /** Transpose (default: reverse the axes). A transpose of a transpose becomes one (or none). */
  transpose(x: Value, perm?: readonly number[]): Value {
    let p = perm ? perm.map((a) => axisOf(a, x.rank, 'Transpose')) : x.shape.map((_, i) => x.rank - 1 - i);
    if (p.length !== x.rank || new Set(p).size !== x.rank) throw new Error(`Transpose: bad perm [${perm}] for ${fmt(x.shape)}`);
    const out = p.map((a) => x.shape[a]);
    let src = x;
    if (x.producer?.opType === 'Transpose') {
      const inner = x.producer.ints('perm');
      p = p.map((a) => inner[a]);
      src = x.producer.inputs[0]!;
    }
    if (p.every((a, i) => a === i)) return src;
    return this.emit1('Transpose', [src], { perm: p }, x.dtype, out);
  }

  /** Swaps the last two axes (Kᵀ for attention). */
  transposeLast2(x: Value): Value {
    const p = x.shape.map((_, i) => i);
    [p[x.rank - 2], p[x.rank - 1]] = [p[x.rank - 1], p[x.rank - 2]];
    return this.transpose(x, p);
  }

  unsqueeze(x: Value, axes: readonly number[]): Value {
    const rank = x.rank + axes.length;
    const ax = new Set(axes.map((a) => axisOf(a, rank, 'Unsqueeze')));
    const out: number[] = [];
    for (let i = 0, j = 0; i < rank; i++) out.push(ax.has(i) ? 1 : x.shape[j++]);
    return this.emit1('Unsqueeze', [x, this.ints(axes)], {}, x.dtype, out);
  }

  squeeze(x: Value, axes: readonly number[]): Value {
    const ax = new Set(axes.map((a) => axisOf(a, x.rank, 'Squeeze')));
    for (const a of ax) if (x.shape[a] !== 1) throw new Error(`Squeeze: axis ${a} of ${fmt(x.shape)} is not 1`);
    return this.emit1('Squeeze', [x, this.ints(axes)], {}, x.dtype, x.shape.filter((_, i) => !ax.has(i)));
  }

  expand(x: Value, shape: Shape): Value {
    const out = broadcast('Expand', x.shape, shape);
    return sameShape(out, x.shape) ? x : this.emit1('Expand', [x, this.ints(shape)], {}, x.dtype, out);
  }

  concat(xs: readonly Value[], axis: number): Value {
    const a = axisOf(axis, xs[0].rank, 'Concat');
    const out = [...xs[0].shape];
    out[a] = 0;
    for (const x of xs) {
      if (x.rank !== out.length || x.shape.some((d, i) => i !== a && d !== out[i])) {
        throw new Error(`Concat: shapes ${xs.map((v) => fmt(v.shape)).join(', ')} differ off axis ${axis}`);
      }
      out[a] += x.shape[a];
    }
    return this.emit1('Concat', xs, { axis: a }, xs[0].dtype, out);
  }

  split(x: Value, sizes: readonly number[], axis = 0): Value[] {
    const a = axisOf(axis, x.rank, 'Split');
    if (sizes.reduce((s, d) => s + d, 0) !== x.shape[a]) throw new Error(`Split: sizes [${sizes}] do not sum to dim ${x.shape[a]}`);
    const outs = sizes.map((d) => x.shape.map((e, i) => (i === a ? d : e)) as Shape);
    return this.emit('Split', [x, this.ints(sizes)], { axis: a }, outs.map((s) => [x.dtype, s] as const));
  }

  /** Step-1 Slice: x[starts:ends] along `axes` (default 0..n-1); negative and out-of-range bounds clamp as ONNX. */
  slice(x: Value, starts: readonly number[], ends: readonly number[], axes?: readonly number[]): Value {
    const ax = (axes ?? starts.map((_, i) => i)).map((a) => axisOf(a, x.rank, 'Slice'));
    const out = [...x.shape];
    ax.forEach((a, i) => {
      const [s, e] = sliceRange(x.shape[a], starts[i], ends[i]);
      out[a] = e - s;
    });
    return this.emit1('Slice', [x, this.ints(starts), this.ints(ends), this.ints(ax)], {}, x.dtype, out);
  }

  /** Gather along `axis`: out = x.shape[:axis] + indices.shape + x.shape[axis+1:] (embedding lookup on axis 0). */
  gather(x: Value, indices: Value, axis = 0): Value {
    const a = axisOf(axis, x.rank, 'Gather');
    return this.emit1('Gather', [x, indices], { axis: a }, x.dtype, [...x.shape.slice(0, a), ...indices.shape, ...x.shape.slice(a + 1)]);
  }

  /** GatherND (batch_dims 0): indices [..., k] pick x[i0..ik-1]; out = indices.shape[:-1] + x.shape[k:]. */
  gatherND(x: Value, indices: Value): Value {
    const k = indices.shape[indices.rank - 1];
    if (!(k >= 1 && k <= x.rank)) throw new Error(`GatherND: index depth ${k} for data ${fmt(x.shape)}`);
    return this.emit1('GatherND', [x, indices], {}, x.dtype, [...indices.shape.slice(0, -1), ...x.shape.slice(k)]);
  }

  // ---- reductions and normalization -------------------------------------------------------------------------------

  private reduce(op: string, x: Value, axes: readonly number[] | undefined, keepdims: boolean): Value {
    const ax = [...new Set((axes ?? x.shape.map((_, i) => i)).map((a) => axisOf(a, x.rank, op)))].sort((a, b) => a - b);
    const out = keepdims ? x.shape.map((d, i) => (ax.includes(i) ? 1 : d)) : x.shape.filter((_, i) => !ax.includes(i));
    if (ax.length === 0) return x;
    // ReduceSum takes axes as an input since opset 13, the other reductions since 18.
    if (op === 'ReduceSum' || this.opset >= 18) return this.emit1(op, [x, this.ints(ax)], { keepdims: keepdims ? 1 : 0 }, x.dtype, out);
    return this.emit1(op, [x], { axes: ax, keepdims: keepdims ? 1 : 0 }, x.dtype, out);
  }
  /** Sum over `axes` (all when undefined); keepdims defaults to true as in ONNX. */
  reduceSum(x: Value, axes?: readonly number[], keepdims = true): Value { return this.reduce('ReduceSum', x, axes, keepdims); }
  reduceMean(x: Value, axes?: readonly number[], keepdims = true): Value { return this.reduce('ReduceMean', x, axes, keepdims); }
  reduceMax(x: Value, axes?: readonly number[], keepdims = true): Value { return this.reduce('ReduceMax', x, axes, keepdims); }

  softmax(x: Value, axis = -1): Value { return this.unary('Softmax', x, { axis: axisOf(axis, x.rank, 'Softmax') }); }
  logSoftmax(x: Value, axis = -1): Value { return this.unary('LogSoftmax', x, { axis: axisOf(axis, x.rank, 'LogSoftmax') }); }

  /**
   * LayerNormalization (opset 17) over axes [axis, rank): y = (x − mean)/√(var + ε)·scale + bias. The node also
   * outputs Mean and InvStdDev (float32, kept dims) that the backward pass reuses. float64 inputs (gradient checks)
   * get the same formula from elementary ops, since those statistics would come back in float32.
   */
  layerNorm(x: Value, scale: Value, bias: Value | null, o: { axis?: number; epsilon?: number } = {}): Value {
    const a = axisOf(o.axis ?? -1, x.rank, 'LayerNormalization');
    if (x.dtype === 'float64') {
      const axes = x.shape.map((_, i) => i).slice(a);
      const xc = this.sub(x, this.reduceMean(x, axes));
      const inv = this.reciprocal(this.sqrt(this.add(this.reduceMean(this.mul(xc, xc), axes), o.epsilon ?? 1e-5)));
      const y = this.mul(this.mul(xc, inv), scale);
      return bias ? this.add(y, bias) : y;
    }
    const norm = x.shape.slice(a);
    for (const p of bias ? [scale, bias] : [scale]) {
      if (!sameShape(broadcast('LayerNormalization', norm, p.shape), norm)) throw new Error(`LayerNormalization: ${fmt(p.shape)} vs normalized ${fmt(norm)}`);
    }
    const stat = x.shape.map((d, i) => (i < a ? d : 1));
    return this.emit('LayerNormalization', bias ? [x, scale, bias] : [x, scale], { axis: a, epsilon: float(o.epsilon ?? 1e-5) },
      [[x.dtype, x.shape], ['float32', stat], ['float32', stat]])[0];
  }

  // ---- serialization ---------------------------------------------------------------------------------------------

  /** The ONNX model bytes (see SerializeOptions). */
  toBytes(opts: SerializeOptions = {}): Uint8Array {
    const outs = opts.outputs ? opts.outputs.map((n) => this.outputByName(n)) : this.outputs;
    const weightOf = typeof opts.weights === 'function' ? opts.weights : opts.weights ? (n: string) => (opts.weights as ReadonlyMap<string, TensorData>).get(n) : undefined;

    // Dead-node elimination: keep what the outputs need, in recording order (still topological).
    const live = new Set<Value>(outs);
    const keep = new Set<Node>();
    for (let i = this.nodes.length - 1; i >= 0; i--) {
      const n = this.nodes[i];
      if (!n.outputs.some((v) => live.has(v))) continue;
      keep.add(n);
      for (const v of n.inputs) if (v) live.add(v);
    }

    const names = new Map<Value, string>();
    const nameOf = (v: Value): string => {
      let s = names.get(v);
      if (s === undefined) {
        s = v.name ?? `${v.producer?.opType ?? 'const'}_${v.id}`;
        while (v.name === undefined && this.names.has(s)) s += '_';
        names.set(v, s);
      }
      return s;
    };
    const nodes: NodeSpec[] = [];
    for (const n of this.nodes) {
      if (!keep.has(n)) continue;
      // Optional trailing outputs nobody reads (LayerNorm stats, log_prob) are left out.
      let k = n.outputs.length;
      while (k > 1 && OPTIONAL_OUTPUTS.has(n.opType) && !live.has(n.outputs[k - 1])) k--;
      nodes.push({ opType: n.opType, domain: n.domain, inputs: n.inputs.map((v) => (v ? nameOf(v) : '')),
        outputs: n.outputs.slice(0, k).map(nameOf), attrs: [...n.attrs] });
    }
    const info = (v: Value): ValueInfoSpec => ({ name: nameOf(v), dtype: v.dtype, dims: v.dims ?? v.shape });
    const initializers: TensorSpec[] = [];
    const inputs: ValueInfoSpec[] = [];
    for (const v of this.inputs) {
      if (v.kind === 'param' && weightOf) {
        if (!live.has(v)) continue;
        const data = weightOf(v.name!);
        if (!data || data.length !== v.size || !(data instanceof ARRAY[v.dtype])) {
          throw new Error(`toBytes: weights for ${v.name} must be a ${ARRAY[v.dtype].name} of ${v.size} elements`);
        }
        initializers.push({ name: v.name, dtype: v.dtype, dims: v.shape, raw: bytesOf(data) });
      } else inputs.push(info(v));
    }
    for (const v of live) if (v.kind === 'const') initializers.push({ name: nameOf(v), dtype: v.dtype, dims: v.shape, raw: bytesOf(v.data!) });
    return encodeModel({ graphName: this.name, opset: this.opset, irVersion: opts.irVersion, nodes, inputs,
      outputs: outs.map(info), initializers });
  }

  /**
   * Whether `output` may be written into `input`'s own buffer (an optimizer updating its state in place, so a step
   * allocates no second copy of it). ORT runs nodes one at a time in a topological order, so a read of `input` by
   * an ancestor of the node producing `output` is over before that write starts. Two cases need more: the producer
   * itself may read it only elementwise (each element is read before it is written), and so may every node ORT
   * could fuse into the producer (one whose only consumer is the producer, or such a node): a MatMul fused into the
   * writing Add would read `input` while writing it.
   */
  mayWriteInto(input: Value, output: Value): boolean {
    const producer = output.producer;
    if (!producer || !sameShape(input.shape, output.shape)) return false;
    const consumers = this.consumerCounts();
    // Recording order is topological, so walking it backwards meets each consumer before its producers.
    const before = new Set<Node>();
    const fusable = new Set<Node>([producer]);
    for (let i = this.nodes.indexOf(producer); i >= 0; i--) {
      const n = this.nodes[i];
      if (n !== producer && !before.has(n)) continue;
      for (const v of n.inputs) {
        if (!v?.producer) continue;
        before.add(v.producer);
        if (fusable.has(n) && consumers.get(v) === 1) fusable.add(v.producer);
      }
    }
    return this.nodes.every((n) => !n.inputs.includes(input)
      || (fusable.has(n) ? ELEMENTWISE.has(n.opType) : before.has(n)));
  }

  /** How many nodes and graph outputs read each value; recounted only after the graph grew (it only ever grows). */
  private consumerCounts(): ReadonlyMap<Value, number> {
    const size = this.nodes.length + this.outputs.length;
    if (this.consumers?.size !== size) {
      const counts = new Map<Value, number>();
      for (const n of this.nodes) for (const v of n.inputs) if (v) counts.set(v, (counts.get(v) ?? 0) + 1);
      for (const v of this.outputs) counts.set(v, (counts.get(v) ?? 0) + 1);
      this.consumers = { size, counts };
    }
    return this.consumers.counts;
  }

  private outputByName(name: string): Value {
    const v = this.outputs.find((o) => o.name === name);
    if (!v) throw new Error(`toBytes: no output named ${name}`);
    return v;
  }
}

const OPTIONAL_OUTPUTS = new Set(['LayerNormalization']);
const ELEMENTWISE = new Set(['Identity', 'Add', 'Sub', 'Mul', 'Div', 'Neg', 'Sqrt', 'Reciprocal', 'Max', 'Min', 'Where']);

export function bytesOf(a: TensorData): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength); // little-endian on every platform Node supports
}

/** The number in a constant with one element, else undefined. */
export function scalarValue(v: Operand): number | undefined {
  if (typeof v === 'number') return v;
  return v.kind === 'const' && v.size === 1 ? Number(v.data![0]) : undefined;
}

/** The contents of a constant as numbers (axes, shapes, exponents); throws for non-constants. */
export function constValues(v: Value): number[] {
  if (v.kind !== 'const') throw new Error(`expected a constant, got a ${v.kind} value of shape ${fmt(v.shape)}`);
  return Array.from(v.data as ArrayLike<number | bigint>, Number);
}

// ---- constant folding --------------------------------------------------------------------------------------------

const UNARY: Record<string, (x: number) => number> = {
  Neg: (x) => -x, Exp: Math.exp, Log: Math.log, Sqrt: Math.sqrt, Reciprocal: (x) => 1 / x, Tanh: Math.tanh,
};
const BINARY: Record<string, (a: number, b: number) => number> = {
  Add: (a, b) => a + b, Sub: (a, b) => a - b, Mul: (a, b) => a * b, Div: (a, b) => a / b, Pow: Math.pow,
  Max: Math.max, Min: Math.min,
};
const VIEWS = new Set(['Reshape', 'Unsqueeze', 'Squeeze', 'Identity']);

/** Computes an op on small float constants (or reshapes any constant) here instead of at run time. */
function fold(g: Graph, opType: string, inputs: ReadonlyArray<Value | null>, outs: ReadonlyArray<readonly [DType, Shape]>): Value | undefined {
  if (outs.length !== 1 || inputs.length === 0 || !inputs.every((v) => v?.kind === 'const')) return undefined;
  const [dtype, shape] = outs[0];
  const n = size(shape);
  if (n > FOLD_LIMIT) return undefined;
  const x = inputs[0]!;
  if (VIEWS.has(opType)) return g.constant(dtype, shape, Array.from(x.data as ArrayLike<number | bigint>, Number));
  if (opType === 'Expand') {
    const read = broadcastReader(x, shape);
    return g.constant(dtype, shape, Array.from({ length: n }, (_, i) => read(i)));
  }
  if (!isFloat(dtype)) return undefined;
  const f1 = UNARY[opType];
  if (f1 && inputs.length === 1) return g.constant(dtype, shape, Array.from(x.data as Float64Array, f1));
  const f2 = BINARY[opType];
  if (!f2 || inputs.length !== 2) return undefined;
  const [a, b] = inputs as Value[];
  const at = broadcastReader(a, shape);
  const bt = broadcastReader(b, shape);
  return g.constant(dtype, shape, Array.from({ length: n }, (_, i) => f2(at(i), bt(i))));
}

/** Element i of `shape` read from a value that broadcasts to it. */
function broadcastReader(v: Value, shape: Shape): (i: number) => number {
  const d = Array.from(v.data as ArrayLike<number | bigint>, Number);
  const pad = shape.length - v.rank;
  return (i) => {
    let off = 0;
    let stride = 1;
    for (let k = shape.length - 1; k >= 0; k--) {
      const c = i % shape[k];
      i = Math.floor(i / shape[k]);
      const dim = k >= pad ? v.shape[k - pad] : 1;
      if (dim !== 1) off += c * stride;
      stride *= dim;
    }
    return d[off];
  };
}
