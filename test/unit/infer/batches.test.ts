/**
 * Many texts through fill-mask and embed on a tiny BERT (H=32, one layer, real vocabulary; tied embeddings ×50 so
 * top tokens are well separated), as a model folder and as an export folder written by exportModel:
 * padded batches equal one-text runs (1e-5), export fp32 equals the model folder (same top tokens, scores to 1e-4),
 * int8 runs one text per run, embed is the mean of last_hidden_state over [CLS] … [SEP] (checked against the
 * inference graph's output computed by hand) and the export folder's embedding equals the model folder's (1e-4), and bad inputs are one-line errors naming the line.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { exportModel } from '../../../src/export/export-folder.js';
import { compileStep } from '../../../src/model/step-compiler.js';
import { inferBatches } from '../../../src/infer/batches.js';
import { Embedder } from '../../../src/infer/embed.js';
import { FillMask, type FillMaskResult } from '../../../src/infer/fill-mask.js';
import type { InputText } from '../../../src/infer/input-texts.js';
import { tinyModel } from '../export/tiny-model.js';

const TEXTS = [
  'The capital of France is [MASK].',
  'A [MASK] day, and the [MASK] was long and the evening was quiet.',
  '[MASK]',
  'the president spoke to the [MASK] of the united states about the economy and the war',
  'I went to the [MASK].',
];

async function* lines(texts: readonly string[]): AsyncGenerator<InputText> {
  let line = 0;
  for (const text of texts) yield { line: ++line, text };
}

async function collect<R>(it: AsyncIterable<R>): Promise<R[]> {
  const out: R[] = [];
  for await (const x of it) out.push(x);
  return out;
}

function expectSameFillMask(a: FillMaskResult[], b: FillMaskResult[], tol: number): void {
  expect(a).toHaveLength(b.length);
  a.forEach((r, i) => {
    expect(r.text).toBe(b[i].text);
    expect(r.tokens).toEqual(b[i].tokens);
    expect(r.masks.map((m) => m.position)).toEqual(b[i].masks.map((m) => m.position));
    r.masks.forEach((m, j) => {
      const other = b[i].masks[j].predictions;
      expect(m.predictions.map((p) => p.token_id)).toEqual(other.map((p) => p.token_id));
      m.predictions.forEach((p, k) => expect(Math.abs(p.score - other[k].score)).toBeLessThanOrEqual(tol));
    });
  });
}

let root: string;
let modelDir: string;
let exportDir: string;
let fm: FillMask;
let fmExport: FillMask;
let fmInt8: FillMask;
let emb: Embedder;
let params: Map<string, Float32Array>;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'infer-batches-'));
  modelDir = join(root, 'model');
  exportDir = join(root, 'export');
  ({ params } = await tinyModel(modelDir, { peaked: true }));
  await exportModel({ modelDir, outDir: exportDir, samples: 4, threads: 1 });
  fm = await FillMask.load(modelDir, { threads: 1 });
  fmExport = await FillMask.load(exportDir, { threads: 1 });
  fmInt8 = await FillMask.load(exportDir, { threads: 1, int8: true });
  emb = await Embedder.load(modelDir, { threads: 1 });
}, 60_000);
afterAll(async () => {
  for (const x of [fm, fmExport, fmInt8, emb]) await x?.close();
  rmSync(root, { recursive: true, force: true });
});

describe('infer in batches', () => {
  test('fill-mask: padded batches (sizes 2 and 5) equal one-text runs to 1e-5, in input order', async () => {
    const single = [];
    for (const t of TEXTS) single.push(await fm.predict(t, 5));
    // Texts of different lengths share a batch: attention_mask 0 on the padding keeps each row's results.
    expect(new Set(single.map((r) => r.tokens.length)).size).toBeGreaterThan(2);
    expectSameFillMask(await fm.predictBatch(TEXTS, 5), single, 1e-5);
    expectSameFillMask(await collect(inferBatches(fm.task(5), lines(TEXTS), 'texts.txt', { batchSize: 2 })), single, 1e-5);
    expect(single[0].masks[0].predictions[0].score).toBeGreaterThan(0.05); // not a flat distribution
  });

  test('export folder fp32 agrees with the model folder: same top tokens, scores within 1e-4', async () => {
    expect(fmExport.source).toBe('export fp32');
    const got = await collect(inferBatches(fmExport.task(5), lines(TEXTS), 'texts.txt', { batchSize: 3 }));
    expectSameFillMask(got, await fm.predictBatch(TEXTS, 5), 1e-4);
  });

  test('int8: one text per run, batched input gives exactly the one-text results; top-1 mostly agrees with fp32', async () => {
    expect(fmInt8.source).toBe('export int8');
    expect(fmInt8.task(5).maxBatch).toBe(1);
    const single = [];
    for (const t of TEXTS) single.push(await fmInt8.predict(t, 5));
    expectSameFillMask(await collect(inferBatches(fmInt8.task(5), lines(TEXTS), 'texts.txt', { batchSize: 32 })), single, 0);
    const fp32 = await fm.predictBatch(TEXTS, 1);
    const top1 = (rs: FillMaskResult[]) => rs.flatMap((r) => r.masks.map((m) => m.predictions[0].token_id));
    const agree = top1(single).filter((id, i) => id === top1(fp32)[i]).length;
    expect(agree).toBeGreaterThanOrEqual(top1(fp32).length - 1);
    for (const r of single) for (const m of r.masks) expect(m.predictions[0].score).toBeLessThanOrEqual(1);
  });

  test('embed: dim = hidden_size, the mean of last_hidden_state over every token ([CLS]/[SEP] included), batch = single', async () => {
    const H = emb.config.hidden_size;
    const session = await ort.InferenceSession.create(compileStep({ kind: 'inference', config: emb.config, weights: params, outputs: ['last_hidden_state'] }).bytes);
    const batched = await emb.embedBatch(TEXTS);
    for (const [i, text] of TEXTS.entries()) {
      const ids = emb.tokenizer.encode(text).input_ids;
      const T = ids.length;
      const feeds = {
        input_ids: new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), [1, T]),
        attention_mask: new ort.Tensor('int64', new BigInt64Array(T).fill(1n), [1, T]),
        token_type_ids: new ort.Tensor('int64', new BigInt64Array(T), [1, T]),
      };
      const hidden = (await session.run(feeds)).last_hidden_state.data as Float32Array;
      const manual = Array.from({ length: H }, (_, h) => {
        let s = 0;
        for (let t = 0; t < T; t++) s += hidden[t * H + h];
        return s / T;
      });
      const one = await emb.embed(text);
      expect(one.dim).toBe(H);
      expect(one.embedding).toHaveLength(H);
      one.embedding.forEach((v, h) => expect(Math.abs(v - manual[h])).toBeLessThan(1e-6));
      expect(batched[i].text).toBe(text);
      batched[i].embedding.forEach((v, h) => expect(Math.abs(v - one.embedding[h])).toBeLessThan(1e-5));
    }
    // Different texts, different vectors (the pooling is not over padding or a constant).
    expect(Math.abs(batched[0].embedding[0] - batched[1].embedding[0])).toBeGreaterThan(1e-4);
    await session.release();
  });

  test('embed from the export folder (fp32) equals the model folder to 1e-4; --int8 is close', async () => {
    const fromExport = await Embedder.load(exportDir, { threads: 1 });
    const fromInt8 = await Embedder.load(exportDir, { threads: 1, int8: true });
    try {
      const ref = await emb.embedBatch(TEXTS);
      const got = await fromExport.embedBatch(TEXTS);
      const q: typeof got = [];
      for (const t of TEXTS) q.push(await fromInt8.embed(t)); // int8: one text per run
      let maxDiff = 0;
      for (const [i, r] of ref.entries()) {
        expect(got[i].text).toBe(r.text);
        expect(got[i].dim).toBe(r.dim);
        r.embedding.forEach((v, h) => (maxDiff = Math.max(maxDiff, Math.abs(v - got[i].embedding[h]))));
        const dot = r.embedding.reduce((s, v, h) => s + v * q[i].embedding[h], 0);
        const norm = (a: number[]) => Math.sqrt(a.reduce((s, v) => s + v * v, 0));
        expect(dot / (norm(r.embedding) * norm(q[i].embedding))).toBeGreaterThan(0.99);
      }
      expect(maxDiff).toBeLessThanOrEqual(1e-4);
    } finally {
      await fromExport.close();
      await fromInt8.close();
    }
  });

  test('texts over 512 tokens are truncated keeping [SEP]; the [MASK] must survive truncation', async () => {
    const long = `${'word '.repeat(600)}[MASK]`;
    const early = `[MASK] ${'word '.repeat(600)}`;
    const r = await fm.predict(early, 1);
    expect(r.truncated).toBe(true);
    expect(r.tokens).toHaveLength(512);
    expect(r.tokens[511]).toBe('[SEP]');
    const e = await emb.embed(long);
    expect(e.dim).toBe(32);
    await expect(collect(inferBatches(fm.task(1), lines(['ok [MASK]', long]), 'in.txt'))).rejects
      .toThrow(/^in\.txt:2: the text's \[MASK\] tokens are beyond the first 512 tokens$/);
  });

  test('bad inputs: no [MASK] names the line; --int8 on a model folder; a missing folder', async () => {
    await expect(collect(inferBatches(fm.task(5), lines(['a [MASK]', 'b [MASK]', 'no mask']), 'in.jsonl'))).rejects
      .toThrow(/^in\.jsonl:3: the text has no \[MASK\] token/);
    await expect(FillMask.load(modelDir, { int8: true })).rejects.toThrow(/--int8 needs an export folder .* is a model folder: run `compactlm export/);
    await expect(FillMask.load(join(root, 'nowhere'))).rejects.toThrow(/nowhere: model folder not found/);
  });
});

describe('sorting windows', () => {
  /** A task that records each batch's padded size and returns each text's own length. */
  function recordingTask(budget = Infinity) {
    const batches: number[][] = [];
    const task = {
      maxLength: 512, maxBatch: Infinity, maxBatchTokens: budget,
      encode: (text: string) => ({ text, ids: Array.from({ length: Number(text) }, () => 1), tokens: [], truncated: false }),
      runBatch: async (batch: readonly { text: string; ids: number[] }[]) => {
        batches.push(batch.map((e) => e.ids.length));
        return batch.map((e) => e.text);
      },
    };
    return { task, batches };
  }
  const lengths = Array.from({ length: 100 }, (_, i) => String(3 + ((i * 37) % 60)));
  const padded = (batches: number[][]) => batches.reduce((s, b) => s + b.length * Math.max(...b), 0);

  test('results come back in input order; batches hold texts of similar length (less padding than input order)', async () => {
    const { task, batches } = recordingTask();
    expect(await collect(inferBatches(task, lines(lengths), 'x', { batchSize: 8 }))).toEqual(lengths);
    const inOrder = Array.from({ length: Math.ceil(lengths.length / 8) }, (_, k) => lengths.slice(8 * k, 8 * k + 8).map(Number));
    expect(batches.flat().sort()).toEqual(lengths.map(Number).sort());
    expect(batches.every((b) => b.length <= 8)).toBe(true);
    expect(padded(batches)).toBeLessThan(0.7 * padded(inOrder));
  });

  test('the padded-token budget still bounds every batch; batch size 1 keeps input order', async () => {
    const { task, batches } = recordingTask(100);
    expect(await collect(inferBatches(task, lines(lengths), 'x', { batchSize: 8 }))).toEqual(lengths);
    expect(batches.every((b) => b.length * Math.max(...b) <= 100 || b.length === 1)).toBe(true);
    const one = recordingTask();
    await collect(inferBatches(one.task, lines(lengths), 'x', { batchSize: 1 }));
    expect(one.batches.map((b) => String(b[0]))).toEqual(lengths);
  });
});
