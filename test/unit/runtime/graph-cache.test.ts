/**
 * The graph cache of model folders: the first load compiles and stores the inference graph, the next one loads
 * that file and answers byte for byte the same; new weights (or another output) are another key, never the old
 * graph; COMPACTLM_GRAPH_CACHE=0 neither reads nor writes it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FillMask } from '../../../src/infer/fill-mask.js';
import { cachedGraph } from '../../../src/runtime/graph-cache.js';
import { tinyModel } from '../export/tiny-model.js';

let root: string;
const savedCacheDir = process.env.COMPACTLM_CACHE_DIR;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'graph-cache-'));
  process.env.COMPACTLM_CACHE_DIR = join(root, 'cache'); // empty at the start, whatever ran before
});
afterAll(() => {
  if (savedCacheDir === undefined) delete process.env.COMPACTLM_CACHE_DIR;
  else process.env.COMPACTLM_CACHE_DIR = savedCacheDir;
  rmSync(root, { recursive: true, force: true });
});

const TEXT = 'The capital of France is [MASK].';

test('a second load comes from the cache and gives the same answers; new weights are a new key', async () => {
  const dir = join(root, 'model');
  await tinyModel(dir, { seed: 101, peaked: true });
  const key = { dir, output: 'masked_logits' };
  expect(await cachedGraph(key)).toBeNull();
  const first = await FillMask.load(dir, { threads: 1 });
  const a = await first.predict(TEXT, 5);
  await first.close();
  const file = await cachedGraph(key);
  expect(file).toMatch(/graphs\/[0-9a-f]{32}\.onnx$/);
  const second = await FillMask.load(dir, { threads: 1 });
  expect(await second.predict(TEXT, 5)).toEqual(a);
  await second.close();
  expect(await cachedGraph({ dir, output: 'last_hidden_state' })).toBeNull();

  await tinyModel(dir, { seed: 202, peaked: true }); // retrained in place
  expect(await cachedGraph(key)).toBeNull();
  const third = await FillMask.load(dir, { threads: 1 });
  expect((await third.predict(TEXT, 5)).masks[0].predictions).not.toEqual(a.masks[0].predictions);
  await third.close();
  expect(await cachedGraph(key)).not.toBe(file);
});

test('COMPACTLM_GRAPH_CACHE=0 turns it off', async () => {
  const dir = join(root, 'off');
  await tinyModel(dir, { seed: 303 });
  process.env.COMPACTLM_GRAPH_CACHE = '0';
  try {
    const fm = await FillMask.load(dir, { threads: 1 });
    await fm.close();
    expect(await cachedGraph({ dir, output: 'masked_logits' })).toBeNull();
  } finally {
    delete process.env.COMPACTLM_GRAPH_CACHE;
  }
  expect(await cachedGraph({ dir, output: 'masked_logits' })).toBeNull();
});
