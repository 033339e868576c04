/**
 * Teachers (src/distill/teacher.ts) on a tiny BERT with the real 30,522-token vocabulary: a model folder (also in
 * the legacy LayerNorm.gamma/beta spelling with a pooler) and an export folder from `compactlm export` give the
 * same logits at the masked positions, equal to the full-sequence inference graph's rows there; vocabularies that
 * differ, corrupt weights and missing folders fail with one line. Also the evaluation meter (report.ts) against a
 * direct computation.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { exportModel } from '../../../src/export/export-folder.js';
import { compileStep } from '../../../src/model/step-compiler.js';
import type { BertConfig } from '../../../src/model/config.js';
import { countParams } from '../../../src/model/bert.js';
import { writeSafetensors } from '../../../src/model/safetensors.js';
import { i64, type WireFeeds } from '../../../src/runtime/wire.js';
import { loadTeacher, maskedLogits, onnxMaskedLogits } from '../../../src/distill/teacher.js';
import { evaluateMaskedLm, MlmMeter } from '../../../src/distill/report.js';
import { UserError } from '../../../src/util/errors.js';
import { Rng } from '../../../src/util/rng.js';
import { tinyModel } from '../export/tiny-model.js';

const V = 30522;
const [B, T, M] = [3, 10, 2];
let root: string;
let modelDir: string;
let exportDir: string;
let params: Map<string, Float32Array>;

function batch(seed: number): WireFeeds {
  const rng = new Rng(seed);
  const ids = Array.from({ length: B * T }, (_, i) => (i % T === 0 ? 101 : i % T === T - 1 ? 102 : 1000 + rng.int(20000)));
  const mask = Array.from({ length: B * T }, (_, i) => (Math.floor(i / T) === 2 && i % T > 6 ? 0 : 1)); // row 2 padded
  ids.forEach((_, i) => { if (mask[i] === 0) ids[i] = 0; });
  ids[3] = 103;
  const positions = [3, 5, T + 1, T + 8, 2 * T + 2, 2 * T]; // the last slot unused (label −100)
  const labels = [2054, 1037, 3000, 4000, 5000, -100];
  const big = (xs: number[]) => BigInt64Array.from(xs.map(BigInt));
  return {
    input_ids: i64(big(ids), [B, T]),
    attention_mask: i64(big(mask), [B, T]),
    token_type_ids: i64(new BigInt64Array(B * T), [B, T]),
    masked_positions: i64(big(positions), [B * M]),
    masked_labels: i64(big(labels), [B * M]),
  };
}

/** Rows of the full-sequence inference graph's logits at the masked positions. */
async function reference(feeds: WireFeeds, config: BertConfig): Promise<Float32Array> {
  const sess = await ort.InferenceSession.create(compileStep({ kind: 'inference', config, weights: params }).bytes);
  const t = (n: string) => new ort.Tensor('int64', feeds[n].data as BigInt64Array, feeds[n].dims);
  const all = (await sess.run({ input_ids: t('input_ids'), attention_mask: t('attention_mask'), token_type_ids: t('token_type_ids') })).logits.data as Float32Array;
  const pos = feeds.masked_positions.data as BigInt64Array;
  const out = new Float32Array(pos.length * V);
  pos.forEach((p, s) => out.set(all.subarray(Number(p) * V, (Number(p) + 1) * V), s * V));
  return out;
}

