/**
 * int8 quantization: the closed-form round-trip bound of symmetric per-channel quantization, the quantized linear
 * layer against a float64 reference with its analytic error bound (with ORT's fused kernel and with the plain
 * standard-op graph), embedding lookups equal to the dequantized table, one shared table for a tied decoder, and
 * ORT fusing the pattern into DynamicQuantizeMatMul (read from ORT's profiler).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { Graph } from '../../../src/onnx/graph.js';
import { combinedName, dequantize, quantizeGraph, quantizeSymmetric } from '../../../src/export/quantize.js';
import { Rng } from '../../../src/util/rng.js';

function randn(rng: Rng, n: number, std = 1): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = std * Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
  return out;
}

describe('quantizeSymmetric', () => {
  test.each([[0], [1]] as const)('round trip |x − deq(q(x))| ≤ scale/2, scale = max|x|/63 (7-bit weights; channel axis %i)', (axis) => {
    const rng = new Rng(7);
    const [rows, cols] = [37, 53];
    const w = randn(rng, rows * cols, 0.05);
    for (let c = 0; c < cols; c++) w[5 * cols + c] *= 100; // an outlier row
    w[3 * cols + 4] = 9; // a single outlier element
    if (axis === 0) w.fill(0, 9 * cols, 10 * cols); // an all-zero row (like the [PAD] embedding)
    const m = quantizeSymmetric(w, rows, cols, axis);
    expect(m.scale).toHaveLength(axis === 0 ? rows : cols);
    const deq = dequantize(m);
    const channels = axis === 0 ? rows : cols;
    for (let ch = 0; ch < channels; ch++) {
      let maxAbs = 0;
      let maxQ = 0;
      for (let k = 0; k < (axis === 0 ? cols : rows); k++) {
        const i = axis === 0 ? ch * cols + k : k * cols + ch;
        maxAbs = Math.max(maxAbs, Math.abs(w[i]));
        maxQ = Math.max(maxQ, Math.abs(m.q[i]));
        expect(Math.abs(m.q[i])).toBeLessThanOrEqual(63);
        // the bound, with one float32 rounding of the product allowed
        expect(Math.abs(w[i] - deq[i])).toBeLessThanOrEqual(m.scale[ch] / 2 + 6e-8 * Math.abs(w[i]));
      }
      expect(m.scale[ch]).toBeCloseTo(maxAbs / 63, 7);
      expect(maxQ).toBe(maxAbs > 0 ? 63 : 0); // the largest element of a channel uses the full range
    }
    expect(Array.from(deq.subarray(9 * cols, 10 * cols)).every((x) => x === 0)).toBe(axis === 0);
  });

  test('rejects NaN', () => {
    expect(() => quantizeSymmetric(new Float32Array([1, NaN]), 1, 2, 0)).toThrow(/NaN/);
  });
});

/** float64 x·Wᵀ + b and the analytic bound of the int8 result (weights: ≤ s_w/2 per element; activations: ≤ s_x). */
function reference(x: Float32Array, w: Float32Array, b: Float32Array, M: number, K: number, N: number, wScale: Float32Array) {
  let lo = 0;
  let hi = 0;
  for (const v of x) [lo, hi] = [Math.min(lo, v), Math.max(hi, v)];
  const sx = (hi - lo) / 255; // DynamicQuantizeLinear's scale; rounding plus zero-point rounding stay within s_x
  const y = new Float64Array(M * N);
  const bound = new Float64Array(M * N);
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      let s = b[n];
      let e = 0;
      for (let k = 0; k < K; k++) {
        const [xv, wv] = [x[m * K + k], w[n * K + k]];
        s += xv * wv;
        e += Math.abs(xv) * wScale[n] / 2 + Math.abs(wv) * sx + sx * wScale[n] / 2;
      }
      y[m * N + n] = s;
      bound[m * N + n] = e + 1e-5 * (Math.abs(s) + 1);
    }
  }
  return { y, bound };
}

