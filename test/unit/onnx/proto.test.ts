/**
 * The protobuf encoder, checked by loading what it writes in onnxruntime-node and comparing outputs with values
 * computed here: a MatMul+Add, every attribute type, negative int64s, symbolic dims, initializers vs inputs, and a
 * tensor of tens of MB.
 */
import { encodeModel } from '../../../src/onnx/proto.js';
import { Graph, float, floats, tensorAttr } from '../../../src/onnx/graph.js';
import { run, session } from './gradcheck.js';

const f32 = (xs: number[]) => Float32Array.from(xs);
const close = (a: number[], b: number[], tol = 1e-5) => {
  expect(a.length).toBe(b.length);
  a.forEach((v, i) => expect(Math.abs(v - b[i])).toBeLessThanOrEqual(tol * (1 + Math.abs(b[i]))));
};

describe('proto encoder', () => {
  test('a hand-written MatMul + Add model runs in ORT', async () => {
    const bytes = encodeModel({
      graphName: 'mm', opset: 17, inputs: [{ name: 'x', dtype: 'float32', dims: [2, 3] }],
      outputs: [{ name: 'y', dtype: 'float32', dims: [2, 2] }],
      initializers: [
        { name: 'w', dtype: 'float32', dims: [3, 2], raw: new Uint8Array(f32([1, 2, 3, 4, 5, 6]).buffer) },
        { name: 'b', dtype: 'float32', dims: [2], raw: new Uint8Array(f32([0.5, -1]).buffer) },
      ],
      nodes: [{ opType: 'MatMul', inputs: ['x', 'w'], outputs: ['xw'] }, { opType: 'Add', inputs: ['xw', 'b'], outputs: ['y'] }],
    });
    const out = await run(await session(bytes), { x: { dtype: 'float32', shape: [2, 3], data: f32([1, 0, -1, 2, 1, 0]) } });
    // [1,0,-1]·W = [1-5, 2-6] = [-4,-4]; [2,1,0]·W = [2+3, 4+4] = [5,8]
    expect(out.y).toEqual([-3.5, -5, 5.5, 7]);
  });

  test('negative int64 attributes are 10-byte two\'s-complement varints', () => {
    const bytes = encodeModel({
      graphName: 'g', opset: 17, inputs: [], outputs: [], initializers: [],
      nodes: [{ opType: 'X', inputs: [], outputs: [], attrs: [['v', { kind: 'int', value: -100 }]] }],
    });
    const hex = Buffer.from(bytes).toString('hex');
    expect(hex).toContain('189cffffffffffffffff01'); // field 3 (i), wire 0, then −100
    expect(hex).toContain('a00102'); // field 20 (type) = INT
  });

  test('ModelProto header: IR version, producer, opset', () => {
    const bytes = Buffer.from(encodeModel({ graphName: 'g', opset: 20, irVersion: 10, inputs: [], outputs: [], initializers: [], nodes: [] }));
    expect(bytes.subarray(0, 2).toString('hex')).toBe('080a'); // ir_version = 10
    expect(bytes.includes(Buffer.from('compactlm'))).toBe(true);
    expect(bytes.subarray(-6).toString('hex')).toBe('42040a001014'); // opset_import { domain "" version 20 }
  });
});

describe('attributes of every type, run in ORT', () => {
  test('int, ints, float written as an integral value, string, floats, tensor', async () => {
    const g = new Graph();
    const x = g.input('x', 'float32', [2, 3]);
    g.output(g.softmax(x, 0), 'softmax0'); // int
    g.output(g.transpose(x, [1, 0]), 'transposed'); // ints
    g.output(g.layerNorm(x, g.constant('float32', [3], [1, 1, 1]), null, { epsilon: 1 }), 'ln'); // float 1.0
    g.output(g.gelu(x, 'tanh'), 'gelu'); // string
    g.output(g.op('Constant', [], { value_floats: floats([1.5, -2.25]) }, [{ dtype: 'float32', shape: [2] }])[0], 'floats');
    g.output(g.op('ConstantOfShape', [g.ints([2, 2])], { value: tensorAttr('int64', [1], [-7]) }, [{ dtype: 'int64', shape: [2, 2] }])[0], 'tensor');
    g.output(g.op('Elu', [x], { alpha: float(2) }, [{ dtype: 'float32', shape: [2, 3] }])[0], 'elu');
    const xs = [1, -2, 0.5, 3, 0, -1];
    const out = await run(await session(g.toBytes()), { x: { dtype: 'float32', shape: [2, 3], data: f32(xs) } });

    const col = [0, 1, 2].map((j) => [Math.exp(xs[j]), Math.exp(xs[3 + j])]);
    close(out.softmax0, [...col.map((c) => c[0] / (c[0] + c[1])), ...col.map((c) => c[1] / (c[0] + c[1]))]);
    expect(out.transposed).toEqual([1, 3, -2, 0, 0.5, -1]);
    const ln = [0, 1].flatMap((r) => {
      const row = xs.slice(3 * r, 3 * r + 3);
      const m = row.reduce((a, b) => a + b) / 3;
      const v = row.reduce((a, b) => a + (b - m) ** 2, 0) / 3;
      return row.map((e) => (e - m) / Math.sqrt(v + 1));
    });
    close(out.ln, ln);
    close(out.gelu, xs.map((e) => 0.5 * e * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (e + 0.044715 * e ** 3)))));
    expect(out.floats).toEqual([1.5, -2.25]);
    expect(out.tensor).toEqual([-7, -7, -7, -7]);
    close(out.elu, xs.map((e) => (e > 0 ? e : 2 * (Math.exp(e) - 1))));
  });

  test('a non-integral number for an int attribute is refused', () => {
    const g = new Graph();
    const x = g.input('x', 'float32', [2]);
    expect(() => g.op('Elu', [x], { alpha: 0.5 }, [{ dtype: 'float32', shape: [2] }])).toThrow(/wrap float attributes with float\(\)/);
  });
});

