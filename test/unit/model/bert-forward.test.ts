/**
 * The float32 BERT graphs against an independent float64 TypeScript forward pass (bert-reference.ts):
 * the inference graph's logits at every position (dynamic batch/sequence), last_hidden_state, and the eval graph's
 * loss and accuracy counts at gathered masked positions.
 */
import ort from 'onnxruntime-node';
import { compileStep } from '../../../src/model/step-compiler.js';
import { makeConfig } from '../../../src/model/config.js';
import { crossEntropyLoss } from '../train/focal-reference.js';
import { batchFeeds, i64, maxAbsDiff, randomWeights, referenceForward, session, testBatch } from './bert-reference.js';

const config = makeConfig('tiny', {
  vocab_size: 97, hidden_size: 32, num_attention_heads: 4, intermediate_size: 48, num_hidden_layers: 2, max_position_embeddings: 24,
});
const weights = randomWeights(config, 11);

describe('BERT forward vs a plain TypeScript reference', () => {
  test('inference graph: logits at every position, two batch shapes (dynamic dims)', async () => {
    const spec = compileStep({ kind: 'inference', config, weights });
    expect(spec.io.outputs).toEqual([{ name: 'logits', dtype: 'float32', shape: ['batch_size', 'sequence_length', 97] }]);
    const s = await session(spec.bytes);
    for (const [B, T, seed] of [[2, 8, 1], [3, 5, 2]]) {
      const batch = testBatch(config, B, T, seed);
      const out = (await s.run(batchFeeds(batch))).logits;
      expect(out.dims).toEqual([B, T, 97]);
      const ref = referenceForward(config, weights, batch).logits(Array.from({ length: B * T }, (_, i) => i));
      const spread = Math.max(...ref) - Math.min(...ref);
      expect(spread).toBeGreaterThan(1); // the weights make the logits informative
      expect(maxAbsDiff(out.data as Float32Array, ref)).toBeLessThanOrEqual(1e-4);
    }
  });

  test('inference graph: last_hidden_state and logits together; tanh GELU config', async () => {
    const c = { ...config, hidden_act: 'gelu_new' as const };
    const spec = compileStep({ kind: 'inference', config: c, weights, outputs: ['last_hidden_state', 'logits'] });
    expect(spec.io.outputs.map((o) => o.name)).toEqual(['last_hidden_state', 'logits']);
    const batch = testBatch(c, 2, 6, 3);
    const out = await (await session(spec.bytes)).run(batchFeeds(batch));
    const ref = referenceForward(c, weights, batch);
    expect(out.last_hidden_state.dims).toEqual([2, 6, 32]);
    expect(maxAbsDiff(out.last_hidden_state.data as Float32Array, ref.hidden)).toBeLessThanOrEqual(1e-4);
    expect(maxAbsDiff(out.logits.data as Float32Array, ref.logits(Array.from({ length: 12 }, (_, i) => i)))).toBeLessThanOrEqual(1e-4);
  });

  test('a different token changes only what attention lets it reach: padding is invisible', async () => {
    const s = await session(compileStep({ kind: 'inference', config, weights, outputs: ['last_hidden_state'] }).bytes);
    const batch = testBatch(config, 2, 8, 4); // sequence 1 has 3 padding positions
    const a = (await s.run(batchFeeds(batch))).last_hidden_state.data as Float32Array;
    const changed = { ...batch, ids: batch.ids.map((v, i) => (i === 8 + 7 ? (v + 5) % 97 : v)) }; // a padded token
    const b = (await s.run(batchFeeds(changed))).last_hidden_state.data as Float32Array;
    const H = 32;
    // Unpadded rows of sequence 1 (and all of sequence 0) do not depend on the padded token.
    expect(maxAbsDiff(a.subarray(0, (8 + 5) * H), b.subarray(0, (8 + 5) * H))).toBe(0);
  });

  test('eval graph: CE at masked positions, loss_sum/count, accuracy counts', async () => {
    const [B, T, M] = [2, 8, 3];
    const spec = compileStep({ kind: 'eval', config, shape: { batchSize: B, seqLen: T, maxPredictions: M } });
    const batch = testBatch(config, B, T, 5);
    const positions = [1, 4, 0, 9, 12, 8]; // flat rows; slot 2 and 5 unused (label −100)
    const labels = [7, 50, -100, 3, 96, -100];
    const feeds: Record<string, ort.Tensor> = { ...batchFeeds(batch), masked_positions: i64(positions, [B * M]), masked_labels: i64(labels, [B * M]) };
    for (const [name, data] of weights) feeds[name] = new ort.Tensor('float32', data, spec.io.inputs.find((i) => i.name === name)!.shape as number[]);
    const out = await (await session(spec.bytes)).run(feeds);

    const refLogits = referenceForward(config, weights, batch).logits(positions);
    const ref = crossEntropyLoss(refLogits, labels, 97);
    expect(out.mlm_count.data[0]).toBe(4);
    expect(Math.abs((out.loss.data[0] as number) - ref.loss)).toBeLessThan(1e-4);
    expect(Math.abs((out.loss_sum.data[0] as number) - ref.loss * 4)).toBeLessThan(4e-4);
    let correct = 0;
    labels.forEach((y, i) => {
      if (y === -100) return;
      const row = refLogits.subarray(i * 97, i * 97 + 97);
      if (row.indexOf(Math.max(...row)) === y) correct++;
    });
    expect(out.mlm_correct.data[0]).toBe(correct);
  });

  test('eval graph: accuracy counts a label predicted right', async () => {
    // Make one label the arg-max by construction: ask for the reference's own arg-max at that slot.
    const [B, T, M] = [2, 8, 2];
    const spec = compileStep({ kind: 'eval', config, shape: { batchSize: B, seqLen: T, maxPredictions: M } });
    const batch = testBatch(config, B, T, 6);
    const positions = [2, 3, 10, 11];
    const ref = referenceForward(config, weights, batch).logits(positions);
    const argmax = (i: number) => { const r = ref.subarray(i * 97, i * 97 + 97); return r.indexOf(Math.max(...r)); };
    const labels = [argmax(0), (argmax(1) + 1) % 97, argmax(2), -100];
    const feeds: Record<string, ort.Tensor> = { ...batchFeeds(batch), masked_positions: i64(positions, [4]), masked_labels: i64(labels, [4]) };
    for (const [name, data] of weights) feeds[name] = new ort.Tensor('float32', data, spec.io.inputs.find((i) => i.name === name)!.shape as number[]);
    const out = await (await session(spec.bytes)).run(feeds);
    expect(out.mlm_correct.data[0]).toBe(2);
    expect(out.mlm_count.data[0]).toBe(3);
  });
});
