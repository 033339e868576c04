/**
 * The artifact specs: the feed/output names, dtypes and shapes documented in artifacts.ts, as ONNX Runtime sees
 * them in the compiled graphs; writeArtifacts' files; fillKeepMask's keep rate and determinism.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { buildEval, buildInference, buildTrainStep, fillKeepMask, writeArtifacts } from '../../../src/model/artifacts.js';
import { makeConfig } from '../../../src/model/config.js';
import { paramTable } from '../../../src/model/params.js';
import { Rng } from '../../../src/util/rng.js';
import { randomWeights } from './bert-reference.js';

const config = makeConfig('tiny', { vocab_size: 50, hidden_size: 16, num_attention_heads: 2, intermediate_size: 24, num_hidden_layers: 1, max_position_embeddings: 12 });
const [B, T, M, H, V] = [2, 8, 3, 16, 50];
const shape = { batchSize: B, seqLen: T, maxPredictions: M };

describe('artifact specs', () => {
  const step = buildTrainStep(config, shape);

  test('train_step inputs: params, moments, lr, step, batch, dropout masks — as documented', async () => {
    const byName = new Map(step.inputs.map((i) => [i.name, i]));
    const table = paramTable(config);
    expect(step.paramNames).toEqual(table.map((p) => p.name));
    for (const p of table) {
      for (const n of [p.name, `adam_m.${p.name}`, `adam_v.${p.name}`]) expect(byName.get(n)).toEqual({ name: n, dtype: 'float32', shape: p.shape });
    }
    expect(byName.get('lr')).toEqual({ name: 'lr', dtype: 'float32', shape: [] });
    expect(byName.get('step')).toEqual({ name: 'step', dtype: 'float32', shape: [] });
    for (const n of ['input_ids', 'attention_mask', 'token_type_ids']) expect(byName.get(n)).toEqual({ name: n, dtype: 'int64', shape: [B, T] });
    for (const n of ['masked_positions', 'masked_labels']) expect(byName.get(n)).toEqual({ name: n, dtype: 'int64', shape: [B * M] });
    expect(step.dropoutInputs.map((d) => [d.name, d.shape])).toEqual([
      ['dropout.embeddings', [B, T, H]], ['dropout.layer.0.attention', [B, 2, T, T]],
      ['dropout.layer.0.attention.output', [B, T, H]], ['dropout.layer.0.output', [B, T, H]]]);
    for (const d of step.dropoutInputs) expect(byName.get(d.name)!.dtype).toBe('bool');
    expect(step.inputs.length).toBe(3 * table.length + 2 + 5 + step.dropoutInputs.length);

    // ORT agrees on the names.
    const s = await ort.InferenceSession.create(step.bytes);
    expect([...s.inputNames].sort()).toEqual(step.inputs.map((i) => i.name).sort());
    expect([...s.outputNames].sort()).toEqual(step.outputs.map((o) => o.name).sort());
  });

  test('train_step outputs: loss, grad_norm, counts, new.* for every param and moment', () => {
    const names = step.outputs.map((o) => o.name);
    expect(names.slice(0, 4)).toEqual(['loss', 'grad_norm', 'mlm_correct', 'mlm_count']);
    for (const o of step.outputs.slice(0, 4)) expect(o).toMatchObject({ dtype: 'float32', shape: [] });
    const byName = new Map(step.outputs.map((o) => [o.name, o]));
    for (const p of paramTable(config)) {
      for (const k of ['new.', 'new.adam_m.', 'new.adam_v.']) expect(byName.get(k + p.name)).toEqual({ name: k + p.name, dtype: 'float32', shape: p.shape });
    }
    expect(step.outputs.length).toBe(4 + 3 * paramTable(config).length);
    expect(step.optimizer).toEqual({ beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, maxGradNorm: 1 });
  });

  test('eval: params and batch in; loss, loss_sum, counts out; no dropout, moments or lr', () => {
    const ev = buildEval(config, shape);
    const names = ev.inputs.map((i) => i.name);
    expect(names).toEqual([...paramTable(config).map((p) => p.name), 'input_ids', 'attention_mask', 'token_type_ids', 'masked_positions', 'masked_labels']);
    expect(ev.outputs.map((o) => o.name)).toEqual(['loss', 'loss_sum', 'mlm_correct', 'mlm_count']);
  });

  test('inference: dynamic int64 inputs, weights inside', async () => {
    const inf = buildInference(config, randomWeights(config, 1));
    expect(inf.inputs).toEqual(['input_ids', 'attention_mask', 'token_type_ids'].map((name) => ({ name, dtype: 'int64', shape: ['batch', 'sequence'] })));
    expect(inf.outputs).toEqual([{ name: 'logits', dtype: 'float32', shape: ['batch', 'sequence', V] }]);
    const s = await ort.InferenceSession.create(inf.bytes);
    expect(s.inputNames).toEqual(['input_ids', 'attention_mask', 'token_type_ids']);
    expect(() => buildInference(config, new Map())).toThrow(/weights for bert\.embeddings/);
  });

  test('bad shapes are refused while building', () => {
    expect(() => buildTrainStep(config, { ...shape, maxPredictions: T + 1 })).toThrow(/maxPredictions/);
    expect(() => buildTrainStep(config, { ...shape, seqLen: 13 })).toThrow(/max_position_embeddings/);
  });
});

describe('writeArtifacts', () => {
  test('writes the graphs and artifacts.json describing them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'compactlm-artifacts-'));
    try {
      const out = join(dir, 'run', 'artifacts');
      const trainStep = buildTrainStep(config, shape);
      const written = await writeArtifacts(out, { trainStep, eval: buildEval(config, shape), inference: buildInference(config, randomWeights(config, 2)) });
      expect(readdirSync(out).sort()).toEqual(['artifacts.json', 'eval.onnx', 'model.onnx', 'train_step.onnx']);
      expect(written.length).toBe(4);
      expect(readFileSync(join(out, 'train_step.onnx')).equals(Buffer.from(trainStep.bytes))).toBe(true);
      const index = JSON.parse(readFileSync(join(out, 'artifacts.json'), 'utf8'));
      expect(index['train_step.onnx'].bytes).toBe(trainStep.bytes.byteLength);
      expect(index['train_step.onnx'].inputs).toEqual(trainStep.inputs);
      expect(index['eval.onnx'].outputs.map((o: { name: string }) => o.name)).toEqual(['loss', 'loss_sum', 'mlm_correct', 'mlm_count']);
      expect(index['model.onnx'].kind).toBe('inference');
      await ort.InferenceSession.create(join(out, 'model.onnx')); // loads from disk
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('fillKeepMask', () => {
  test('keeps with probability keepProb (16-bit resolution), reproducibly', () => {
    const n = 200_001; // odd: the last element takes its own draw
    const a = fillKeepMask(new Rng(5), new Uint8Array(n), 0.9);
    const b = fillKeepMask(new Rng(5), new Uint8Array(n), 0.9);
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    const kept = a.reduce((s, x) => s + x, 0) / n;
    expect(Math.abs(kept - 0.9)).toBeLessThan(4 * Math.sqrt(0.09 / n)); // 4σ
    expect(a.every((x) => x === 0 || x === 1)).toBe(true);
    expect(fillKeepMask(new Rng(1), new Uint8Array(1000), 1).every((x) => x === 1)).toBe(true);
    expect(fillKeepMask(new Rng(1), new Uint8Array(1000), 0).every((x) => x === 0)).toBe(true);
  });
});
