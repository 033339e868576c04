/**
 * train_step.onnx: AdamW + clipping against the closed-form update applied (in float64 here) to the gradients of
 * a gradient-only graph; decoupled weight decay only on decayed tensors; dropout keep-masks (determinism, and
 * placement/scaling against the TypeScript reference); a tiny model overfitting one batch (CE) and focal loss
 * decreasing.
 */
import ort from 'onnxruntime-node';
import { Graph } from '../../../src/onnx/graph.js';
import { compileStep, type CompiledStep } from '../../../src/model/step-compiler.js';
import { fillKeepMask } from '../../../src/train/dropout-masks.js';
import type { AdamWOptions } from '../../../src/model/adamw.js';
import { maskedLmLoss, type MlmLossKind } from '../../../src/model/losses.js';
import { BertForMaskedLM } from '../../../src/model/bert.js';
import { makeConfig, type BertConfig } from '../../../src/model/config.js';
import { mlmLoss } from '../../../src/model/losses.js';
import { initParams } from '../../../src/model/bert.js';
import { crossEntropyLoss } from '../train/focal-reference.js';
import { Rng } from '../../../src/util/rng.js';
import { batchFeeds, i64, randomWeights, referenceForward, session, testBatch, type Masks, type Weights } from './bert-reference.js';

const base = makeConfig('tiny', {
  vocab_size: 61, hidden_size: 16, num_attention_heads: 2, intermediate_size: 32, num_hidden_layers: 2, max_position_embeddings: 16,
});
const noDropout: BertConfig = { ...base, hidden_dropout_prob: 0, attention_probs_dropout_prob: 0 };
const [B, T, M] = [2, 8, 3];
const POSITIONS = [1, 3, 6, 9, 10, 12];
const LABELS = [5, 40, 7, 22, 60, -100];
const shape = { batchSize: B, seqLen: T, maxPredictions: M };

type Feeds = Record<string, ort.Tensor>;
const f32 = (data: Float32Array, dims: readonly (number | string)[]) => new ort.Tensor('float32', data, dims as number[]);
const scalar = (x: number) => f32(Float32Array.of(x), []);

/** Feeds for a train step: params, moments (zeros unless given), lr, step, the fixed batch, dropout masks. */
function stepFeeds(spec: CompiledStep, w: Weights, o: { lr: number; step: number; m?: Weights; v?: Weights; masks?: Masks }): Feeds {
  const feeds: Feeds = { ...batchFeeds(testBatch(base, B, T, 7)), masked_positions: i64(POSITIONS, [B * M]), masked_labels: i64(LABELS, [B * M]) };
  const dims = new Map(spec.io.inputs.map((i) => [i.name, i.shape]));
  for (const [name, data] of w) {
    feeds[name] = f32(data, dims.get(name)!);
    feeds[`adam_m.${name}`] = f32(o.m?.get(name) ?? new Float32Array(data.length), dims.get(name)!);
    feeds[`adam_v.${name}`] = f32(o.v?.get(name) ?? new Float32Array(data.length), dims.get(name)!);
  }
  feeds.lr = scalar(o.lr);
  feeds.step = scalar(o.step);
  for (const d of spec.io.dropout) feeds[d.name] = new ort.Tensor('bool', o.masks!.get(d.name)!, d.shape);
  return feeds;
}

/** ∂loss/∂params from a gradient-only graph built from the same model definition. */
async function gradientsOf(config: BertConfig, feeds: Feeds): Promise<Map<string, Float32Array>> {
  const g = new Graph();
  const bert = new BertForMaskedLM(g, config, { batchSize: B, seqLen: T });
  const logits = bert.mlmLogits(g.gather(bert.encode(), g.input('masked_positions', 'int64', [B * M])));
  const loss = mlmLoss(g, logits, g.input('masked_labels', 'int64', [B * M]));
  for (const [name, d] of bert.gradients(logits, loss.dLogits)) g.output(d, `grad.${name}`);
  const s = await session(g.toBytes(), 'disabled');
  const wanted = Object.fromEntries(Object.entries(feeds).filter(([k]) => s.inputNames.includes(k)));
  const out = await s.run(wanted);
  return new Map([...bert.params.keys()].map((n) => [n, out[`grad.${n}`].data as Float32Array]));
}

/** HF Trainer's decay rule, written independently of params.ts: no decay for biases and LayerNorm weights. */
const decays = (name: string) => !name.endsWith('.bias') && !name.includes('LayerNorm');