const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i])), 0);

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'teacher-unit-'));
  modelDir = join(root, 'model');
  exportDir = join(root, 'export');
  ({ params } = await tinyModel(modelDir, { seed: 4, peaked: true }));
  await exportModel({ modelDir, outDir: exportDir, quantize: 'none', samples: 2, threads: 1 });
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('teacher', () => {
  test('model folder: logits at masked positions = the full inference graph rows', async () => {
    const teacher = await loadTeacher(modelDir);
    expect(teacher.format).toBe('safetensors');
    expect(teacher.numParams).toBe(countParams(teacher.config));
    const run = await maskedLogits(teacher, { batchSize: B, seqLen: T, maxPredictions: M }, { threads: 1 });
    const feeds = batch(1);
    const got = await run.run(feeds);
    expect(got.length).toBe(B * M * V);
    expect(maxDiff(got, await reference(feeds, teacher.config))).toBeLessThan(1e-4);
    await run.release();
  });

  test('export folder (onnx/model.onnx): same logits, computed a few rows at a time', async () => {
    const teacher = await loadTeacher(exportDir);
    expect(teacher.format).toBe('onnx');
    expect(teacher.weights).toBeNull();
    const shape = { batchSize: B, seqLen: T, maxPredictions: M };
    const onnx = await onnxMaskedLogits(exportDir, V, shape, { threads: 1 }, 2); // rows 0–1, then row 2
    const folder = await maskedLogits(await loadTeacher(modelDir), shape, { threads: 1 });
    const feeds = batch(2);
    expect(maxDiff(await onnx.run(feeds), await folder.run(feeds))).toBeLessThan(1e-3);
  });

  test('legacy checkpoint names (LayerNorm.gamma/beta) and a pooler are read as the same model', async () => {
    const legacy = join(root, 'legacy');
    cpSync(modelDir, legacy, { recursive: true });
    const tensors = [...params].map(([name, data]) => ({
      name: name.replace(/LayerNorm\.weight$/, 'LayerNorm.gamma').replace(/LayerNorm\.bias$/, 'LayerNorm.beta'),
      shape: name.includes('word_embeddings') ? [V, 32] : name.includes('position_embeddings') ? [512, 32] : name.includes('token_type') ? [2, 32]
        : name.endsWith('intermediate.dense.weight') ? [64, 32] : name.endsWith('output.dense.weight') && !name.includes('attention') ? [32, 64]
          : name.endsWith('.weight') && !name.includes('LayerNorm') ? [32, 32] : [data.length],
      data,
    }));
    tensors.push({ name: 'bert.pooler.dense.weight', shape: [32, 32], data: new Float32Array(32 * 32) }, { name: 'bert.pooler.dense.bias', shape: [32], data: new Float32Array(32) });
    await writeSafetensors(join(legacy, 'model.safetensors'), tensors);
    const teacher = await loadTeacher(legacy);
    const bytes = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
    expect(teacher.weights!.size).toBe(params.size);
    for (const [name, data] of params) expect(bytes(teacher.weights!.get(name)!).equals(bytes(data))).toBe(true);
  });

  test.each([
    ['missing folder', (d: string) => join(d, 'nope/teacher'), /--teacher .*nope\/teacher: no such folder/],
    ['a file', (d: string) => join(d, 'model/config.json'), /not a folder/],
    ['no weights', (d: string) => { const x = join(d, 'noweights'); cpSync(join(d, 'model/config.json'), join(x, 'config.json')); return x; }, /not a model folder/],
    ['other vocab size', (d: string) => {
      const x = join(d, 'cased'); cpSync(join(d, 'model'), x, { recursive: true });
      writeFileSync(join(x, 'config.json'), JSON.stringify({ ...JSON.parse(readFileSync(join(x, 'config.json'), 'utf8')), vocab_size: 28996 }));
      return x;
    }, /vocab_size is 28996.*share the vocabulary/],
    ['other vocab.txt', (d: string) => {
      const x = join(d, 'othervocab'); cpSync(join(d, 'model'), x, { recursive: true });
      writeFileSync(join(x, 'vocab.txt'), readFileSync(join(x, 'vocab.txt'), 'utf8').replace('\nthe\n', '\nteh\n'));
      return x;
    }, /vocab\.txt: not the bert-base-uncased vocabulary/],
    ['other tokenizer.json', (d: string) => {
      const x = join(d, 'othertok'); cpSync(join(d, 'model'), x, { recursive: true });
      rmSync(join(x, 'vocab.txt'));
      const tj = JSON.parse(readFileSync(join(x, 'tokenizer.json'), 'utf8'));
      [tj.model.vocab.the, tj.model.vocab.of] = [tj.model.vocab.of, tj.model.vocab.the];
      writeFileSync(join(x, 'tokenizer.json'), JSON.stringify(tj));
      return x;
    }, /tokenizer\.json: not the bert-base-uncased vocabulary \(token "(the|of)" has id/],
    ['corrupt safetensors', (d: string) => {
      const x = join(d, 'corrupt'); cpSync(join(d, 'model'), x, { recursive: true });
      const bytes = readFileSync(join(x, 'model.safetensors'));
      writeFileSync(join(x, 'model.safetensors'), bytes.subarray(0, bytes.length - 1000));
      return x;
    }, /model\.safetensors: .*(out of range|data section)/],
  ])('bad teacher: %s → one-line UserError', async (_name, make, message) => {
    const dir = make(root);
    const err = await loadTeacher(dir, { hub: { env: { HF_HUB_OFFLINE: '1', HF_HOME: join(root, 'hf') } } }).catch((e) => e);
    expect(err).toBeInstanceOf(UserError);
    expect(err.message).toMatch(message);
    expect(err.message).not.toMatch(/\n/);
  });

  test('--seq-len beyond the teacher positions is refused', async () => {
    const teacher = await loadTeacher(modelDir);
    await expect(maskedLogits(teacher, { batchSize: 1, seqLen: 600, maxPredictions: 4 })).rejects.toThrow(/exceeds the teacher's max_position_embeddings \(512\)/);
  });
});

describe('masked-LM metrics (report.ts)', () => {
  test('MlmMeter = direct cross-entropy, accuracy (ties count), unused slots skipped', () => {
    const V3 = 4;
    const logits = Float32Array.from([1, 2, 3, 4, /**/ 0, 0, 0, 0, /**/ 5, 1, 1, 1, /**/ 9, 9, 9, 9]);
    const meter = new MlmMeter(V3);
    meter.add(logits, [3n, 2n, 1n, -100n]);
    const ce = (row: number[], y: number) => Math.log(row.reduce((a, x) => a + Math.exp(x), 0)) - row[y];
    const loss = (ce([1, 2, 3, 4], 3) + ce([0, 0, 0, 0], 2) + ce([5, 1, 1, 1], 1)) / 3;
    const r = meter.result();
    expect(r.tokens).toBe(3);
    expect(r.val_loss).toBeCloseTo(loss, 12);
    expect(r.val_ppl).toBeCloseTo(Math.exp(loss), 10);
    expect(r.val_mlm_acc).toBeCloseTo(2 / 3, 12); // row 0 right, row 1 a tie (right), row 2 wrong
  });

  test('evaluateMaskedLm over batches of a teacher = one meter over all rows', async () => {
    const teacher = await loadTeacher(modelDir);
    const run = await maskedLogits(teacher, { batchSize: B, seqLen: T, maxPredictions: M }, { threads: 1 });
    const feeds = [batch(1), batch(2)];
    const meter = new MlmMeter(V);
    for (const f of feeds) meter.add(await reference(f, teacher.config), f.masked_labels.data as BigInt64Array);
    const got = await evaluateMaskedLm(run, feeds, V);
    const want = meter.result();
    expect(got.tokens).toBe(10);
    expect(got.val_loss).toBeCloseTo(want.val_loss, 4);
    expect(got.val_mlm_acc).toBe(want.val_mlm_acc);
  });
});