describe('quantizeGraph: linear layers', () => {
  const [M, K, N] = [6, 48, 20];
  const rng = new Rng(3);
  const x = randn(rng, M * K);
  const w = randn(rng, N * K, 0.1); // HF layout [out, in]
  const b = randn(rng, N, 0.1);

  function build(kind: 'gemm' | 'matmul') {
    const g = new Graph({ opset: 17 });
    const xin = g.input('x', 'float32', [M, K], { dims: ['m', K] });
    if (kind === 'gemm') {
      const y = g.gemm(xin, g.param('dense.weight', [N, K]), g.param('dense.bias', [N]), { transB: true });
      g.output(y, 'y', { dims: ['m', N] });
      return { g, weights: new Map([['dense.weight', w], ['dense.bias', b]]) };
    }
    const wt = new Float32Array(K * N); // [in, out] for MatMul
    for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) wt[k * N + n] = w[n * K + k];
    g.output(g.add(g.matmul(xin, g.param('w', [K, N])), g.param('bias', [N])), 'y', { dims: ['m', N] });
    return { g, weights: new Map([['w', wt], ['bias', b]]) };
  }

  test.each([
    ['gemm', 'all'], ['gemm', 'disabled'], ['matmul', 'all'], ['matmul', 'disabled'],
  ] as const)('%s with graph optimization %s: within the analytic bound of the float64 reference', async (kind, level) => {
    const { g, weights } = build(kind);
    const q = quantizeGraph(g, weights);
    const ops = q.graph.nodes.map((n) => n.opType);
    expect(ops).toEqual(expect.arrayContaining(['DynamicQuantizeLinear', 'MatMulInteger', 'Cast']));
    expect(ops).not.toContain('Gemm');
    expect(ops).not.toContain('MatMul');
    expect(q.tensors).toHaveLength(1);
    expect(q.tensors[0].shape).toEqual([K, N]); // stored as MatMulInteger's B
    const scales = q.weights.get(`${q.tensors[0].name}_scale`) as Float32Array;
    expect(scales).toHaveLength(N); // per output channel

    const session = await ort.InferenceSession.create(q.graph.toBytes({ weights: q.weights, irVersion: 8 }), { graphOptimizationLevel: level });
    const y = (await session.run({ x: new ort.Tensor('float32', x, [M, K]) })).y.data as Float32Array;
    await session.release();
    const ref = reference(x, w, b, M, K, N, scales);
    let maxErr = 0;
    for (let i = 0; i < M * N; i++) {
      expect(Math.abs(y[i] - ref.y[i])).toBeLessThanOrEqual(ref.bound[i]);
      maxErr = Math.max(maxErr, Math.abs(y[i] - ref.y[i]));
    }
    expect(maxErr).toBeGreaterThan(1e-4); // it really is int8 arithmetic, not the float path
  });

  test('ORT fuses the pattern into DynamicQuantizeMatMul (profiler op names)', async () => {
    const { g, weights } = build('gemm');
    const q = quantizeGraph(g, weights);
    const dir = mkdtempSync(join(tmpdir(), 'quant-prof-'));
    try {
      const session = await ort.InferenceSession.create(q.graph.toBytes({ weights: q.weights, irVersion: 8 }),
        { graphOptimizationLevel: 'all', enableProfiling: true, profileFilePrefix: join(dir, 'p') });
      await session.run({ x: new ort.Tensor('float32', x, [M, K]) });
      session.endProfiling();
      await session.release();
      const events = JSON.parse(readFileSync(join(dir, readdirSync(dir)[0]), 'utf8')) as Array<{ cat: string; name: string; args: { op_name?: string } }>;
      const ran = new Set(events.filter((e) => e.cat === 'Node' && e.name.endsWith('_kernel_time')).map((e) => e.args.op_name));
      expect([...ran]).toEqual(['DynamicQuantizeMatMul']); // quantize + int8 matmul + scale + bias in one kernel
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('quantizeGraph: embeddings and the tied decoder', () => {
  const [V, H, B, T] = [50, 16, 2, 5];
  const rng = new Rng(11);
  const table = randn(rng, V * H, 0.5);
  const pos = randn(rng, 12 * H, 0.5);
  table.fill(0, 0, H); // padding row

  function build() {
    const g = new Graph({ opset: 17 });
    const ids = g.input('ids', 'int64', [B, T], { dims: ['b', 't'] });
    const emb = g.param('emb', [V, H]);
    const posTable = g.param('pos', [12, H]);
    const rows = g.gather(emb, ids); // [B, T, H]
    const tlen = g.op('Shape', [ids], { start: 1, end: 2 }, [{ dtype: 'int64', shape: [1] }])[0];
    const p = g.op('Slice', [posTable, g.ints([0]), tlen, g.ints([0])], {}, [{ dtype: 'float32', shape: [T, H] }])[0];
    const x = g.add(rows, p);
    g.output(x, 'x', { dims: ['b', 't', H] });
    const logits = g.gemm(g.reshape(x, [-1, H]), g.identity(emb), null, { transB: true }); // tied decoder
    g.output(logits, 'logits', { dims: ['bt', V] });
    return { g, weights: new Map([['emb', table], ['pos', pos]]) };
  }

  test('lookups return exactly the dequantized rows; one int8 table serves lookup and decoder', async () => {
    const { g, weights } = build();
    const q = quantizeGraph(g, weights);
    expect(q.tensors.map((t) => [t.name, t.shape, [...t.uses].sort()])).toEqual([
      ['emb_quantized', [V, H], ['linear', 'lookup']],
      ['pos_quantized', [12, H], ['lookup']],
    ]);
    expect(q.graph.nodes.map((n) => n.opType)).toContain('Transpose'); // decoder reads the [V, H] table transposed
    const bytes = q.graph.toBytes({ weights: q.weights, irVersion: 8 });
    expect(bytes.byteLength).toBeLessThan(g.toBytes({ weights, irVersion: 8 }).byteLength); // (ratio: export test)

    const session = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'all' });
    const ids = BigInt64Array.from([0, 5, 7, 49, 3, 1, 2, 2, 9, 0], BigInt);
    const Tq = 5;
    const out = await session.run({ ids: new ort.Tensor('int64', ids, [B, Tq]) });
    await session.release();
    const x = out.x.data as Float32Array;
    const wq = dequantize(quantizeSymmetric(table, V, H, 0));
    const pq = dequantize(quantizeSymmetric(pos, 12, H, 0));
    for (let i = 0; i < B * Tq; i++) {
      for (let h = 0; h < H; h++) {
        expect(x[i * H + h]).toBe(Math.fround(wq[Number(ids[i]) * H + h] + pq[(i % Tq) * H + h]));
      }
    }
    // The decoder agrees with the float logits up to quantization error, and picks the same top-1 row mostly.
    const logits = out.logits.data as Float32Array;
    let agree = 0;
    for (let r = 0; r < B * Tq; r++) {
      let [best, bestQ] = [0, 0];
      const ref = new Float64Array(V);
      for (let v = 0; v < V; v++) {
        for (let h = 0; h < H; h++) ref[v] += x[r * H + h] * table[v * H + h];
        if (ref[v] > ref[best]) best = v;
        if (logits[r * V + v] > logits[r * V + bestQ]) bestQ = v;
        expect(Math.abs(logits[r * V + v] - ref[v])).toBeLessThan(0.05 * (1 + Math.abs(ref[v])));
      }
      if (best === bestQ) agree++;
    }
    expect(agree).toBeGreaterThanOrEqual(B * Tq - 1);
  });

  test('options turn each part off', () => {
    const { g, weights } = build();
    expect(quantizeGraph(g, weights, { embeddings: false }).tensors.map((t) => t.uses)).toEqual([['linear']]);
    expect(quantizeGraph(g, weights, { linear: false }).tensors.map((t) => t.name)).toEqual(['emb_quantized', 'pos_quantized']);
  });
});

test('combinedName joins differing middles', () => {
  expect(combinedName(['a.b.query.weight', 'a.b.key.weight', 'a.b.value.weight'])).toBe('a.b.query+key+value.weight');
  expect(combinedName(['x.weight'])).toBe('x.weight');
});
