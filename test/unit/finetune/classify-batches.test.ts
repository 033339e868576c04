/**
 * The classifier's batch source: every example once per epoch in a seeded order, full batches across epoch ends,
 * dropout masks of the graph's sites, and a state that restores the exact same future batches (finetune --resume).
 */
import { ClassifyBatchSource, fixedClassifyFeeds } from '../../../src/finetune/classify-batches.js';
import type { EncodedExamples } from '../../../src/finetune/examples.js';

const N = 7;
const data: EncodedExamples = {
  ids: Array.from({ length: N }, (_, i) => [101, 1000 + i, ...Array(i % 3).fill(2000), 102]),
  typeIds: Array.from({ length: N }, (_, i) => Array(3 + (i % 3)).fill(0)),
  labels: Array.from({ length: N }, (_, i) => i % 2),
  weights: Array.from({ length: N }, (_, i) => 1 + i / 10),
  truncated: 0,
  longest: 5,
};
const sites = [{ name: 'dropout.classifier', shape: [3, 8], keepProb: 0.9 }];
const source = (state?: unknown) => new ClassifyBatchSource(data, { batchSize: 3, seqLen: 5, padId: 0, dropoutSites: sites, seed: 11 }, state as never);
/** The example of each row: its distinctive second token minus 1000. */
const examples = (feeds: ReturnType<ClassifyBatchSource['next']>) => feeds.flatMap((f) => Array.from({ length: 3 }, (_, b) => Number((f.input_ids.data as BigInt64Array)[b * 5 + 1]) - 1000));

test('each epoch is a permutation of the examples; batches run on across the epoch end', () => {
  const s = source();
  const seen = examples([...s.next(1), ...s.next(1), ...s.next(1), ...s.next(1), ...s.next(1)]); // 15 = 2 epochs + 1
  expect([...seen.slice(0, 7)].sort()).toEqual([0, 1, 2, 3, 4, 5, 6]);
  expect([...seen.slice(7, 14)].sort()).toEqual([0, 1, 2, 3, 4, 5, 6]);
  expect(seen.slice(0, 7)).not.toEqual(seen.slice(7, 14)); // reshuffled
  expect(s.epochs).toBeCloseTo(2 + 1 / 7, 12);
});

test('rows carry their labels, weights, padding and a dropout mask of the site shape', () => {
  const [f] = source().next(1);
  const ids = examples([f]);
  expect(Array.from(f.labels.data as BigInt64Array, Number)).toEqual(ids.map((i) => i % 2));
  expect(Array.from(f.example_weight.data as Float32Array)).toEqual(ids.map((i) => Math.fround(1 + i / 10)));
  const mask = Array.from(f.attention_mask.data as BigInt64Array, Number);
  ids.forEach((k, b) => expect(mask.slice(b * 5, b * 5 + 5)).toEqual([...Array(3 + (k % 3)).fill(1), ...Array(2 - (k % 3)).fill(0)]));
  expect(f['dropout.classifier'].dims).toEqual([3, 8]);
});

test('a restored state gives the same future batches (masks included)', () => {
  const a = source();
  a.next(2);
  const saved = JSON.parse(JSON.stringify(a.state()));
  const want = a.next(3);
  const got = source(saved).next(3);
  expect(got.map((f) => Array.from(f.input_ids.data as BigInt64Array))).toEqual(want.map((f) => Array.from(f.input_ids.data as BigInt64Array)));
  expect(got.map((f) => Array.from(f['dropout.classifier'].data as Uint8Array))).toEqual(want.map((f) => Array.from(f['dropout.classifier'].data as Uint8Array)));
});

test('validation feeds: every example once in order, weight 1, the short last batch padded with label −100', () => {
  const feeds = fixedClassifyFeeds(data, 3, 5, 0);
  expect(feeds).toHaveLength(3);
  expect(feeds.flatMap((f) => Array.from(f.labels.data as BigInt64Array, Number))).toEqual([0, 1, 0, 1, 0, 1, 0, -100, -100]);
  expect(Array.from(feeds[0].example_weight.data as Float32Array)).toEqual([1, 1, 1]);
  expect(Array.from(feeds[2].attention_mask.data as BigInt64Array, Number).slice(5)).toEqual(Array(10).fill(0));
});
