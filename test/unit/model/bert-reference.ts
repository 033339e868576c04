/**
 * Test helpers: an independent BertForMaskedLM forward pass in plain TypeScript (float64 loops, written from HF
 * modeling_bert.py, sharing no code with src/model/bert.ts), an ORT runner, and random test weights/batches.
 */
import ort from 'onnxruntime-node';
import type { BertConfig } from '../../../src/model/config.js';
import { paramTable } from '../../../src/model/bert.js';
import type { ParamSpec } from '../../../src/model/params.js';
import { Rng } from '../../../src/util/rng.js';

export type Weights = Map<string, Float32Array>;

export interface RefBatch {
  B: number;
  T: number;
  ids: number[];
  mask: number[];
  types: number[];
}

/** erf to ~1e-14: Taylor series below 3, the erfc continued fraction above (no Math.erf in JS). */
export function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax < 3) {
    let term = x;
    let sum = x;
    for (let n = 1; n < 100; n++) {
      term *= (-x * x) / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  }
  // erfc(x) = exp(−x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + ...))))), evaluated bottom-up
  let f = ax;
  for (let k = 60; k >= 1; k--) f = ax + k / 2 / f;
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f;
  return Math.sign(x) * (1 - erfc);
}

export const geluExact = (x: number): number => 0.5 * x * (1 + erf(x / Math.SQRT2));
export const geluTanh = (x: number): number => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));

/** Dropout keep-masks by site name (bert.ts names), applied as torch does: x·keep/(1−p). */
export type Masks = Map<string, Uint8Array>;

export interface RefOutput {
  /** Last hidden state [B·T, H]. */
  hidden: Float64Array;
  /** MLM logits [rows.length, V] for the given flat rows of `hidden`. */
  logits: (rows: readonly number[]) => Float64Array;
}

/** BertForMaskedLM forward, float64. */
export function referenceForward(c: BertConfig, w: Weights, batch: RefBatch, o: { gelu?: 'none' | 'tanh'; masks?: Masks } = {}): RefOutput {
  const { B, T } = batch;
  const H = c.hidden_size;
  const A = c.num_attention_heads;
  const d = H / A;
  const I = c.intermediate_size;
  const N = B * T;
  const eps = c.layer_norm_eps;
  const act = (o.gelu ?? (c.hidden_act === 'gelu' ? 'none' : 'tanh')) === 'none' ? geluExact : geluTanh;
  const W = (name: string) => {
    const t = w.get(name);
    if (!t) throw new Error(`reference: missing ${name}`);
    return t;
  };
  const drop = (x: Float64Array, site: string, p: number): Float64Array => {
    const m = o.masks?.get(site);
    if (!m || p === 0) return x;
    for (let i = 0; i < x.length; i++) x[i] = m[i] ? x[i] / (1 - p) : 0;
    return x;
  };
  // y[n, out] = x[n, in]·W[out, in] + b[out]
  const linear = (x: Float64Array, rows: number, inp: number, name: string, out: number) => {
    const Wt = W(`${name}.weight`);
    const b = W(`${name}.bias`);
    const y = new Float64Array(rows * out);
    for (let n = 0; n < rows; n++) {
      for (let j = 0; j < out; j++) {
        let s = b[j];
        for (let k = 0; k < inp; k++) s += x[n * inp + k] * Wt[j * inp + k];
        y[n * out + j] = s;
      }
    }
    return y;
  };
  const layerNorm = (x: Float64Array, rows: number, name: string) => {
    const g = W(`${name}.weight`);
    const b = W(`${name}.bias`);
    const y = new Float64Array(x.length);
    for (let n = 0; n < rows; n++) {
      let mean = 0;
      for (let k = 0; k < H; k++) mean += x[n * H + k];
      mean /= H;
      let v = 0;
      for (let k = 0; k < H; k++) v += (x[n * H + k] - mean) ** 2;
      v /= H;
      const r = 1 / Math.sqrt(v + eps);
      for (let k = 0; k < H; k++) y[n * H + k] = (x[n * H + k] - mean) * r * g[k] + b[k];
    }
    return y;
  };

  // Embeddings
  const we = W('bert.embeddings.word_embeddings.weight');
  const pe = W('bert.embeddings.position_embeddings.weight');
  const te = W('bert.embeddings.token_type_embeddings.weight');
  let x: Float64Array = new Float64Array(N * H);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const n = b * T + t;
      for (let k = 0; k < H; k++) x[n * H + k] = we[batch.ids[n] * H + k] + pe[t * H + k] + te[batch.types[n] * H + k];
    }
  }
  x = drop(layerNorm(x, N, 'bert.embeddings.LayerNorm'), 'dropout.embeddings', c.hidden_dropout_prob);

  const MIN = -3.4028234663852886e38; // torch.finfo(float32).min
  for (let l = 0; l < c.num_hidden_layers; l++) {
    const p = `bert.encoder.layer.${l}`;
    const q = linear(x, N, H, `${p}.attention.self.query`, H);
    const k = linear(x, N, H, `${p}.attention.self.key`, H);
    const v = linear(x, N, H, `${p}.attention.self.value`, H);
    const probs = new Float64Array(B * A * T * T); // [B, A, T(query), T(key)]
    for (let b = 0; b < B; b++) {
      for (let h = 0; h < A; h++) {
        for (let i = 0; i < T; i++) {
          const row = ((b * A + h) * T + i) * T;
          let max = -Infinity;
          for (let j = 0; j < T; j++) {
            let s = 0;
            for (let e = 0; e < d; e++) s += q[(b * T + i) * H + h * d + e] * k[(b * T + j) * H + h * d + e];
            s = s / Math.sqrt(d) + (1 - batch.mask[b * T + j]) * MIN;
            probs[row + j] = s;
            max = Math.max(max, s);
          }
          let z = 0;
          for (let j = 0; j < T; j++) z += probs[row + j] = Math.exp(probs[row + j] - max);
          for (let j = 0; j < T; j++) probs[row + j] /= z;
        }
      }
    }
    drop(probs, `dropout.layer.${l}.attention`, c.attention_probs_dropout_prob);
    const ctx = new Float64Array(N * H);
    for (let b = 0; b < B; b++) {
      for (let h = 0; h < A; h++) {
        for (let i = 0; i < T; i++) {
          for (let e = 0; e < d; e++) {
            let s = 0;
            for (let j = 0; j < T; j++) s += probs[((b * A + h) * T + i) * T + j] * v[(b * T + j) * H + h * d + e];
            ctx[(b * T + i) * H + h * d + e] = s;
          }
        }
      }
    }
    const attn = drop(linear(ctx, N, H, `${p}.attention.output.dense`, H), `dropout.layer.${l}.attention.output`, c.hidden_dropout_prob);
    for (let i = 0; i < attn.length; i++) attn[i] += x[i];
    x = layerNorm(attn, N, `${p}.attention.output.LayerNorm`);
    const mid = linear(x, N, H, `${p}.intermediate.dense`, I).map(act);
    const out = drop(linear(mid, N, I, `${p}.output.dense`, H), `dropout.layer.${l}.output`, c.hidden_dropout_prob);
    for (let i = 0; i < out.length; i++) out[i] += x[i];
    x = layerNorm(out, N, `${p}.output.LayerNorm`);
  }
  const hidden = x;
  const logits = (rows: readonly number[]) => {
    const picked = new Float64Array(rows.length * H);
    rows.forEach((r, i) => picked.set(hidden.subarray(r * H, r * H + H), i * H));
    const t = layerNorm(linear(picked, rows.length, H, 'cls.predictions.transform.dense', H).map(act), rows.length, 'cls.predictions.transform.LayerNorm');
    const V = c.vocab_size;
    const bias = W('cls.predictions.bias');
    const y = new Float64Array(rows.length * V);
    for (let n = 0; n < rows.length; n++) {
      for (let j = 0; j < V; j++) {
        let s = bias[j];
        for (let k = 0; k < H; k++) s += t[n * H + k] * we[j * H + k]; // decoder tied to the word embeddings
        y[n * V + j] = s;
      }
    }
    return y;
  };
  return { hidden, logits };
}

