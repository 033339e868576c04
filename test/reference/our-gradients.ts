/**
 * CompactLM's masked-LM loss and parameter gradients from its compiled ONNX graph, for the reference gradient
 * check (gradients.test.ts) — the ONE place the reference suite reaches into the graph builders, so that a
 * refactor of the step compiler re-points only this file.
 *
 * The graph is the one train_step.onnx is made of, before the AdamW update: BertForMaskedLM's encoder, the MLM head
 * on the gathered masked rows, the closed-form cross-entropy gradient (model/losses.ts) seeding reverse-mode
 * autodiff (`bert.gradients`), run by onnxruntime-node with the session options the trainer uses
 * (runtime/session.ts createSession: all graph optimizations).
 *
 * `weightValues` is the weight recipe of make_grad_fixture.py, bit for bit (integer hash → float32).
 */
import ort from 'onnxruntime-node';
import { Graph } from '../../src/onnx/graph.js';
import { BertForMaskedLM } from '../../src/model/bert.js';
import { mlmLoss } from '../../src/model/losses.js';
import type { BertConfig } from '../../src/model/config.js';
import { createSession } from '../../src/runtime/session.js';

export interface MlmBatch {
  input_ids: number[][];
  attention_mask: number[][];
  token_type_ids: number[][];
  /** Flat rows b·T + t of the [B·T, H] hidden states, one per masked slot. */
  masked_positions: number[];
  /** Label per slot; -100 = unused slot. */
  masked_labels: number[];
}

export interface LossAndGradients {
  loss: number;
  /** ∂loss/∂parameter by Hugging Face name (tied decoder merged into the word embeddings), as float64. */
  grads: Map<string, Float64Array>;
  shapes: Map<string, number[]>;
}

const i64 = (rows: number[] | number[][], shape: number[]) =>
  new ort.Tensor('int64', BigInt64Array.from(rows.flat(), (v) => BigInt(v)), shape);

/**
 * Loss and every parameter gradient for `batch`, in the graph's float dtype (float64 graphs need a tanh GELU
 * config). `weights(name, size)` gives each parameter's values.
 */
export async function ourLossAndGradients(
  config: BertConfig,
  dtype: 'float32' | 'float64',
  batch: MlmBatch,
  weights: (name: string, size: number) => Float32Array,
): Promise<LossAndGradients> {
  const [B, T] = [batch.input_ids.length, batch.input_ids[0].length];
  const N = batch.masked_positions.length;
  const g = new Graph();
  const bert = new BertForMaskedLM(g, config, { batchSize: B, seqLen: T, dtype, dropout: true });
  const positions = g.input('masked_positions', 'int64', [N]);
  const labels = g.input('masked_labels', 'int64', [N]);
  const logits = bert.mlmLogits(g.gather(bert.encode(), positions));
  const loss = mlmLoss(g, logits, labels, { kind: 'ce' });
  const grads = bert.gradients(logits, loss.dLogits);
  if (bert.dropoutSites.length > 0) throw new Error('our-gradients: the config must have dropout 0');
  g.output(loss.loss, 'loss');
  const outName = new Map([...grads.keys()].map((name, i) => [name, `grad_${i}`]));
  for (const [name, d] of grads) g.output(d, outName.get(name)!);

  const session = await createSession(g.toBytes(), { threads: 1 });
  const feeds: Record<string, ort.Tensor> = {
    input_ids: i64(batch.input_ids, [B, T]),
    attention_mask: i64(batch.attention_mask, [B, T]),
    token_type_ids: i64(batch.token_type_ids, [B, T]),
    masked_positions: i64(batch.masked_positions, [N]),
    masked_labels: i64(batch.masked_labels, [N]),
  };
  const shapes = new Map<string, number[]>();
  for (const [name, v] of bert.params) {
    const shape = [...v.shape] as number[];
    shapes.set(name, shape);
    const w = weights(name, v.size);
    feeds[name] = new ort.Tensor(dtype, dtype === 'float64' ? Float64Array.from(w) : w, shape);
  }
  try {
    const out = await session.run(feeds);
    const toF64 = (t: ort.Tensor) => Float64Array.from(t.data as Float32Array | Float64Array);
    return {
      loss: Number(out.loss.data[0]),
      grads: new Map([...grads.keys()].map((name) => [name, toF64(out[outName.get(name)!])])),
      shapes,
    };
  } finally {
    await session.release();
  }
}

// ---- the fixture's weight recipe (make_grad_fixture.py weight_values) ----------------------------------------

function fnv1a32(s: string): number {
  let h = 0x811c9dc5;
  for (const b of Buffer.from(s, 'utf8')) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h >>> 0;
}

function mix32(x: number): number {
  x = (x ^ (x >>> 16)) >>> 0;
  x = Math.imul(x, 0x7feb352d) >>> 0;
  x = (x ^ (x >>> 15)) >>> 0;
  x = Math.imul(x, 0x846ca68b) >>> 0;
  return (x ^ (x >>> 16)) >>> 0;
}

/** v = (mix32(fnv1a32(name) + i·0x9E3779B9) >> 8)/2²³ − 1 ∈ [−1, 1); float32(1 + v/4) for LayerNorm weights, else float32(v/2). */
export function weightValues(name: string, n: number): Float32Array {
  const h0 = fnv1a32(name);
  const ln = name.endsWith('LayerNorm.weight');
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const v = (mix32((h0 + Math.imul(i, 0x9e3779b9)) >>> 0) >>> 8) / 2 ** 23 - 1;
    out[i] = ln ? 1 + v / 4 : v / 2;
  }
  return out;
}
