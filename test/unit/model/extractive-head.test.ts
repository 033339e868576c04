/**
 * The extractive head and loss (BertSumExt with a Linear sentence classifier) through the step compiler: the IO
 * spec a trainer sees, the loss against a hand computation, the [CLS]-row logits against the plain-TypeScript
 * BERT reference (bert-reference.ts, no code shared with bert.ts), the whole model's gradients against float64
 * finite differences on every parameter, and the inference graph's output.
 */
import ort from 'onnxruntime-node';
import { Graph } from '../../../src/onnx/graph.js';
import { BertForMaskedLM, paramTable } from '../../../src/model/bert.js';
import { extractiveConfig, makeConfig } from '../../../src/model/config.js';
import { extractiveLoss, sentenceBce } from '../../../src/model/extractive-loss.js';
import { extractiveHead } from '../../../src/model/heads/extractive.js';
import { compileStep } from '../../../src/model/step-compiler.js';
import { modelTable } from '../../../src/model/architecture.js';
import { fillKeepMask } from '../../../src/train/dropout-masks.js';
import { UserError } from '../../../src/util/errors.js';
import { Rng } from '../../../src/util/rng.js';
import { batchFeeds, i64, probeGradients, randomWeights, referenceForward, session, testBatch } from './bert-reference.js';

const config = extractiveConfig(makeConfig('tiny', {
  vocab_size: 23, hidden_size: 8, num_attention_heads: 2, intermediate_size: 12, num_hidden_layers: 2, max_position_embeddings: 10,
}));
const [B, T, S] = [2, 6, 3];
const shape = { batchSize: B, seqLen: T, maxPredictions: S };
// [CLS] rows of two windows (flat b·T + t); the second window has two sentences and one unused slot (mask 0).
const positions = [0, 2, 4, 6, 9, 6];
const labels = [1, 0, 1, 0, 1, 0];
const mask = [1, 1, 1, 1, 1, 0];
const f = (xs: number[], dtype: 'float32' | 'float64' = 'float32') => new ort.Tensor(dtype, dtype === 'float32' ? Float32Array.from(xs) : Float64Array.from(xs), [xs.length]);

test('the model: the encoder without pooler or masked-LM head, then ext_layer.linear1 [1, H] and [1]', () => {
  const table = modelTable(config);
  expect(table.slice(-2).map((p) => [p.name, p.shape])).toEqual([['ext_layer.linear1.weight', [1, 8]], ['ext_layer.linear1.bias', [1]]]);
  expect(table.some((p) => p.name.startsWith('cls.') || p.name.startsWith('bert.pooler.'))).toBe(false);
  expect(config.architectures).toEqual(['BertForExtractiveSummarization']);
  expect(config.task).toBe('extractive');
});

test('train step: cls_positions, sentence_labels and sentence_mask are batch inputs; sentence accuracy is a ratio metric', () => {
  const step = compileStep({ kind: 'train', config, head: extractiveHead, loss: extractiveLoss(), shape });
  const batch = new Map(step.io.batch.map((t) => [t.name, t.shape]));
  expect(batch.get('cls_positions')).toEqual([B * S]);
  expect(batch.get('sentence_labels')).toEqual([B * S]);
  expect(batch.get('sentence_mask')).toEqual([B * S]);
  expect(step.io.metrics).toMatchObject({ loss: 'loss', count: 'ext_count', ratios: { accuracy: 'ext_correct' }, perplexity: false });
});

test('loss: BCE with logits averaged over the real sentences, and its gradient, by hand', async () => {
  // ℓ = max(z, 0) − y·z + log(1 + e^−|z|):  z 2, y 1 → log(1 + e^−2) = 0.1269280110;  z −1, y 0 → 0.3132616875;
  // z 0.5, y 0 → 0.9740769842;  z 30, y 1 → 9.36e−14;  z −40, y 1 → 40 (finite: no log σ of an underflow);
  // the sixth slot is padding. Sum 41.4142666827, over n = 5 → 8.2828533365; ∂/∂z = m·(σ(z) − y)/n.
  const g = new Graph();
  const z = g.input('z', 'float64', [6]);
  const terms = sentenceBce(g, z, g.input('y', 'float64', [6]), g.input('m', 'float64', [6]));
  for (const [name, v] of Object.entries({ loss: terms.loss, loss_sum: terms.lossSum, count: terms.count, correct: terms.sums.ext_correct, d: terms.dLogits })) g.output(v, name);
  const s = await session(g.toBytes());
  const out = await s.run({ z: f([2, -1, 0.5, 30, -40, 3], 'float64'), y: f([1, 0, 0, 1, 1, 0], 'float64'), m: f([1, 1, 1, 1, 1, 0], 'float64') });
  expect(out.loss_sum.data[0] as number).toBeCloseTo(41.4142666827414, 10);
  expect(out.loss.data[0] as number).toBeCloseTo(8.28285333654828, 10);
  expect(out.count.data[0]).toBe(5);
  expect(out.correct.data[0]).toBe(3); // wrong: z 0.5 with y 0, z −40 with y 1
  const expected = [-0.023840584404423538, 0.053788284273999024, 0.12449186624037092, -1.8696155734687637e-14, -0.2, 0];
  Array.from(out.d.data as Float64Array).forEach((v, i) => expect(v).toBeCloseTo(expected[i], 12));
  await s.release();
});

