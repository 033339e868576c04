/**
 * The distillation loss (src/model/distill-loss.ts) against an independent float64 computation in plain JS
 * (DistilBERT's α·T²·KLDivLoss(batchmean) + (1−α)·CE over the masked rows), its closed-form gradient against
 * central finite differences, α = 0 against the plain masked-LM cross-entropy, the T² scaling (Hinton et al.
 * 2015: with T² the soft-target gradient tends to the logit-matching one, not to zero), and a whole-BERT float64
 * gradient check with the distillation loss seeding the backward pass.
 */
import ort from 'onnxruntime-node';
import { Graph } from '../../../src/onnx/graph.js';
import { distillLoss, type DistillLossOptions } from '../../../src/model/distill-loss.js';
import { mlmLoss } from '../../../src/model/losses.js';
import { BertForMaskedLM } from '../../../src/model/bert.js';
import { makeConfig } from '../../../src/model/config.js';
import { paramTable } from '../../../src/model/bert.js';
import { Rng } from '../../../src/util/rng.js';
import { batchFeeds, i64, randomWeights, session as bertSession, testBatch } from '../model/bert-reference.js';

const [N, V] = [5, 7];
const labels = [3, -100, 0, 6, 2]; // one unused slot
const rng = new Rng(11);
const student = Array.from({ length: N * V }, () => 3 * (rng.next() - 0.5));
const teacher = Array.from({ length: N * V }, () => 4 * (rng.next() - 0.5));

/** Plain-JS reference, float64: α·T²·Σ_scored KL(p‖q)/n + (1−α)·Σ_scored CE/n. */
function reference(s: number[], t: number[], y: number[], T: number, alpha: number) {
  const logSoftmax = (row: number[]) => {
    const m = Math.max(...row);
    const lse = m + Math.log(row.reduce((a, x) => a + Math.exp(x - m), 0));
    return row.map((x) => x - lse);
  };
  let kl = 0;
  let ce = 0;
  let n = 0;
  for (let i = 0; i < y.length; i++) {
    if (y[i] === -100) continue;
    n++;
    const sr = s.slice(i * V, (i + 1) * V);
    const tr = t.slice(i * V, (i + 1) * V);
    const logq = logSoftmax(sr.map((x) => x / T));
    const logp = logSoftmax(tr.map((x) => x / T));
    kl += logp.reduce((a, lp, v) => a + Math.exp(lp) * (lp - logq[v]), 0);
    ce -= logSoftmax(sr)[y[i]];
  }
  return { kd: (T * T * kl) / n, ce: ce / n, loss: (alpha * T * T * kl + (1 - alpha) * ce) / n };
}

async function build(o: DistillLossOptions) {
  const g = new Graph();
  const s = g.input('s', 'float64', [N, V]);
  const t = g.input('t', 'float64', [N, V]);
  const y = g.input('y', 'int64', [N]);
  const d = distillLoss(g, s, t, y, o);
  g.output(d.loss, 'loss');
  g.output(d.lossSum, 'loss_sum');
  g.output(d.kd, 'kd');
  g.output(d.ce, 'ce');
  g.output(d.count, 'count');
  g.output(d.correct, 'correct');
  g.output(d.dLogits, 'dlogits');
  const full = await ort.InferenceSession.create(g.toBytes(), { intraOpNumThreads: 1 });
  const lossOnly = await ort.InferenceSession.create(g.toBytes({ outputs: ['loss'] }), { intraOpNumThreads: 1 });
  const run = async (sess: ort.InferenceSession, sv: number[]) => {
    const out = await sess.run({
      s: new ort.Tensor('float64', Float64Array.from(sv), [N, V]),
      t: new ort.Tensor('float64', Float64Array.from(teacher), [N, V]),
      y: new ort.Tensor('int64', BigInt64Array.from(labels.map(BigInt)), [N]),
    });
    return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, Array.from(v.data as Float64Array)]));
  };
  return { full: (sv: number[]) => run(full, sv), loss: async (sv: number[]) => (await run(lossOnly, sv)).loss[0] };
}