describe('serialization', () => {
  test('symbolic batch/sequence dims: one model runs at several shapes', async () => {
    const g = new Graph();
    const x = g.input('x', 'float32', [2, 3, 4], { dims: ['batch', 'sequence', 4] });
    const w = g.param('w', [4, 4]);
    const heads = g.transpose(g.reshape(g.matmul(x, w), [0, 0, 2, 2]), [0, 2, 1, 3]); // [B, 2, T, 2]
    g.output(g.reshape(g.transpose(heads, [0, 2, 1, 3]), [0, 0, -1]), 'y', { dims: ['batch', 'sequence', 4] });
    const wv = f32(Array.from({ length: 16 }, (_, i) => (i % 5) - 2));
    const s = await session(g.toBytes({ weights: new Map([['w', wv]]) }));
    for (const [b, t] of [[1, 5], [3, 2]]) {
      const xv = Array.from({ length: b * t * 4 }, (_, i) => Math.sin(i));
      const out = await run(s, { x: { dtype: 'float32', shape: [b, t, 4], data: f32(xv) } });
      const ref = Array.from({ length: b * t * 4 }, (_, i) => {
        const [r, j] = [Math.floor(i / 4), i % 4];
        return [0, 1, 2, 3].reduce((acc, k) => acc + xv[4 * r + k] * wv[4 * k + j], 0);
      });
      close(out.y, ref);
    }
  });

  test('params as inputs (training) and as initializers (inference) give the same result', async () => {
    const g = new Graph();
    const x = g.input('x', 'float32', [2, 2]);
    const w = g.param('w', [2, 2]);
    const b = g.param('b', [2]);
    g.output(g.add(g.matmul(x, w), b), 'y');
    const feeds = { x: { dtype: 'float32' as const, shape: [2, 2], data: f32([1, 2, 3, 4]) } };
    const wv = f32([1, -1, 0.5, 2]);
    const bv = f32([10, 20]);
    const asInputs = await run(await session(g.toBytes()), { ...feeds, w: { dtype: 'float32', shape: [2, 2], data: wv }, b: { dtype: 'float32', shape: [2], data: bv } });
    const embedded = await run(await session(g.toBytes({ weights: (n) => (n === 'w' ? wv : bv) })), feeds);
    expect(asInputs.y).toEqual([12, 23, 15, 25]);
    expect(embedded.y).toEqual(asInputs.y);
    expect(() => g.toBytes({ weights: new Map([['w', wv]]) })).toThrow(/weights for b must be a Float32Array of 2 elements/);
  });

  test('dead nodes are dropped: an unused float64 Erf (no ORT kernel) does not stop the session', async () => {
    const g = new Graph();
    const x = g.input('x', 'float64', [3]);
    g.output(g.erf(x), 'unusable');
    g.output(g.mul(x, 2), 'y');
    await expect(session(g.toBytes())).rejects.toThrow(/Erf/);
    const out = await run(await session(g.toBytes({ outputs: ['y'] })), { x: { dtype: 'float64', shape: [3], data: Float64Array.from([1, 2, 3]) } });
    expect(out.y).toEqual([2, 4, 6]);
  });

  test('outputs of inputs and of already-named values get an Identity', async () => {
    const g = new Graph();
    const x = g.input('x', 'float32', [2]);
    const y = g.neg(x);
    g.output(x, 'x_out');
    g.output(y, 'y1');
    g.output(y, 'y2');
    const out = await run(await session(g.toBytes()), { x: { dtype: 'float32', shape: [2], data: f32([1, -2]) } });
    expect([out.x_out, out.y1, out.y2]).toEqual([[1, -2], [-1, 2], [-1, 2]]);
  });

  test('a 32 MB initializer round-trips through ORT', async () => {
    const g = new Graph();
    const ids = g.input('ids', 'int64', [3]);
    const table = g.param('table', [1 << 21, 4]);
    g.output(g.gather(table, ids), 'rows');
    const tv = new Float32Array((1 << 21) * 4);
    for (let i = 0; i < tv.length; i += 4099) tv[i] = i;
    const bytes = g.toBytes({ weights: new Map([['table', tv]]) });
    expect(bytes.length).toBeGreaterThan(tv.byteLength);
    const pick = [0, 4099 * 1000, (1 << 21) - 1];
    const rowsOf = pick.map((r) => Math.floor(r / 4));
    const out = await run(await session(bytes), { ids: { dtype: 'int64', shape: [3], data: BigInt64Array.from(rowsOf.map(BigInt)) } });
    expect(out.rows).toEqual(rowsOf.flatMap((r) => Array.from(tv.subarray(4 * r, 4 * r + 4))));
  });
});