function randomMoments(w: Weights, seed: number): { m: Weights; v: Weights } {
  const rng = new Rng(seed);
  const m: Weights = new Map();
  const v: Weights = new Map();
  for (const [name, data] of w) {
    m.set(name, Float32Array.from(data, () => 0.01 * (2 * rng.next() - 1)));
    v.set(name, Float32Array.from(data, () => 1e-4 * rng.next()));
  }
  return { m, v };
}

async function checkAdamW(o: { step: number; lr: number; maxGradNorm: number; weightDecay: number; moments?: { m: Weights; v: Weights } }) {
  const spec = compileStep({ kind: 'train', config: noDropout, shape, optimizer: { maxGradNorm: o.maxGradNorm, weightDecay: o.weightDecay } });
  const w = randomWeights(noDropout, 3);
  const feeds = stepFeeds(spec, w, { lr: o.lr, step: o.step, ...o.moments });
  const out = await (await session(spec.bytes, 'disabled')).run(feeds);
  const grads = await gradientsOf(noDropout, feeds);

  const [b1, b2, eps] = [0.9, 0.999, 1e-8];
  let sq = 0;
  for (const gr of grads.values()) for (const x of gr) sq += x * x;
  const norm = Math.sqrt(sq);
  const s = Math.min(1, o.maxGradNorm / (norm + 1e-6));
  const bc1 = 1 - b1 ** o.step;
  const bc2 = 1 - b2 ** o.step;
  let worst = 0;
  for (const [name, p] of w) {
    const gr = grads.get(name)!;
    const m0 = o.moments?.m.get(name);
    const v0 = o.moments?.v.get(name);
    const [np, nm, nv] = ['new.', 'new.adam_m.', 'new.adam_v.'].map((k) => out[k + name].data as Float32Array);
    for (let i = 0; i < p.length; i++) {
      const gi = s * gr[i];
      const m = b1 * (m0?.[i] ?? 0) + (1 - b1) * gi;
      const v = b2 * (v0?.[i] ?? 0) + (1 - b2) * gi * gi;
      const decayed = decays(name) ? p[i] * (1 - o.lr * o.weightDecay) : p[i];
      const ref = decayed - (o.lr / bc1) * m / (Math.sqrt(v) / Math.sqrt(bc2) + eps);
      worst = Math.max(worst,
        Math.abs(nm[i] - m) / (1e-9 + 1e-4 * Math.abs(m)),
        Math.abs(nv[i] - v) / (1e-12 + 1e-4 * Math.abs(v)),
        Math.abs(np[i] - ref) / (2e-6 + 1e-5 * Math.abs(ref)));
    }
  }
  return { norm, s, worst, gradNorm: out.grad_norm.data[0] as number };
}

describe('train_step: AdamW with clipping', () => {
  test('step 1 from zero moments, no clipping: the closed-form update', async () => {
    const r = await checkAdamW({ step: 1, lr: 1e-2, maxGradNorm: 1e6, weightDecay: 0.01 });
    expect(r.s).toBe(1);
    expect(Math.abs(r.gradNorm - r.norm)).toBeLessThan(1e-4 * r.norm);
    expect(r.worst).toBeLessThanOrEqual(1);
  });

  test('step 5 with moments, clipping engaged (norm > max), bias correction', async () => {
    const r = await checkAdamW({ step: 5, lr: 3e-3, maxGradNorm: 0.05, weightDecay: 0.1, moments: randomMoments(randomWeights(noDropout, 3), 9) });
    expect(r.norm).toBeGreaterThan(0.05);
    expect(r.s).toBeLessThan(1);
    expect(Math.abs(r.gradNorm - r.norm)).toBeLessThan(1e-4 * r.norm); // reported before clipping
    expect(r.worst).toBeLessThanOrEqual(1);
  });

  test('decoupled weight decay lr·wd·p on weights only, never on biases or LayerNorm weights', async () => {
    const w = randomWeights(noDropout, 4);
    const run = async (wd: number) => {
      const spec = compileStep({ kind: 'train', config: noDropout, shape, optimizer: { weightDecay: wd } });
      return (await session(spec.bytes, 'disabled')).run(stepFeeds(spec, w, { lr: 0.1, step: 1 }));
    };
    const [a, b] = [await run(0), await run(0.5)];
    let decayed = 0;
    for (const [name, p] of w) {
      const [pa, pb] = [a[`new.${name}`].data as Float32Array, b[`new.${name}`].data as Float32Array];
      for (let i = 0; i < p.length; i++) {
        const want = decays(name) ? -0.1 * 0.5 * p[i] : 0;
        expect(Math.abs(pb[i] - pa[i] - want)).toBeLessThan(1e-6);
      }
      if (decays(name)) decayed++;
    }
    expect(decayed).toBe(3 + 2 * 6 + 1); // embeddings ×3, 6 Linear weights per layer, the MLM transform
  });
});