describe('distillation loss', () => {
  test.each([
    [1, 0.5],
    [2, 0.5],
    [4, 0.5],
    [2, 1],
    [2, 0],
    [3, 0.2],
  ])('T=%d α=%d: value matches the float64 reference', async (T, alpha) => {
    const out = await (await build({ temperature: T, alpha })).full(student);
    const ref = reference(student, teacher, labels, T, alpha);
    expect(out.loss[0]).toBeCloseTo(ref.loss, 12);
    expect(out.kd[0]).toBeCloseTo(ref.kd, 12);
    expect(out.ce[0]).toBeCloseTo(ref.ce, 12);
    expect(out.count[0]).toBe(4);
    expect(out.loss_sum[0]).toBeCloseTo(ref.loss * 4, 11);
  });

  test.each([
    [2, 0.5],
    [1, 1],
    [5, 0.3],
  ])('T=%d α=%d: closed-form gradient = central finite differences (every coordinate)', async (T, alpha) => {
    const f = await build({ temperature: T, alpha });
    const grad = (await f.full(student)).dlogits;
    const h = 1e-5;
    let worst = 0;
    for (let i = 0; i < N * V; i++) {
      const plus = student.slice();
      const minus = student.slice();
      plus[i] += h;
      minus[i] -= h;
      const numeric = ((await f.loss(plus)) - (await f.loss(minus))) / (2 * h);
      worst = Math.max(worst, Math.abs(grad[i] - numeric) / (1e-9 + 1e-6 * Math.abs(numeric)));
    }
    expect(worst).toBeLessThan(1);
    // The unused slot's row gets no gradient.
    expect(grad.slice(V, 2 * V).every((x) => x === 0)).toBe(true);
  });

  test('α = 0 is exactly the plain masked-LM cross-entropy (value, gradient, accuracy)', async () => {
    const g = new Graph();
    const s = g.input('s', 'float64', [N, V]);
    const y = g.input('y', 'int64', [N]);
    const ce = mlmLoss(g, s, y);
    g.output(ce.loss, 'loss');
    g.output(ce.dLogits, 'dlogits');
    g.output(ce.correct, 'correct');
    const sess = await ort.InferenceSession.create(g.toBytes());
    const plain = await sess.run({
      s: new ort.Tensor('float64', Float64Array.from(student), [N, V]),
      y: new ort.Tensor('int64', BigInt64Array.from(labels.map(BigInt)), [N]),
    });
    const kd = await (await build({ temperature: 3, alpha: 0 })).full(student);
    expect(kd.loss[0]).toBe(plain.loss.data[0]);
    expect(kd.correct[0]).toBe(plain.correct.data[0]);
    expect(kd.dlogits).toEqual(Array.from(plain.dlogits.data as Float64Array));
  });

  test('T² scaling: the soft-target gradient tends to logit matching (s − t − mean)/(V·n) as T grows', async () => {
    const n = 4;
    const limit = student.map((x, k) => {
      const i = Math.floor(k / V);
      if (labels[i] === -100) return 0;
      const d = (row: number[]) => row.slice(i * V, (i + 1) * V).reduce((a, b) => a + b, 0) / V;
      return (x - teacher[k] - (d(student) - d(teacher))) / (V * n);
    });
    const errAt = async (T: number) => {
      const grad = (await (await build({ temperature: T, alpha: 1 })).full(student)).dlogits;
      return Math.max(...grad.map((x, k) => Math.abs(x - limit[k])));
    };
    const scale = Math.max(...limit.map(Math.abs));
    const [e10, e100] = [await errAt(10), await errAt(100)];
    expect(e100).toBeLessThan(scale * 0.01); // without T² the gradient would be ~T² = 10⁴ times smaller
    expect(e100).toBeLessThan(e10 / 5); // the error falls as 1/T
    // And the value is T²·KL: at T=100 the KL itself is ~1e-4 of the scaled term.
    const out = await (await build({ temperature: 100, alpha: 1 })).full(student);
    expect(out.kd[0]).toBeCloseTo(reference(student, teacher, labels, 100, 1).kd, 10);
  });

  test('rejects T ≤ 0 and α outside [0, 1]', () => {
    const g = new Graph();
    const s = g.input('s', 'float32', [N, V]);
    const t = g.input('t', 'float32', [N, V]);
    const y = g.input('y', 'int64', [N]);
    expect(() => distillLoss(g, s, t, y, { temperature: 0 })).toThrow(/temperature/);
    expect(() => distillLoss(g, s, t, y, { alpha: 1.5 })).toThrow(/alpha/);
    expect(() => distillLoss(g, s, g.input('t2', 'float32', [N, V + 1]), y)).toThrow(/do not match/);
  });
});