/** Random weights that make every term matter (the HF init's std 0.02 would leave logits nearly flat). */
export function randomWeights(c: BertConfig, seed: number, scale = 0.3, table: readonly ParamSpec[] = paramTable(c)): Weights {
  const rng = new Rng(seed);
  const w: Weights = new Map();
  for (const p of table) {
    const n = p.shape.reduce((a, b) => a * b, 1);
    const isLnWeight = p.name.endsWith('LayerNorm.weight');
    w.set(p.name, Float32Array.from({ length: n }, () => (isLnWeight ? 1 : 0) + scale * (2 * rng.next() - 1)));
  }
  return w;
}

/** A batch with padding in the second sequence and both token types. */
export function testBatch(c: BertConfig, B: number, T: number, seed: number): RefBatch {
  const rng = new Rng(seed);
  const ids: number[] = [];
  const mask: number[] = [];
  const types: number[] = [];
  for (let b = 0; b < B; b++) {
    const len = b === 1 ? T - 3 : T;
    for (let t = 0; t < T; t++) {
      ids.push(t < len ? 1 + rng.int(c.vocab_size - 1) : 0);
      mask.push(t < len ? 1 : 0);
      types.push(t >= T / 2 && t < len ? 1 : 0);
    }
  }
  return { B, T, ids, mask, types };
}

export const i64 = (xs: readonly number[], dims: number[]) => new ort.Tensor('int64', BigInt64Array.from(xs.map((v) => BigInt(v))), dims);

export function batchFeeds(b: RefBatch): Record<string, ort.Tensor> {
  return { input_ids: i64(b.ids, [b.B, b.T]), attention_mask: i64(b.mask, [b.B, b.T]), token_type_ids: i64(b.types, [b.B, b.T]) };
}

export async function session(bytes: Uint8Array, level: 'disabled' | 'all' = 'all'): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(bytes, { graphOptimizationLevel: level, intraOpNumThreads: 1, interOpNumThreads: 1 });
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/**
 * Central differences at `coords` random coordinates of every parameter (float64 weights mutated in place and
 * restored) against the analytic gradients `grad.<name>`: the worst relative error |a − n| / (1e-8 + 1e-5·|n|).
 */
export async function probeGradients(
  table: readonly { name: string }[], params: Map<string, Float64Array>, analytic: Record<string, { data: unknown }>,
  loss: () => Promise<number>, rng: { int(n: number): number }, coords: number, h = 1e-5,
): Promise<{ checked: number; worst: { err: number; at: string } }> {
  let checked = 0;
  let worst = { err: 0, at: '' };
  for (const spec of table) {
    const data = params.get(spec.name)!;
    const grad = analytic[`grad.${spec.name}`].data as Float64Array;
    for (let k = 0; k < coords; k++) {
      const i = rng.int(data.length);
      const x0 = data[i];
      data[i] = x0 + h;
      const fp = await loss();
      data[i] = x0 - h;
      const fm = await loss();
      data[i] = x0;
      const numeric = (fp - fm) / (2 * h);
      const err = Math.abs(grad[i] - numeric) / (1e-8 + 1e-5 * Math.abs(numeric));
      if (err > worst.err) worst = { err, at: `${spec.name}[${i}]: analytic ${grad[i]}, numeric ${numeric}` };
      checked++;
    }
  }
  return { checked, worst };
}
