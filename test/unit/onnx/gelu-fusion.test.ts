/**
 * Below opset 20 GELU is written as the erf composite; ONNX Runtime fuses it into one Gelu kernel only when the
 * composite has exactly the shape its GeluFusion matches (Div by √2 → Erf → Add 1 → Mul with x·0.5). ORT's profiler
 * names the kernels that ran: Gelu, and no Erf. The values equal x·Φ(x).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { Graph } from '../../../src/onnx/graph.js';

test('opset 17 GELU runs as one fused Gelu kernel with the exact erf values', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gelu-fusion-'));
  try {
    const g = new Graph({ opset: 17 });
    const x = g.input('x', 'float32', [6]);
    g.output(g.gelu(g.add(x, 0)), 'y');
    const s = await ort.InferenceSession.create(g.toBytes(), { enableProfiling: true, profileFilePrefix: join(dir, 'p'), graphOptimizationLevel: 'all' });
    const xs = [-3, -1, -0.5, 0, 0.7, 2.5];
    const y = (await s.run({ x: new ort.Tensor('float32', Float32Array.from(xs), [6]) })).y.data as Float32Array;
    s.endProfiling();
    await s.release();
    // Φ(x) from erf's series (float64): 0.5·(1 + erf(x/√2))
    const erf = (z: number) => {
      let sum = 0;
      let term = z;
      for (let n = 0; Math.abs(term) > 1e-17; n++) {
        sum += term / (2 * n + 1);
        term *= (-z * z) / (n + 1);
      }
      return (2 / Math.sqrt(Math.PI)) * sum;
    };
    xs.forEach((v, i) => expect(Math.abs(y[i] - v * 0.5 * (1 + erf(v / Math.SQRT2)))).toBeLessThan(1e-6));
    const profile = readdirSync(dir).find((f) => f.endsWith('.json'))!;
    const ops = new Set((JSON.parse(readFileSync(join(dir, profile), 'utf8')) as { args?: { op_name?: string } }[])
      .map((e) => e.args?.op_name).filter(Boolean));
    expect(ops.has('Gelu')).toBe(true);
    expect(ops.has('Erf')).toBe(false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