describe('whole-BERT gradient with the distillation loss (float64, finite differences)', () => {
  test('every parameter tensor, two random coordinates each', async () => {
    const config = makeConfig('tiny', { vocab_size: 23, hidden_size: 8, num_attention_heads: 2, intermediate_size: 12, num_hidden_layers: 2, max_position_embeddings: 10 });
    const [B, T, M] = [2, 6, 2];
    const g = new Graph();
    const bert = new BertForMaskedLM(g, config, { batchSize: B, seqLen: T, dtype: 'float64', gelu: 'tanh' });
    const positions = g.input('masked_positions', 'int64', [B * M]);
    const y = g.input('masked_labels', 'int64', [B * M]);
    const t = g.input('teacher_logits', 'float64', [B * M, config.vocab_size]);
    const logits = bert.mlmLogits(g.gather(bert.encode(), positions));
    const loss = distillLoss(g, logits, t, y, { temperature: 2, alpha: 0.5 });
    g.output(loss.loss, 'loss');
    for (const [name, d] of bert.gradients(logits, loss.dLogits)) g.output(d, `grad.${name}`);
    const full = await bertSession(g.toBytes(), 'disabled');
    const lossOnly = await bertSession(g.toBytes({ outputs: ['loss'] }), 'disabled');
    const r = new Rng(5);
    const feeds: Record<string, ort.Tensor> = {
      ...batchFeeds(testBatch(config, B, T, 3)),
      masked_positions: i64([1, 4, 7, 9], [B * M]),
      masked_labels: i64([5, 17, 2, -100], [B * M]),
      teacher_logits: new ort.Tensor('float64', Float64Array.from({ length: B * M * config.vocab_size }, () => 4 * (r.next() - 0.5)), [B * M, config.vocab_size]),
    };
    const params = new Map<string, Float64Array>();
    for (const [name, w] of randomWeights(config, 5, 0.5)) {
      params.set(name, Float64Array.from(w));
      feeds[name] = new ort.Tensor('float64', params.get(name)!, bert.params.get(name)!.shape as number[]);
    }
    const res = await full.run(feeds);
    const h = 1e-5;
    let worst = { err: 0, at: '' };
    for (const spec of paramTable(config)) {
      const data = params.get(spec.name)!;
      const grad = res[`grad.${spec.name}`].data as Float64Array;
      for (let k = 0; k < 2; k++) {
        const i = r.int(data.length);
        const x0 = data[i];
        data[i] = x0 + h;
        const fp = (await lossOnly.run(feeds)).loss.data[0] as number;
        data[i] = x0 - h;
        const fm = (await lossOnly.run(feeds)).loss.data[0] as number;
        data[i] = x0;
        const numeric = (fp - fm) / (2 * h);
        const err = Math.abs(grad[i] - numeric) / (1e-8 + 1e-5 * Math.abs(numeric));
        if (err > worst.err) worst = { err, at: `${spec.name}[${i}]: analytic ${grad[i]}, numeric ${numeric}` };
      }
    }
    expect(worst.err).toBeLessThan(1);
  });
});
