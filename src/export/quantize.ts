/**
 * int8 dynamic quantization, done by CompactLM itself (no Python), as a pass over a graph-builder Graph: the pass
 * replays the fp32 graph node by node into a new Graph and rewrites two kinds of nodes, with standard ONNX ops only.
 *
 * 1. Linear layers: Gemm/MatMul whose B operand is computed from weights alone (a param, or e.g. the fused
 *    Concat(Wq·s, Wk, Wv) of bert.ts). B is evaluated here in float32, quantized, and the node becomes
 *
 *      x ─ DynamicQuantizeLinear ─┬ x_q (uint8) ─ MatMulInteger(x_q, W_q, x_zp) ─ Cast(float) ─ Mul ─ Add(bias)
 *                                 └ x_scale ─────────────────── Mul(x_scale, w_scale[N]) ───────┘
 *
 *    the pattern ORT's optimizer fuses into one DynamicQuantizeMatMul kernel (MatMulIntegerToFloatFusion, then
 *    DynamicQuantizeMatMulFusion; graph optimization level 'extended' or 'all'). Activations are quantized per run
 *    (asymmetric uint8, per tensor, by DynamicQuantizeLinear); weights are int8.
 * 2. Embedding lookups: Gather(table, ids) and Slice(table, …, axes=[0]) of a weight table become the same lookup
 *    in the int8 table, then Cast and Mul by the looked-up rows' scales.
 *
 * Weights are quantized SYMMETRICALLY PER OUTPUT CHANNEL: one float32 scale per output feature of a Linear (per
 * row of an HF [out, in] weight) and per row of an embedding table, scale = max|w|/63, q = round(w/scale) in
 * [−63, 63], zero point 0 (omitted). So |w − q·scale| ≤ scale/2 for every element. Seven bits, not eight (ORT's
 * `reduce_range`, as transformers.js's own conversions use): on x86 CPUs without VNNI, ORT's uint8 × int8 kernel
 * sums pairs of products in saturating 16-bit lanes (VPMADDUBSW), and 255·127·2 overflows them; 255·63·2 does not.
 * With full-range weights an AVX2-only CPU gave 2.5× the analytic error bound (test/unit/export/quantize.test.ts)
 * while VNNI CPUs did not, so one export behaves the same on every CPU. The tied MLM decoder and the
 * word-embedding lookup share ONE int8 [V, H] table with per-row (= per output token) scales; the decoder reads
 * it through a Transpose of the initializer, which ORT constant-folds when the session loads.
 *
 * Everything else (attention score matmuls between activations, LayerNorm, softmax, biases) stays float32.
 * DynamicQuantizeLinear takes one scale per tensor, i.e. over the whole batch (padding rows included): in a batch,
 * one sentence's int8 outputs depend slightly on the others (fp32 outputs do not).
 */
import { Graph, type Node, type TensorData, type Value } from '../onnx/graph.js';

/** A rank-2 tensor quantized to int8 with one scale per channel. */
export interface QuantizedMatrix {
  /** int8 values, row-major [rows, cols]. */
  q: Int8Array;
  /** One scale per channel: `rows` of them when axis is 0, `cols` when axis is 1. */
  scale: Float32Array;
  rows: number;
  cols: number;
  /** Channel axis: 0 = one scale per row, 1 = one scale per column. */
  axis: 0 | 1;
}

/** Largest |q| of a quantized weight: 7-bit range, see above. */
export const INT8_WEIGHT_MAX = 63;

/** Symmetric per-channel int8: scale_c = max|w_c|/INT8_WEIGHT_MAX (float32), q = round(w/scale_c) clamped to ±INT8_WEIGHT_MAX. */
export function quantizeSymmetric(w: Float32Array, rows: number, cols: number, axis: 0 | 1): QuantizedMatrix {
  if (w.length !== rows * cols) throw new Error(`quantizeSymmetric: ${w.length} values for [${rows}, ${cols}]`);
  const channels = axis === 0 ? rows : cols;
  const maxAbs = new Float32Array(channels);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const a = Math.abs(w[r * cols + c]);
      const ch = axis === 0 ? r : c;
      if (a > maxAbs[ch]) maxAbs[ch] = a;
      else if (Number.isNaN(a)) throw new Error(`quantizeSymmetric: NaN at [${r}, ${c}]`);
    }
  }
  const scale = new Float32Array(channels);
  for (let ch = 0; ch < channels; ch++) {
    if (!Number.isFinite(maxAbs[ch])) throw new Error(`quantizeSymmetric: infinite value in channel ${ch}`);
    scale[ch] = Math.fround(maxAbs[ch] / INT8_WEIGHT_MAX); // 0 for an all-zero channel (e.g. the [PAD] embedding): q is 0
  }
  const q = new Int8Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const i = r * cols + c;
      const s = scale[axis === 0 ? r : c];
      const v = s > 0 ? Math.round(w[i] / s) : 0;
      q[i] = v > INT8_WEIGHT_MAX ? INT8_WEIGHT_MAX : v < -INT8_WEIGHT_MAX ? -INT8_WEIGHT_MAX : v;
    }
  }
  return { q, scale, rows, cols, axis };
}