describe('train_step: dropout keep-masks', () => {
  const spec = compileStep({ kind: 'train', config: base, shape });
  const w = randomWeights(base, 6);
  const masks = (seed: number, allKeep = false): Masks => {
    const rng = new Rng(seed);
    return new Map(spec.io.dropout.map((d) => {
      const n = d.shape.reduce((a, b) => a * b, 1);
      return [d.name, allKeep ? new Uint8Array(n).fill(1) : fillKeepMask(rng, new Uint8Array(n), d.keepProb)];
    }));
  };

  test('one keep-mask per HF dropout site', () => {
    expect(spec.io.dropout.map((d) => d.name)).toEqual(['dropout.embeddings',
      'dropout.layer.0.attention', 'dropout.layer.0.attention.output', 'dropout.layer.0.output',
      'dropout.layer.1.attention', 'dropout.layer.1.attention.output', 'dropout.layer.1.output']);
    expect(spec.io.dropout[1].shape).toEqual([B, 2, T, T]);
    expect(spec.io.dropout.every((d) => d.keepProb === 0.9)).toBe(true);
    expect(compileStep({ kind: 'train', config: noDropout, shape }).io.dropout).toEqual([]);
  });

  test('same masks → identical step; other masks → another loss; masks match the reference forward', async () => {
    const s = await session(spec.bytes);
    const run = (mk: Masks) => s.run(stepFeeds(spec, w, { lr: 1e-3, step: 1, masks: mk }));
    const [a, b, c] = [await run(masks(1)), await run(masks(1)), await run(masks(2))];
    for (const k of ['loss', 'grad_norm', 'new.bert.embeddings.word_embeddings.weight', 'new.adam_v.cls.predictions.bias']) {
      expect(Buffer.from((a[k].data as Float32Array).buffer).equals(Buffer.from((b[k].data as Float32Array).buffer))).toBe(true);
    }
    expect(c.loss.data[0]).not.toBe(a.loss.data[0]);
    for (const [mk, out] of [[masks(2), c], [masks(0, true), await run(masks(0, true))]] as const) {
      const logits = referenceForward(base, w, testBatch(base, B, T, 7), { masks: mk }).logits(POSITIONS);
      expect(Math.abs((out.loss.data[0] as number) - crossEntropyLoss(logits, LABELS, base.vocab_size).loss)).toBeLessThan(1e-4);
    }
  });
});

describe('train_step: learning', () => {
  async function train(o: { config: BertConfig; steps: number; lr: number; loss?: MlmLossKind; optimizer?: Partial<AdamWOptions> }) {
    const spec = compileStep({ kind: 'train', config: o.config, shape, loss: maskedLmLoss({ kind: o.loss }), optimizer: o.optimizer });
    const s = await session(spec.bytes);
    const rng = new Rng(21);
    let w: Weights = initParams(o.config, rng);
    let m: Weights | undefined;
    let v: Weights | undefined;
    const losses: number[] = [];
    let last: Record<string, ort.Tensor> = {};
    for (let step = 1; step <= o.steps; step++) {
      const mk: Masks = new Map(spec.io.dropout.map((d) => [d.name, fillKeepMask(rng, new Uint8Array(d.shape.reduce((a, b) => a * b, 1)), d.keepProb)]));
      last = await s.run(stepFeeds(spec, w, { lr: o.lr, step, m, v, masks: mk }));
      losses.push(last.loss.data[0] as number);
      const take = (k: string) => new Map(spec.params.map((p) => p.name).map((n) => [n, last[k + n].data as Float32Array]));
      [w, m, v] = [take('new.'), take('new.adam_m.'), take('new.adam_v.')];
    }
    return { losses, correct: last.mlm_correct.data[0], count: last.mlm_count.data[0] };
  }

  test('a tiny model overfits one batch (CE) to near-zero loss', async () => {
    const r = await train({ config: noDropout, steps: 250, lr: 3e-3 });
    expect(r.losses[0]).toBeGreaterThan(3.5); // ≈ ln 61 at init
    expect(r.losses.at(-1)!).toBeLessThan(0.05);
    expect(r.count).toBe(5);
    expect(r.correct).toBe(5);
  });

  test('focal loss decreases (with dropout on)', async () => {
    const r = await train({ config: base, steps: 120, lr: 3e-3, loss: 'focal' });
    const head = r.losses.slice(0, 5).reduce((a, b) => a + b) / 5;
    const tail = r.losses.slice(-5).reduce((a, b) => a + b) / 5;
    expect(tail).toBeLessThan(0.2 * head);
  });
});
