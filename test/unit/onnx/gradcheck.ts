/**
 * Test helpers: run a Graph in onnxruntime-node and compare autodiff gradients with central finite differences.
 */
import ort from 'onnxruntime-node';
import { Graph, toTypedArray, type DType, type TensorData, type Value } from '../../../src/onnx/graph.js';
import { gradients } from '../../../src/onnx/autodiff.js';
import { Rng } from '../../../src/util/rng.js';

export type Feeds = Record<string, { dtype: DType; shape: readonly number[]; data: TensorData }>;

export async function session(bytes: Uint8Array): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, interOpNumThreads: 1 });
}

export async function run(s: ort.InferenceSession, feeds: Feeds): Promise<Record<string, number[]>> {
  const t: Record<string, ort.Tensor> = {};
  for (const [k, f] of Object.entries(feeds)) {
    t[k] = new ort.Tensor(f.dtype, f.dtype === 'bool' ? Array.from(f.data as Uint8Array, Boolean) as never : f.data, f.shape as number[]);
  }
  const out = await s.run(t);
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, Array.from(v.data as ArrayLike<number | bigint>, Number)]));
}

/** Uniform numbers in [lo, hi) from a seeded generator. */
export function uniform(rng: Rng, n: number, lo = -1, hi = 1): number[] {
  return Array.from({ length: n }, () => lo + (hi - lo) * rng.next());
}

export interface GradInput {
  name: string;
  shape: readonly number[];
  dtype?: DType; // default: the check's float dtype
  values?: readonly number[]; // default: uniform in [-1, 1)
  grad?: boolean; // default: true for float inputs
}

export interface GradCheck {
  dtype?: 'float32' | 'float64';
  opset?: number;
  inputs: GradInput[];
  /** Builds the op(s) under test; each output is weighted by a fixed random tensor R and summed. */
  build: (g: Graph, x: Value[]) => Value | Value[];
  rtol?: number;
  atol?: number;
  h?: number;
  /** Check at most this many coordinates per input (chosen at random), default all. */
  maxCoords?: number;
  seed?: number;
}

export interface GradResult { analytic: number[]; numeric: number[]; maxErr: number; worst: string }

/**
 * f(x…) = Σ_k ReduceSum(out_k ⊙ R_k); compares ∂f/∂x from `gradients` with (f(x+h·e_i) − f(x−h·e_i))/2h.
 * Throws with the worst coordinate when |analytic − numeric| > atol + rtol·|numeric|.
 */
export async function checkGradients(c: GradCheck): Promise<GradResult> {
  const dtype = c.dtype ?? 'float64';
  const f64 = dtype === 'float64';
  const { rtol = f64 ? 1e-6 : 2e-3, atol = f64 ? 1e-9 : 2e-4, h = f64 ? 1e-5 : 1e-2 } = c;
  const rng = new Rng(c.seed ?? 7);
  const g = new Graph({ opset: c.opset ?? 20 });
  const feeds: Feeds = {};
  const xs = c.inputs.map((i) => {
    const t = i.dtype ?? dtype;
    const n = i.shape.reduce((a, b) => a * b, 1);
    feeds[i.name] = { dtype: t, shape: i.shape, data: toTypedArray(t, i.values ?? uniform(rng, n)) };
    return g.input(i.name, t, i.shape);
  });
  const outs = [c.build(g, xs)].flat();
  let f: Value | null = null;
  for (const o of outs) {
    const r = g.constant(o.dtype, o.shape, uniform(rng, o.size));
    const term = g.reduceSum(g.mul(o, r), undefined, false);
    f = f ? g.add(f, term) : term;
  }
  const wrt = xs.filter((x, k) => c.inputs[k].grad ?? (x.dtype === 'float32' || x.dtype === 'float64'));
  const grads = gradients(g, f!, wrt);
  g.output(f!, 'f');
  grads.forEach((d, k) => g.output(d, `grad_${wrt[k].name}`));
  const full = await session(g.toBytes());
  const fOnly = await session(g.toBytes({ outputs: ['f'] }));
  const res = await run(full, feeds);

  const analytic: number[] = [];
  const numeric: number[] = [];
  let maxErr = 0;
  let worst = '';
  for (const x of wrt) {
    const feed = feeds[x.name!];
    const data = feed.data as Float32Array | Float64Array;
    const grad = res[`grad_${x.name}`];
    let coords = Array.from({ length: x.size }, (_, i) => i);
    if (c.maxCoords && coords.length > c.maxCoords) coords = rng.shuffle(coords).slice(0, c.maxCoords) as number[];
    for (const i of coords) {
      const x0 = data[i];
      data[i] = x0 + h;
      const fp = (await run(fOnly, feeds)).f[0];
      data[i] = x0 - h;
      const fm = (await run(fOnly, feeds)).f[0];
      data[i] = x0;
      const num = (fp - fm) / (2 * h);
      const err = Math.abs(grad[i] - num) / (atol + rtol * Math.abs(num));
      analytic.push(grad[i]);
      numeric.push(num);
      if (err > maxErr) {
        maxErr = err;
        worst = `${x.name}[${i}]: analytic ${grad[i]} vs numeric ${num}`;
      }
    }
  }
  if (maxErr > 1) throw new Error(`gradient mismatch (${(maxErr).toFixed(2)}× tolerance) at ${worst}`);
  return { analytic, numeric, maxErr, worst };
}