/** q·scale back to float32 (what the graph computes before the multiply-accumulate). */
export function dequantize(m: QuantizedMatrix): Float32Array {
  const out = new Float32Array(m.q.length);
  for (let r = 0; r < m.rows; r++) {
    for (let c = 0; c < m.cols; c++) out[r * m.cols + c] = m.q[r * m.cols + c] * m.scale[m.axis === 0 ? r : c];
  }
  return out;
}

function transposeInt8(q: Int8Array, rows: number, cols: number): Int8Array {
  const t = new Int8Array(q.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = q[r * cols + c];
  return t;
}

// ---- the graph pass ------------------------------------------------------------------------------------------------

export interface QuantizeOptions {
  /** Quantize Linear layers (Gemm/MatMul with a weight operand). Default true. */
  linear?: boolean;
  /** Quantize embedding lookups (Gather/Slice of a weight table). Default true. */
  embeddings?: boolean;
}

/** One int8 initializer the pass wrote. */
export interface QuantizedTensorInfo {
  /** Initializer name of the int8 data; the scales are `<name>_scale`. */
  name: string;
  /** Shape of the int8 initializer as stored. */
  shape: [number, number];
  /** The weights it was computed from (HF names). */
  from: string[];
  uses: Array<'linear' | 'lookup'>;
  /** max |w − deq(q(w))| over the tensor, and the bound max(scale)/2. */
  maxError: number;
  bound: number;
}

export interface QuantizedGraph {
  graph: Graph;
  /** Initializer data for `graph.toBytes({ weights })`: the fp32 params still used plus the int8 tensors and scales. */
  weights: Map<string, TensorData>;
  tensors: QuantizedTensorInfo[];
}

interface Weight {
  data: Float32Array;
  shape: number[];
  /** The params it is computed from. */
  from: string[];
}

type Target =
  | { kind: 'linear'; node: Node; root: Value; axis: 0 | 1 }
  | { kind: 'lookup'; node: Node; root: Value };

interface Entry {
  root: Value;
  axis: 0 | 1;
  /** Stored as [cols, rows] of the root (a weight used only by matmuls as [N, K]: stored [K, N] directly). */
  transposed: boolean;
  uses: Set<'linear' | 'lookup'>;
  q?: Value;
  scale?: Value;
  matmulB?: Value;
}

/**
 * The int8 version of `src` (an inference graph whose params are given in `weights`). `src` is not modified; the
 * result is serialized with `result.graph.toBytes({ weights: result.weights })`.
 */
export function quantizeGraph(src: Graph, weights: ReadonlyMap<string, Float32Array>, opts: QuantizeOptions = {}): QuantizedGraph {
  const doLinear = opts.linear ?? true;
  const doEmbeddings = opts.embeddings ?? true;

  // -- weight-only values: evaluated here in float32 (ORT would fold them at load anyway) --
  const memo = new Map<Value, Weight | null>();
  const weightOf = (v: Value | null | undefined): Weight | undefined => {
    if (!v) return undefined;
    let w = memo.get(v);
    if (w === undefined) {
      w = evaluate(v, weights, weightOf) ?? null;
      memo.set(v, w);
    }
    return w ?? undefined;
  };
  const rootOf = (v: Value): Value => {
    while (v.producer?.opType === 'Identity' && weightOf(v.producer.inputs[0])) v = v.producer.inputs[0]!;
    return v;
  };
  const isMatrix = (v: Value | null): v is Value => !!v && v.rank === 2 && v.dtype === 'float32' && !!weightOf(v);

  // -- 1. find the nodes to rewrite and decide how each weight is stored --
  const targets = new Map<Node, Target>();
  const entries = new Map<Value, Entry>();
  for (const node of src.nodes) {
    const [a, b] = node.inputs;
    let t: Target | undefined;
    if (doLinear && (node.opType === 'Gemm' || node.opType === 'MatMul') && isMatrix(b) && a && !weightOf(a)) {
      const plainGemm = node.opType === 'MatMul' ||
        (node.int('transA', 0) === 0 && node.float('alpha', 1) === 1 && node.float('beta', 1) === 1);
      const transB = node.opType === 'Gemm' && node.int('transB', 0) === 1;
      if (plainGemm) t = { kind: 'linear', node, root: rootOf(b), axis: transB ? 0 : 1 };
    } else if (doEmbeddings && node.opType === 'Gather' && node.int('axis', 0) === 0 && isMatrix(a) && b && !weightOf(b)) {
      t = { kind: 'lookup', node, root: rootOf(a) };
    } else if (doEmbeddings && node.opType === 'Slice' && isMatrix(a) && sliceRowsOnly(node)) {
      t = { kind: 'lookup', node, root: rootOf(a) };
    }
    if (!t) continue;
    const axis = t.kind === 'linear' ? t.axis : 0;
    const e = entries.get(t.root);
    if (e && e.axis !== axis) continue; // used along two channel axes: this use stays float32
    if (!e) entries.set(t.root, { root: t.root, axis, transposed: false, uses: new Set([t.kind]) });
    else e.uses.add(t.kind);
    targets.set(node, t);
  }
  for (const e of entries.values()) e.transposed = !e.uses.has('lookup') && e.axis === 0;

  // -- 2. replay --
  const g = new Graph({ opset: src.opset, name: src.name });
  const out = new Map<string, TensorData>();
  const mapped = new Map<Value, Value>();
  const get = (v: Value): Value => {
    let m = mapped.get(v);
    if (!m) {
      if (v.kind !== 'const') throw new Error(`quantizeGraph: value ${v.id} used before it is defined`);
      m = g.constant(v.dtype, v.shape, v.data!);
      mapped.set(v, m);
    }
    return m;
  };
  for (const v of src.inputs) {
    const nv = v.kind === 'param' ? g.param(v.name!, v.shape, v.dtype) : g.input(v.name!, v.dtype, v.shape, { dims: v.dims });
    mapped.set(v, nv);
    const data = weights.get(v.name!);
    if (v.kind === 'param' && data) out.set(v.name!, data);
  }

  const names = new Set(src.inputs.map((v) => v.name!));
  const infos: QuantizedTensorInfo[] = [];
  const materialize = (e: Entry): Entry => {
    if (e.q) return e;
    const w = weightOf(e.root)!;
    const [rows, cols] = w.shape;
    const m = quantizeSymmetric(w.data, rows, cols, e.axis);
    let name = `${combinedName(w.from)}_quantized`;
    for (let k = 2; names.has(name) || names.has(`${name}_scale`); k++) name = `${combinedName(w.from)}_${k}_quantized`;
    names.add(name);
    const shape: [number, number] = e.transposed ? [cols, rows] : [rows, cols];
    e.q = g.param(name, shape, 'int8');
    e.scale = g.param(`${name}_scale`, [m.scale.length]);
    out.set(name, e.transposed ? transposeInt8(m.q, rows, cols) : m.q);
    out.set(`${name}_scale`, m.scale);
    const deq = dequantize(m);
    let maxError = 0;
    for (let i = 0; i < deq.length; i++) maxError = Math.max(maxError, Math.abs(deq[i] - w.data[i]));
    infos.push({ name, shape, from: w.from, uses: [...e.uses], maxError, bound: Math.max(...m.scale) / 2 });
    return e;
  };

  for (const node of src.nodes) {
    const t = targets.get(node);
    if (t) {
      const e = materialize(entries.get(t.root)!);
      const y = t.kind === 'linear' ? quantizedLinear(g, node, e, get) : quantizedLookup(g, node, e, get);
      mapped.set(node.outputs[0], y);
      continue;
    }
    const outs = g.op(node.opType, node.inputs.map((v) => (v ? get(v) : null)), Object.fromEntries(node.attrs),
      node.outputs.map((o) => ({ dtype: o.dtype, shape: o.shape })), { domain: node.domain });
    node.outputs.forEach((o, i) => mapped.set(o, outs[i]));
  }
  for (const o of src.outputs) g.output(get(o), o.name!, { dims: o.dims });
  return { graph: g, weights: out, tensors: infos };
}

/** x·B (+ bias) with B int8: DynamicQuantizeLinear → MatMulInteger → Cast → Mul(x_scale·w_scale) → Add. */
function quantizedLinear(g: Graph, node: Node, e: Entry, get: (v: Value) => Value): Value {
  const x = get(node.inputs[0]!);
  if (!e.matmulB) {
    // MatMulInteger wants B as [K, N]; a shared [N, K] table (the tied decoder) is transposed in the graph.
    const kn = e.axis === 1 || e.transposed;
    e.matmulB = kn ? e.q! : g.transpose(e.q!, [1, 0]);
  }
  const [xq, xScale, xZero] = g.op('DynamicQuantizeLinear', [x], {}, [
    { dtype: 'uint8', shape: x.shape }, { dtype: 'float32', shape: [] }, { dtype: 'uint8', shape: [] }]);
  const shape = node.outputs[0].shape;
  const acc = g.op('MatMulInteger', [xq, e.matmulB, xZero], {}, [{ dtype: 'int32', shape }])[0];
  const y = g.mul(g.cast(acc, 'float32'), g.mul(xScale, e.scale!)); // (a_scale, b_scale) order: ORT's fusion pattern
  const bias = node.opType === 'Gemm' ? node.inputs[2] : null;
  return bias ? g.add(y, get(bias)) : y;
}

/** Gather/Slice of rows of an int8 table, then Cast and Mul by the rows' scales. */
function quantizedLookup(g: Graph, node: Node, e: Entry, get: (v: Value) => Value): Value {
  const rest = node.inputs.slice(1).map((v) => (v ? get(v) : null));
  const shape = node.outputs[0].shape;
  const rows = g.op(node.opType, [e.q!, ...rest], Object.fromEntries(node.attrs), [{ dtype: 'int8', shape }])[0];
  const lead = shape.slice(0, -1);
  const scales = g.op(node.opType, [e.scale!, ...rest], Object.fromEntries(node.attrs), [{ dtype: 'float32', shape: lead }])[0];
  return g.mul(g.cast(rows, 'float32'), g.unsqueeze(scales, [-1]));
}

/** A Slice with constant axes [0] and unit steps: it selects rows, so the same Slice applies to per-row scales. */
function sliceRowsOnly(node: Node): boolean {
  const axes = node.inputs[3];
  const steps = node.inputs[4];
  const consts = (v: Value | null | undefined) => (v?.kind === 'const' ? Array.from(v.data as BigInt64Array, Number) : undefined);
  const a = consts(axes);
  if (!a || a.length !== 1 || a[0] !== 0) return false;
  if (steps && consts(steps)?.[0] !== 1) return false;
  return true;
}

/** Float32 value of a tensor computed from weights alone (params, constants, and a few cheap ops), else undefined. */
function evaluate(v: Value, weights: ReadonlyMap<string, Float32Array>, weightOf: (v: Value | null) => Weight | undefined): Weight | undefined {
  if (v.dtype !== 'float32') return undefined;
  if (v.kind === 'param') {
    const data = weights.get(v.name!);
    return data ? { data, shape: [...v.shape], from: [v.name!] } : undefined;
  }
  if (v.kind === 'const') return { data: v.data as Float32Array, shape: [...v.shape], from: [] };
  if (v.kind !== 'node' || !v.producer || v.producer.outputs.length !== 1) return undefined;
  const node = v.producer;
  const ins = node.inputs.map((x) => weightOf(x));
  if (ins.some((w) => !w)) return undefined;
  const ws = ins as Weight[];
  const from = [...new Set(ws.flatMap((w) => w.from))];
  switch (node.opType) {
    case 'Identity':
      return ws[0];
    case 'Mul': {
      const [a, b] = ws;
      const [big, small] = a.data.length >= b.data.length ? [a, b] : [b, a];
      if (small.data.length !== 1 && small.data.length !== big.data.length) return undefined;
      const data = new Float32Array(big.data.length);
      for (let i = 0; i < data.length; i++) data[i] = big.data[i] * small.data[small.data.length === 1 ? 0 : i];
      return { data, shape: [...v.shape], from };
    }
    case 'Concat': {
      if (node.int('axis') !== 0) return undefined;
      const data = new Float32Array(ws.reduce((n, w) => n + w.data.length, 0));
      let off = 0;
      for (const w of ws) {
        data.set(w.data, off);
        off += w.data.length;
      }
      return { data, shape: [...v.shape], from };
    }
    case 'Transpose': {
      if (v.rank !== 2) return undefined;
      const [r, c] = ws[0].shape;
      const data = new Float32Array(r * c);
      for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) data[j * r + i] = ws[0].data[i * c + j];
      return { data, shape: [c, r], from };
    }
    default:
      return undefined;
  }
}

/** One name for a tensor made from several params: common prefix and suffix, the differing middles joined by '+'. */
export function combinedName(names: readonly string[]): string {
  if (names.length === 0) return 'weight';
  if (names.length === 1) return names[0];
  const parts = names.map((n) => n.split('.'));
  let pre = 0;
  while (parts.every((p) => p.length > pre + 1 && p[pre] === parts[0][pre])) pre++;
  let suf = 0;
  while (parts.every((p) => p.length > pre + suf + 1 && p[p.length - 1 - suf] === parts[0][parts[0].length - 1 - suf])) suf++;
  const mid = parts.map((p) => p.slice(pre, p.length - suf).join('.')).join('+');
  return [...parts[0].slice(0, pre), mid, ...parts[0].slice(parts[0].length - suf)].join('.');
}
