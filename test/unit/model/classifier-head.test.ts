/**
 * The classifier head and loss through the step compiler: the IO spec a trainer sees, the loss value against the
 * closed form (weighted mean CE over real rows, padding ignored, unweighted accuracy), and the inference graph's
 * dims.
 */
import ort from 'onnxruntime-node';
import { classificationLoss } from '../../../src/model/classification-loss.js';
import { makeConfig } from '../../../src/model/config.js';
import { classifierHead } from '../../../src/model/heads/classifier.js';
import { compileStep } from '../../../src/model/step-compiler.js';
import { Rng } from '../../../src/util/rng.js';

const config = makeConfig('tiny', { vocab_size: 40, hidden_size: 8, num_attention_heads: 2, intermediate_size: 16, num_hidden_layers: 1, max_position_embeddings: 16 });
const C = 3;
const shape = { batchSize: 4, seqLen: 6, maxPredictions: 1 };
const head = classifierHead(C);

test('train step: labels, example weights and the classifier dropout site are batch inputs; accuracy is a ratio metric', () => {
  const step = compileStep({ kind: 'train', config, head, loss: classificationLoss(), shape });
  const batch = step.io.batch.map((t) => t.name);
  expect(batch).toEqual(expect.arrayContaining(['input_ids', 'attention_mask', 'token_type_ids', 'labels', 'example_weight', 'dropout.classifier']));
  expect(step.io.dropout.find((d) => d.name === 'dropout.classifier')!.shape).toEqual([4, 8]);
  expect(step.io.metrics).toMatchObject({ loss: 'loss', count: 'cls_count', ratios: { accuracy: 'cls_correct' }, perplexity: false });
  expect(step.params.slice(-4).map((p) => p.name)).toEqual(['bert.pooler.dense.weight', 'bert.pooler.dense.bias', 'classifier.weight', 'classifier.bias']);
});

test('eval step: loss = Σ wᵢ·CEᵢ / n over real rows, unweighted accuracy, logits out', async () => {
  const step = compileStep({ kind: 'eval', config, head, loss: classificationLoss(), shape });
  expect(step.io.metrics.logits).toBe('logits');
  const rng = new Rng(5);
  const feeds: Record<string, ort.Tensor> = {};
  for (const p of step.params) feeds[p.name] = new ort.Tensor('float32', Float32Array.from({ length: p.shape.reduce((a, b) => a * b, 1) }, () => rng.next() - 0.5), p.shape);
  const ids = Array.from({ length: 24 }, (_, i) => BigInt(1 + (i * 7) % 39));
  feeds.input_ids = new ort.Tensor('int64', BigInt64Array.from(ids), [4, 6]);
  feeds.attention_mask = new ort.Tensor('int64', BigInt64Array.from(Array.from({ length: 24 }, (_, i) => (i % 6 < 4 + (i >= 6 ? 2 : 0) ? 1n : 0n))), [4, 6]);
  feeds.token_type_ids = new ort.Tensor('int64', new BigInt64Array(24), [4, 6]);
  const labels = [2, 0, 1, -100];
  const weights = [0.5, 2, 1.5, 7];
  feeds.labels = new ort.Tensor('int64', BigInt64Array.from(labels.map(BigInt)), [4]);
  feeds.example_weight = new ort.Tensor('float32', Float32Array.from(weights), [4]);
  const s = await ort.InferenceSession.create(step.bytes);
  const out = await s.run(feeds);
  const z = out.logits.data as Float32Array;
  let sum = 0;
  let correct = 0;
  for (let b = 0; b < 3; b++) {
    const row = Array.from(z.subarray(b * C, (b + 1) * C));
    const m = Math.max(...row);
    const lse = m + Math.log(row.reduce((a, v) => a + Math.exp(v - m), 0));
    sum += weights[b] * (lse - row[labels[b]]);
    if (row[labels[b]] === m) correct++;
  }
  expect(out.cls_count.data[0]).toBe(3);
  expect(out.loss_sum.data[0] as number).toBeCloseTo(sum, 5);
  expect(out.loss.data[0] as number).toBeCloseTo(sum / 3, 5);
  expect(out.cls_correct.data[0]).toBe(correct);
  await s.release();
});

test('inference graph: logits [batch_size, num_labels]', () => {
  const step = compileStep({ kind: 'inference', config, head, weights: new Map(compileStep({ kind: 'eval', config, head, loss: classificationLoss(), shape }).params.map((p) => [p.name, new Float32Array(p.shape.reduce((a, b) => a * b, 1))])) });
  expect(step.io.outputs).toEqual([{ name: 'logits', dtype: 'float32', shape: ['batch_size', C] }]);
});
