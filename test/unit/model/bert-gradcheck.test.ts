/**
 * Whole-model gradient check: the float64 BERT graph (composite LayerNorm, tanh GELU, fed dropout masks, padding,
 * masked-LM head on gathered positions) with the closed-form loss gradient seeding autodiff, exactly as
 * train_step.onnx computes it — against central finite differences of the loss, on random coordinates of EVERY
 * parameter, for the CE and the focal loss.
 */
import ort from 'onnxruntime-node';
import { Graph } from '../../../src/onnx/graph.js';
import { BertForMaskedLM } from '../../../src/model/bert.js';
import { makeConfig } from '../../../src/model/config.js';
import { mlmLoss } from '../../../src/model/losses.js';
import { paramTable } from '../../../src/model/bert.js';
import { Rng } from '../../../src/util/rng.js';
import { fillKeepMask } from '../../../src/train/dropout-masks.js';
import { batchFeeds, i64, probeGradients, randomWeights, session, testBatch } from './bert-reference.js';

const config = makeConfig('tiny', {
  vocab_size: 23, hidden_size: 8, num_attention_heads: 2, intermediate_size: 12, num_hidden_layers: 2, max_position_embeddings: 10,
});
const [B, T, M] = [2, 6, 2];
const COORDS = 3;

type Case = 'ce' | 'focal' | 'classifier';
const NUM_LABELS = 3;

async function gradCheck(kind: Case) {
  const g = new Graph();
  const bert = new BertForMaskedLM(g, config, { batchSize: B, seqLen: T, dtype: 'float64', gelu: 'tanh', dropout: true });
  let loss: ReturnType<typeof mlmLoss>;
  let logits;
  const extra: Record<string, ort.Tensor> = {};
  if (kind === 'classifier') {
    // Pooler + classifier dropout + Linear on the [CLS] rows, weighted CE (sample weights), one padding row.
    logits = bert.classifierLogits(bert.pooler(bert.clsRows(bert.encode())), NUM_LABELS);
    const weights = g.input('example_weight', 'float64', [B]);
    loss = mlmLoss(g, logits, g.input('labels', 'int64', [B]), { weights });
    extra.labels = i64([2, 0], [B]);
    extra.example_weight = new ort.Tensor('float64', Float64Array.from([0.7, 1.9]), [B]);
  } else {
    const positions = g.input('masked_positions', 'int64', [B * M]);
    const labels = g.input('masked_labels', 'int64', [B * M]);
    logits = bert.mlmLogits(g.gather(bert.encode(), positions));
    loss = mlmLoss(g, logits, labels, { kind });
    extra.masked_positions = i64([1, 4, 7, 9], [B * M]); // rows of [B·T]; 9 is a real token of the padded sequence
    extra.masked_labels = i64([5, 17, 2, kind === 'ce' ? -100 : 11], [B * M]);
  }
  const table = bert.specs;
  const grads = bert.gradients(logits, loss.dLogits);
  g.output(loss.loss, 'loss');
  for (const [name, d] of grads) g.output(d, `grad.${name}`);
  const full = await session(g.toBytes(), 'disabled');
  const lossOnly = await session(g.toBytes({ outputs: ['loss'] }), 'disabled');

  const rng = new Rng({ ce: 1, focal: 2, classifier: 3 }[kind]);
  const feeds: Record<string, ort.Tensor> = { ...batchFeeds(testBatch(config, B, T, 3)), ...extra };
  for (const site of bert.dropoutSites) {
    const n = site.shape.reduce((a, b) => a * b, 1);
    feeds[site.name] = new ort.Tensor('bool', fillKeepMask(rng, new Uint8Array(n), site.keepProb), site.shape);
  }
  const params = new Map<string, Float64Array>();
  for (const [name, w] of randomWeights(config, 5, 0.5, table)) {
    params.set(name, Float64Array.from(w));
    feeds[name] = new ort.Tensor('float64', params.get(name)!, bert.params.get(name)!.shape as number[]);
  }
  const res = await full.run(feeds);
  const f = async () => (await lossOnly.run(feeds)).loss.data[0] as number;

  const { checked, worst } = await probeGradients(table, params, res, f, rng, COORDS);
  return { checked, worst, res };
}

describe('BERT gradients vs float64 finite differences (every parameter)', () => {
  test('masked-LM cross-entropy', async () => {
    const { checked, worst, res } = await gradCheck('ce');
    expect(checked).toBe(paramTable(config).length * COORDS);
    expect(worst.err).toBeLessThanOrEqual(1); // |analytic − numeric| ≤ 1e-8 + 1e-5·|numeric|
    // Softmax is shift-invariant per query, so the key bias gets no gradient (exactly zero in theory).
    for (let l = 0; l < 2; l++) {
      const kb = res[`grad.bert.encoder.layer.${l}.attention.self.key.bias`].data as Float64Array;
      expect(Math.max(...Array.from(kb, Math.abs))).toBeLessThan(1e-12);
      const qb = res[`grad.bert.encoder.layer.${l}.attention.self.query.bias`].data as Float64Array;
      expect(Math.max(...Array.from(qb, Math.abs))).toBeGreaterThan(1e-6);
    }
  });

  test('focal loss (α 1, γ 2)', async () => {
    const { worst } = await gradCheck('focal');
    expect(worst.err).toBeLessThanOrEqual(1);
  });

  test('sequence classification: pooler, classifier dropout, weighted cross-entropy', async () => {
    const { checked, worst } = await gradCheck('classifier');
    const names = paramTable(config, (_g, bert) => bert.classifierLogits(bert.pooler(bert.clsRows(bert.encode())), NUM_LABELS)).map((p) => p.name);
    expect(names.slice(-4)).toEqual(['bert.pooler.dense.weight', 'bert.pooler.dense.bias', 'classifier.weight', 'classifier.bias']);
    expect(names.some((n) => n.startsWith('cls.'))).toBe(false);
    expect(checked).toBe(names.length * COORDS);
    expect(worst.err).toBeLessThanOrEqual(1);
  });
});