test('eval step: logits are Linear(H→1) of the [CLS] rows of the reference BERT; the loss is the masked BCE of them', async () => {
  const step = compileStep({ kind: 'eval', config, head: extractiveHead, loss: extractiveLoss(), shape });
  expect(step.io.metrics.logits).toBe('logits');
  const w = randomWeights(config, 7, 0.5, step.params);
  const batch = testBatch(config, B, T, 4);
  const feeds: Record<string, ort.Tensor> = { ...batchFeeds(batch), cls_positions: i64(positions, [B * S]), sentence_labels: f(labels), sentence_mask: f(mask) };
  for (const p of step.params) feeds[p.name] = new ort.Tensor('float32', w.get(p.name)!, p.shape);
  const s = await session(step.bytes);
  const out = await s.run(feeds);
  const ref = referenceForward(config, w, batch);
  const H = config.hidden_size;
  const [weight, bias] = [w.get('ext_layer.linear1.weight')!, w.get('ext_layer.linear1.bias')![0]];
  const z = positions.map((r) => bias + Array.from({ length: H }, (_, h) => ref.hidden[r * H + h] * weight[h]).reduce((a, b) => a + b, 0));
  Array.from(out.logits.data as Float32Array).forEach((v, i) => expect(v).toBeCloseTo(z[i], 4));
  const bce = z.map((zi, i) => mask[i] * (Math.max(zi, 0) - labels[i] * zi + Math.log1p(Math.exp(-Math.abs(zi)))));
  expect(out.loss.data[0] as number).toBeCloseTo(bce.reduce((a, b) => a + b, 0) / 5, 4);
  expect(out.ext_count.data[0]).toBe(5);
  await s.release();
});

test('gradients of the whole model (encoder, dropout, ext_layer) vs float64 finite differences, every parameter', async () => {
  const g = new Graph();
  const bert = new BertForMaskedLM(g, config, { batchSize: B, seqLen: T, dtype: 'float64', gelu: 'tanh', dropout: true });
  const logits = extractiveHead.scored(g, bert, shape);
  const terms = extractiveLoss().build(g, logits, shape, config);
  const table = bert.specs;
  expect(table.map((p) => p.name)).toEqual(paramTable(config, (gg, b) => extractiveHead.scored(gg, b, shape)).map((p) => p.name));
  const grads = bert.gradients(logits, terms.dLogits);
  g.output(terms.loss, 'loss');
  for (const [name, d] of grads) g.output(d, `grad.${name}`);
  const full = await session(g.toBytes(), 'disabled');
  const lossOnly = await session(g.toBytes({ outputs: ['loss'] }), 'disabled');
  const rng = new Rng(11);
  const feeds: Record<string, ort.Tensor> = {
    ...batchFeeds(testBatch(config, B, T, 3)), cls_positions: i64(positions, [B * S]), sentence_labels: f(labels, 'float64'), sentence_mask: f(mask, 'float64'),
  };
  for (const site of bert.dropoutSites) {
    feeds[site.name] = new ort.Tensor('bool', fillKeepMask(rng, new Uint8Array(site.shape.reduce((a, b) => a * b, 1)), site.keepProb), site.shape);
  }
  const params = new Map<string, Float64Array>();
  for (const [name, v] of randomWeights(config, 5, 0.5, table)) {
    params.set(name, Float64Array.from(v));
    feeds[name] = new ort.Tensor('float64', params.get(name)!, bert.params.get(name)!.shape as number[]);
  }
  const res = await full.run(feeds);
  const loss = async () => (await lossOnly.run(feeds)).loss.data[0] as number;
  const { checked, worst } = await probeGradients(table, params, res, loss, rng, 3);
  expect(checked).toBe(table.length * 3);
  expect(table.slice(-2).map((p) => p.name)).toEqual(['ext_layer.linear1.weight', 'ext_layer.linear1.bias']);
  expect(worst.err).toBeLessThanOrEqual(1); // |analytic − numeric| ≤ 1e-8 + 1e-5·|numeric|
}, 60_000);

test('inference: sentence_logits [batch_size, sequence_length, 1] equals the eval logits at the [CLS] rows; no masked-LM logits', async () => {
  const evalStep = compileStep({ kind: 'eval', config, head: extractiveHead, loss: extractiveLoss(), shape });
  const w = randomWeights(config, 9, 0.5, evalStep.params);
  const inf = compileStep({ kind: 'inference', config, head: extractiveHead, weights: w });
  expect(inf.io.outputs).toEqual([{ name: 'sentence_logits', dtype: 'float32', shape: ['batch_size', 'sequence_length', 1] }]);
  expect(inf.io.inputs.map((t) => t.name)).toEqual(['input_ids', 'attention_mask', 'token_type_ids']);
  const batch = testBatch(config, B, T, 4);
  const s = await session(inf.bytes);
  const all = (await s.run(batchFeeds(batch))).sentence_logits.data as Float32Array;
  const feeds: Record<string, ort.Tensor> = { ...batchFeeds(batch), cls_positions: i64(positions, [B * S]), sentence_labels: f(labels), sentence_mask: f(mask) };
  for (const p of evalStep.params) feeds[p.name] = new ort.Tensor('float32', w.get(p.name)!, p.shape);
  const e = await session(evalStep.bytes);
  const scored = (await e.run(feeds)).logits.data as Float32Array;
  positions.forEach((r, i) => expect(all[r]).toBeCloseTo(scored[i], 5));
  expect(() => compileStep({ kind: 'inference', config, head: extractiveHead, weights: w, outputs: ['logits'] })).toThrow(UserError);
  expect(() => compileStep({ kind: 'inference', config, head: extractiveHead, weights: w, outputs: ['masked_logits'] })).toThrow(/no masked-LM logits/);
  await s.release();
  await e.release();
});
