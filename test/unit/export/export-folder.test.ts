/**
 * exportModel on a tiny BERT (H=32, one layer, the real vocabulary): folder contents and names, the IO signature
 * read back by onnxruntime (symbolic dims, two different shapes run), the int8 size ratio, the verification numbers
 * (fp32 vs the training graph, int8 agreement) and that the check fails when it should, loading in transformers.js
 * 2.17.2 (its own onnxruntime 1.14) with the same answers as onnxruntime-node directly, and bad inputs.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, parse, relative } from 'node:path';
import ort from 'onnxruntime-node';
import { exportModel, irVersionFor, ONNX_MODEL_FILE, ONNX_QUANTIZED_FILE, TRANSFORMERS_JS_MAX_OPSET, type ExportSummary } from '../../../src/export/export-folder.js';
import { compileStep } from '../../../src/model/step-compiler.js';
import { batchFeeds, BUILTIN_VAL, loadValTexts, maskSample, verifyExport, type Verification } from '../../../src/export/verify.js';
import { loadTokenizer } from '../../../src/tokenizer/tokenizer.js';
import { UserError } from '../../../src/util/errors.js';
import { makeConfig } from '../../../src/model/config.js';
import { BertForMaskedLM } from '../../../src/model/bert.js';
import { Graph } from '../../../src/onnx/graph.js';
import { TINY, tinyModel } from './tiny-model.js';

const V = 30522;
let root: string;
let modelDir: string;
let outDir: string;
let peakedDir: string;
let peakedOut: string;
let summary: ExportSummary;
let params: Map<string, Float32Array>;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'export-unit-'));
  modelDir = join(root, 'model');
  outDir = join(root, 'out');
  peakedDir = join(root, 'peaked');
  peakedOut = join(root, 'peaked-out');
  ({ params } = await tinyModel(modelDir));
  summary = await exportModel({ modelDir, outDir, samples: 32, seed: 5 });
  await tinyModel(peakedDir, { peaked: true });
  await exportModel({ modelDir: peakedDir, outDir: peakedOut, samples: 8 });
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('export folder', () => {
  test('files and names: transformers.js / Optimum layout, no temporary folders left', () => {
    expect(readdirSync(outDir).sort()).toEqual(['.compactlm-output.json', 'config.json', 'export.json', 'onnx', 'special_tokens_map.json', 'tokenizer.json',
      'tokenizer_config.json', 'vocab.txt']);
    expect(readdirSync(join(outDir, 'onnx')).sort()).toEqual(['fill_mask.onnx', 'fill_mask_quantized.onnx', 'model.onnx', 'model_quantized.onnx']);
    expect(readdirSync(root).sort()).toEqual(['model', 'out', 'peaked', 'peaked-out']);
    expect(JSON.parse(readFileSync(join(outDir, 'config.json'), 'utf8'))).toMatchObject({ model_type: 'bert', hidden_size: 32, vocab_size: V });
    expect(readFileSync(join(outDir, 'vocab.txt'))).toEqual(readFileSync(join(modelDir, 'vocab.txt')));
    expect(JSON.parse(readFileSync(join(outDir, 'export.json'), 'utf8'))).toMatchObject({ opset: 17, irVersion: 8, quantize: 'int8' });
    // transformers.js 2.17.2 picks onnx/model.onnx or onnx/model_quantized.onnx by `quantized` (models.js)
    const models = readFileSync(join(process.cwd(), 'node_modules/@xenova/transformers/src/models.js'), 'utf8');
    expect(models).toContain("let modelFileName = `onnx/${fileName}${options.quantized ? '_quantized' : ''}.onnx`;");
  });

  test.each([ONNX_MODEL_FILE, ONNX_QUANTIZED_FILE])('%s: inputs/outputs, symbolic batch and sequence, runs two shapes', async (file) => {
    const session = await ort.InferenceSession.create(join(outDir, file));
    expect(session.inputNames).toEqual(['input_ids', 'attention_mask', 'token_type_ids']);
    // logits first: transformers.js's fill-mask reads it by name, other tools take output 0
    expect(session.outputNames).toEqual(['logits', 'last_hidden_state']);
    for (const m of session.inputMetadata) expect(m).toMatchObject({ type: 'int64', shape: ['batch_size', 'sequence_length'] });
    expect(session.outputMetadata[0]).toMatchObject({ type: 'float32', shape: ['batch_size', 'sequence_length', V] });
    expect(session.outputMetadata[1]).toMatchObject({ type: 'float32', shape: ['batch_size', 'sequence_length', 32] });
    for (const rows of [[[101, 7592, 102]], [[101, 2023, 2003, 1037, 3231, 102], [101, 103, 102], [101, 2000, 2001, 2002, 102]]]) {
      const { feeds, T } = batchFeeds(rows);
      const { logits, last_hidden_state: hidden } = await session.run(feeds);
      expect(logits.dims).toEqual([rows.length, T, V]);
      expect(hidden.dims).toEqual([rows.length, T, 32]);
      expect(Array.from(logits.data as Float32Array).every(Number.isFinite)).toBe(true);
      expect(Array.from(hidden.data as Float32Array).every(Number.isFinite)).toBe(true);
    }
    await session.release();
  });

  test('int8 file ≤ 35% of fp32; quantization scheme recorded', () => {
    const size = (p: string) => summary.files.find((f) => f.path === p)!.bytes;
    expect(size(ONNX_QUANTIZED_FILE) / size(ONNX_MODEL_FILE)).toBeCloseTo(summary.sizeRatio!, 10);
    expect(summary.sizeRatio).toBeLessThanOrEqual(0.35);
    const names = summary.quantization!.tensors.map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(['bert.embeddings.word_embeddings.weight_quantized',
      'bert.encoder.layer.0.attention.self.query+key+value.weight_quantized', 'cls.predictions.transform.dense.weight_quantized']));
    for (const t of summary.quantization!.tensors) expect(t.maxError).toBeLessThanOrEqual(t.bound * (1 + 1e-6));
  });

  test('verification: fp32 equals the training graph to 1e-4; int8 agrees with fp32 on masked tokens', () => {
    const v = summary.verification as Verification;
    expect(v.sentences).toBe(32);
    expect(v.fp32MaxAbsDiff).toBeLessThanOrEqual(1e-4);
    expect(v.fp32HiddenMaxAbsDiff).toBeLessThanOrEqual(1e-4);
    expect(v.int8!.maskedTokens).toBeGreaterThan(32);
    // Random-init MLM logits are nearly uniform (top-1 gap ≈ int8 noise), so this bound is loose; the export
    // itself warns below 99%, the target for trained models.
    expect(v.int8!.top1Agreement).toBeGreaterThanOrEqual(0.9);
    expect(v.int8!.maxAbsDiff).toBeGreaterThan(0); // int8 really differs from fp32
  });

  test('the checks fail when the models differ: fp32 from other weights, int8 of another model', async () => {
    const other = join(root, 'other.onnx');
    const { config, params: otherParams } = await tinyModel(join(root, 'other'), { seed: 2 });
    writeFileSync(other, compileStep({ kind: 'inference', config, weights: otherParams, outputs: ['logits', 'last_hidden_state'], opset: 17, irVersion: 8 }).bytes);
    const sample = maskSample(await loadTokenizer(outDir), await loadValTexts(BUILTIN_VAL, 'text', 16, 1), 64, 1);
    await expect(verifyExport({ config, params, sample, fp32Path: other }))
      .rejects.toThrow(/export check failed: onnx\/model.onnx differs from the training graph by max \|Δlogit\|/);
    const crossed = await verifyExport({ config, params: otherParams, sample, fp32Path: other, int8Path: join(outDir, ONNX_QUANTIZED_FILE) });
    expect(crossed.fp32MaxAbsDiff).toBeLessThanOrEqual(1e-4);
    expect(crossed.int8!.top1Agreement).toBeLessThan(0.2);
    rmSync(join(root, 'other'), { recursive: true });
    rmSync(other);
  });

  test('the fp32 check also fails when only last_hidden_state differs (logits equal)', async () => {
    const shifted = join(root, 'shifted.onnx');
    const config = makeConfig('tiny', TINY);
    const g = new Graph({ name: 'shifted', opset: 17 });
    const bert = new BertForMaskedLM(g, config, { batchSize: 2, seqLen: 3, dynamic: true });
    const rows = bert.encode();
    g.output(bert.unflattenRows(bert.mlmLogits(rows)), 'logits', { dims: ['batch_size', 'sequence_length', V] });
    const off = g.constant('float32', [1], Float32Array.of(1e-3));
    g.output(bert.unflattenRows(g.add(rows, off)), 'last_hidden_state', { dims: ['batch_size', 'sequence_length', 32] });
    writeFileSync(shifted, g.toBytes({ weights: params, irVersion: 8 }));
    const sample = maskSample(await loadTokenizer(outDir), await loadValTexts(BUILTIN_VAL, 'text', 4, 1), 32, 1);
    await expect(verifyExport({ config, params, sample, fp32Path: shifted }))
      .rejects.toThrow(/export check failed: onnx\/model.onnx differs from the training graph by max \|Δlast_hidden_state\| = 1\.0\d*e-3 > 0\.0001/);
    rmSync(shifted);
  });

  test('int8 last_hidden_state stays close to fp32 (quantized matmuls upstream, one sentence per run)', async () => {
    const fp32 = await ort.InferenceSession.create(join(outDir, ONNX_MODEL_FILE));
    const int8 = await ort.InferenceSession.create(join(outDir, ONNX_QUANTIZED_FILE));
    const { feeds } = batchFeeds([[101, 2023, 2003, 1037, 3231, 102]]);
    const a = (await fp32.run(feeds)).last_hidden_state.data as Float32Array;
    const b = (await int8.run(feeds)).last_hidden_state.data as Float32Array;
    let [dot, na, nb, maxDiff] = [0, 0, 0, 0];
    for (let i = 0; i < a.length; i++) {
      dot += a[i] * b[i];
      na += a[i] * a[i];
      nb += b[i] * b[i];
      maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
    }
    expect(dot / Math.sqrt(na * nb)).toBeGreaterThan(0.99);
    expect(maxDiff).toBeGreaterThan(0); // really the quantized path
    await fp32.release();
    await int8.release();
  });

  test('--min-agreement above what int8 reaches fails and writes nothing', async () => {
    // The peaked random model sends every [MASK] to two near-tied tokens, so int8 often flips them.
    await expect(exportModel({ modelDir: peakedDir, outDir: join(root, 'strict'), samples: 8, minAgreement: 0.99 }))
      .rejects.toThrow(/export check failed: int8 top-1 agreement with fp32 is \d+\.\d\d% < --min-agreement 99\.00%/);
    expect(existsSync(join(root, 'strict'))).toBe(false);
  });
});

describe('transformers.js 2.17.2 loads the folder and agrees with onnxruntime-node', () => {
  test.each([[false, 1e-4], [true, 1e-4]])('fill-mask quantized: %s', async (quantized, tol) => {
    const { pipeline, env } = await import('@xenova/transformers');
    env.allowRemoteModels = false;
    env.localModelPath = parse(peakedOut).root;
    const fillMask = await pipeline('fill-mask', relative(parse(peakedOut).root, peakedOut), { quantized });
    const text = 'The quick brown [MASK] jumps over the lazy dog.';
    const answers = (await fillMask(text, { topk: 5 })) as Array<{ score: number; token: number }>;

    const tok = await loadTokenizer(peakedOut);
    const ids = tok.encode(text).input_ids;
    const at = ids.indexOf(tok.maskId);
    const session = await ort.InferenceSession.create(join(peakedOut, quantized ? ONNX_QUANTIZED_FILE : ONNX_MODEL_FILE));
    const logits = (await session.run(batchFeeds([ids]).feeds)).logits.data as Float32Array;
    await session.release();
    const row = Array.from(logits.subarray(at * V, (at + 1) * V));
    const max = Math.max(...row);
    const z = row.reduce((s, x) => s + Math.exp(x - max), 0);
    const top = row.map((x, token) => ({ token, score: Math.exp(x - max) / z })).sort((a, b) => b.score - a.score).slice(0, 5);

    expect(answers.map((a) => a.token)).toEqual(top.map((t) => t.token));
    answers.forEach((a, i) => expect(Math.abs(a.score - top[i].score)).toBeLessThanOrEqual(tol));
    expect(top[0].score).toBeGreaterThan(0.05); // a peaked distribution, so the comparison means something
  });
});

describe('bad inputs: one-line errors, nothing written', () => {
  const expectNothingWritten = () => expect(readdirSync(root).filter((f) => !['model', 'out', 'peaked', 'peaked-out'].includes(f))).toEqual([]);

  test('missing model folder', async () => {
    await expect(exportModel({ modelDir: join(root, 'nope'), outDir: join(root, 'x') })).rejects.toThrow(new UserError(`${join(root, 'nope')}: model folder not found`));
    expectNothingWritten();
  });

  test('corrupt safetensors', async () => {
    const bad = join(root, 'bad');
    await tinyModel(bad);
    writeFileSync(join(bad, 'model.safetensors'), Buffer.from('{"garbage'));
    const e = await exportModel({ modelDir: bad, outDir: join(root, 'x') }).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(UserError);
    expect((e as Error).message).toMatch(/model\.safetensors/);
    expect((e as Error).message).not.toContain('\n');
    rmSync(bad, { recursive: true });
    expectNothingWritten();
  });

  test('existing non-empty output folder without overwrite', async () => {
    await expect(exportModel({ modelDir, outDir })).rejects.toThrow(/exists and is not empty \(an export folder of `compactlm export`\): pass --overwrite to replace it/);
  });

  test('opset below 17 is refused with the reason; 17 and 18 load in onnxruntime 1.14 (transformers.js) and 1.30', async () => {
    await expect(exportModel({ modelDir, outDir: join(root, 'x'), opset: 16 })).rejects.toThrow(/opset 16 is too low: the export uses LayerNormalization/);
    expectNothingWritten();
    const ort14 = createRequire(join(process.cwd(), 'node_modules/@xenova/transformers/package.json'))('onnxruntime-node') as typeof ort;
    const config = makeConfig('tiny', TINY);
    for (const opset of [17, 18, 19]) {
      const bytes = compileStep({ kind: 'inference', config, weights: params, outputs: ['logits', 'last_hidden_state'], opset, irVersion: irVersionFor(opset) }).bytes;
      await expect(ort.InferenceSession.create(bytes)).resolves.toBeDefined();
      const loads14 = await ort14.InferenceSession.create(Buffer.from(bytes)).then(() => true, () => false);
      expect([opset, loads14]).toEqual([opset, opset <= TRANSFORMERS_JS_MAX_OPSET]);
    }
  });

  test('--val with a missing column', async () => {
    const csv = join(root, 'val.csv');
    writeFileSync(csv, 'a,b\n1,2\n');
    await expect(exportModel({ modelDir, outDir: join(root, 'x'), val: csv, textColumn: 'text' })).rejects.toThrow(/val\.csv.*text/);
    rmSync(csv);
    expectNothingWritten();
  });
});

test('export folder exists only after success (no partial folder)', () => {
  expect(existsSync(join(root, 'x'))).toBe(false);
});
