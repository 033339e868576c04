/**
 * The step compiler's IO specs: the feed/output names, dtypes and shapes documented in step-compiler.ts, as ONNX
 * Runtime sees them in the compiled graphs; the state/feed-back contract the trainer reads; writeArtifacts' files.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { paramTable } from '../../../src/model/bert.js';
import { makeConfig } from '../../../src/model/config.js';
import { distillationLoss } from '../../../src/model/distill-loss.js';
import { compileStep, INFERENCE_DIMS } from '../../../src/model/step-compiler.js';
import { writeArtifacts } from '../../../src/train/run-folder.js';
import { randomWeights } from './bert-reference.js';

const config = makeConfig('tiny', { vocab_size: 50, hidden_size: 16, num_attention_heads: 2, intermediate_size: 24, num_hidden_layers: 1, max_position_embeddings: 12 });
const [B, T, M, H, V] = [2, 8, 3, 16, 50];
const shape = { batchSize: B, seqLen: T, maxPredictions: M };
const names = (xs: { name: string }[]) => xs.map((x) => x.name);

describe('compileStep', () => {
  const step = compileStep({ kind: 'train', config, shape });
  const table = paramTable(config);

  test('train: state = params and moments, each fed back from its new.* output', async () => {
    const { io } = step;
    expect(io.state.filter((s) => s.role === 'param').map((s) => [s.name, s.shape, s.next])).toEqual(table.map((p) => [p.name, p.shape, `new.${p.name}`]));
    const moments = io.state.filter((s) => s.role === 'moment');
    expect(names(moments)).toEqual([...table.map((p) => `adam_m.${p.name}`), ...table.map((p) => `adam_v.${p.name}`)]);
    for (const s of moments) expect(s.next).toBe(`new.${s.name}`);
    const byName = new Map(io.inputs.map((i) => [i.name, i]));
    for (const s of io.state) expect(byName.get(s.name)).toEqual({ name: s.name, dtype: 'float32', shape: s.shape });
    const outs = new Map(io.outputs.map((o) => [o.name, o]));
    for (const s of io.state) expect(outs.get(s.next!)).toEqual({ name: s.next, dtype: 'float32', shape: s.shape });
    expect(io.hyper).toEqual([{ name: 'lr', dtype: 'float32', shape: [] }, { name: 'step', dtype: 'float32', shape: [] }]);
    expect(io.metrics).toEqual({ loss: 'loss', gradNorm: 'grad_norm', count: 'mlm_count', ratios: { mlm_acc: 'mlm_correct' }, perplexity: true });
    expect(step.optimizer).toEqual({ beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, maxGradNorm: 1 });

    // ORT agrees on the names.
    const s = await ort.InferenceSession.create(step.bytes);
    expect([...s.inputNames].sort()).toEqual(names(io.inputs).sort());
    expect([...s.outputNames].sort()).toEqual(names(io.outputs).sort());
  });

  test('train: every state tensor updates in place, and writing into the inputs\' buffers gives the same state', async () => {
    // Global-norm clipping makes each update wait for every gradient, so for every weight all reads come first.
    expect(step.io.state.filter((s) => !s.inPlace).map((s) => s.name)).toEqual([]);
    // Without clipping a layer's update need not wait for its weights' backward reads: those are not in place.
    const unclipped = compileStep({ kind: 'train', config, shape, optimizer: { maxGradNorm: 0 } });
    expect(unclipped.io.state.some((s) => s.role === 'param' && !s.inPlace)).toBe(true);

    const session = await ort.InferenceSession.create(step.bytes);
    const w = randomWeights(config, 7);
    const state = (): Map<string, ort.Tensor> => new Map(step.io.state.map((s) => [s.name,
      new ort.Tensor('float32', s.role === 'param' ? Float32Array.from(w.get(s.name)!) : new Float32Array(s.shape.reduce((a, b) => a * b, 1)), s.shape)]));
    const ids = BigInt64Array.from({ length: B * T }, (_, i) => BigInt(5 + ((i * 7) % (V - 5))));
    const batch: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor('int64', ids, [B, T]),
      attention_mask: new ort.Tensor('int64', new BigInt64Array(B * T).fill(1n), [B, T]),
      token_type_ids: new ort.Tensor('int64', new BigInt64Array(B * T), [B, T]),
      masked_positions: new ort.Tensor('int64', BigInt64Array.from([1, 3, 5, 9, 10, 14], BigInt), [B * M]),
      masked_labels: new ort.Tensor('int64', BigInt64Array.from([7, 8, 9, 10, 11, 12], BigInt), [B * M]),
    };
    for (const d of step.io.dropout) batch[d.name] = new ort.Tensor('bool', new Uint8Array(d.shape.reduce((a, b) => a * b, 1)).fill(1), d.shape);
    const [fresh, inPlace] = [state(), state()];
    for (let t = 1; t <= 2; t++) {
      const hyper = { lr: new ort.Tensor('float32', Float32Array.of(0.01), []), step: new ort.Tensor('float32', Float32Array.of(t), []) };
      const a = await session.run({ ...batch, ...hyper, ...Object.fromEntries(fresh) });
      for (const s of step.io.state) fresh.set(s.name, a[s.next!]);
      const fetches = Object.fromEntries(session.outputNames.map((n) => [n, null as ort.Tensor | null]));
      for (const s of step.io.state) fetches[s.next!] = inPlace.get(s.name)!;
      const b = await session.run({ ...batch, ...hyper, ...Object.fromEntries(inPlace) }, fetches);
      expect(b.loss.data[0]).toBe(a.loss.data[0]);
    }
    for (const s of step.io.state) expect(inPlace.get(s.name)!.data).toEqual(fresh.get(s.name)!.data);
    const moved = step.io.state.find((s) => s.role === 'param')!;
    expect(inPlace.get(moved.name)!.data).not.toEqual(Float32Array.from(w.get(moved.name)!)); // it did train
  });

  test('train: batch feeds are everything but state and hyper-parameters, dropout masks included', () => {
    const { io } = step;
    const batch = new Map(io.batch.map((b) => [b.name, b]));
    for (const name of ['input_ids', 'attention_mask', 'token_type_ids']) expect(batch.get(name)).toEqual({ name, dtype: 'int64', shape: [B, T] });
    // At most B·M rows: the batch source feeds only the scored slots.
    for (const name of ['masked_positions', 'masked_labels']) expect(batch.get(name)).toEqual({ name, dtype: 'int64', shape: ['num_masked'] });
    expect(io.dropout.map((d) => [d.name, d.shape])).toEqual([
      ['dropout.embeddings', [B, T, H]], ['dropout.layer.0.attention', [B, 2, T, T]],
      ['dropout.layer.0.attention.output', [B, T, H]], ['dropout.layer.0.output', [B, T, H]]]);
    for (const d of io.dropout) expect(batch.get(d.name)!.dtype).toBe('bool');
    expect(io.batch.length).toBe(5 + io.dropout.length);
    expect(io.inputs.length).toBe(io.state.length + 2 + io.batch.length);
  });

  test('grad + apply: gradients accumulate into the apply step\'s inputs; apply updates the same state', () => {
    const grad = compileStep({ kind: 'grad', config, shape });
    const apply = compileStep({ kind: 'apply', config });
    const applyInputs = new Set(names(apply.io.inputs));
    expect(Object.keys(grad.io.accumulate).length).toBe(table.length + 1);
    for (const [out, into] of Object.entries(grad.io.accumulate)) {
      expect(names(grad.io.outputs)).toContain(out);
      expect(applyInputs.has(into)).toBe(true);
    }
    expect(apply.io.state.map((s) => [s.name, s.next])).toEqual(step.io.state.map((s) => [s.name, s.next]));
    expect(grad.io.state.every((s) => s.next === undefined)).toBe(true);
    expect(grad.io.metrics).toMatchObject({ lossSum: 'loss_sum', count: 'mlm_count' });
  });

  test('eval: params and batch in; loss, loss_sum and metric counts out; no dropout, moments or lr', () => {
    const ev = compileStep({ kind: 'eval', config, shape });
    expect(names(ev.io.inputs).sort()).toEqual([...table.map((p) => p.name), 'input_ids', 'attention_mask', 'token_type_ids', 'masked_positions', 'masked_labels'].sort());
    expect(names(ev.io.outputs)).toEqual(['loss', 'loss_sum', 'mlm_count', 'mlm_correct']);
    expect(ev.io.dropout).toEqual([]);
  });

  test('a loss declares its own inputs: distillation adds teacher_logits [num_masked, V]', () => {
    const kd = compileStep({ kind: 'train', config, shape, loss: distillationLoss({ temperature: 2, alpha: 0.5 }) });
    expect(kd.io.batch.find((b) => b.name === 'teacher_logits')).toEqual({ name: 'teacher_logits', dtype: 'float32', shape: ['num_masked', V] });
  });

  test.each([['cross-entropy', undefined], ['distillation', distillationLoss({ temperature: 2, alpha: 0.5 })]])(
    'grad (%s): feeding only the scored slots gives the gradients of every B·M slot with −100 in the unused ones', async (_, loss) => {
      const grad = compileStep({ kind: 'grad', config, shape, loss, dropout: false });
      const session = await ort.InferenceSession.create(grad.bytes);
      const w = randomWeights(config, 3);
      const params = Object.fromEntries(grad.io.state.map((s) => [s.name, new ort.Tensor('float32', Float32Array.from(w.get(s.name)!), s.shape)]));
      const ids = BigInt64Array.from({ length: B * T }, (_, i) => BigInt(5 + ((i * 11) % (V - 5))));
      const slots = [[1, 7], [3, 8], [0, -100], [9, 10], [0, -100], [0, -100]]; // [position, label]: sequence 0 scores 2, sequence 1 one
      const teacher = Float32Array.from({ length: B * M * V }, (_, i) => Math.sin(i) * 3);
      const run = (keep: number[]) => session.run({
        ...params,
        input_ids: new ort.Tensor('int64', ids, [B, T]),
        attention_mask: new ort.Tensor('int64', new BigInt64Array(B * T).fill(1n), [B, T]),
        token_type_ids: new ort.Tensor('int64', new BigInt64Array(B * T), [B, T]),
        masked_positions: new ort.Tensor('int64', BigInt64Array.from(keep, (j) => BigInt(slots[j][0])), [keep.length]),
        masked_labels: new ort.Tensor('int64', BigInt64Array.from(keep, (j) => BigInt(slots[j][1])), [keep.length]),
        ...(loss ? { teacher_logits: new ort.Tensor('float32', Float32Array.from(keep.flatMap((j) => [...teacher.subarray(j * V, (j + 1) * V)])), [keep.length, V]) } : {}),
      });
      const [padded, packed] = [await run([0, 1, 2, 3, 4, 5]), await run([0, 1, 3])];
      expect(packed.mlm_count.data[0]).toBe(3);
      expect(packed.loss_sum.data[0]).toBeCloseTo(padded.loss_sum.data[0] as number, 5);
      // Relative to the largest gradient anywhere: a tensor whose true gradient is 0 (attention's key bias) holds
      // rounding noise only.
      const names = Object.keys(grad.io.accumulate).filter((n) => n.startsWith('grad.'));
      const scale = Math.max(...names.map((n) => (padded[n].data as Float32Array).reduce((m, x) => Math.max(m, Math.abs(x)), 0)));
      for (const name of names) {
        const [a, b] = [padded[name].data as Float32Array, packed[name].data as Float32Array];
        a.forEach((x, i) => expect(Math.abs(b[i] - x) / scale).toBeLessThan(1e-5));
      }
    });

  test('logits (teacher): weights inside, logits at the masked positions', async () => {
    const t = compileStep({ kind: 'logits', config, shape, weights: randomWeights(config, 1) });
    expect(names(t.io.inputs)).toEqual(['input_ids', 'attention_mask', 'token_type_ids', 'masked_positions']);
    expect(t.io.outputs).toEqual([{ name: 'logits', dtype: 'float32', shape: ['num_masked', V] }]);
    await ort.InferenceSession.create(t.bytes);
  });

  test('inference: dynamic int64 inputs with Optimum\'s dim names, weights inside, chosen outputs', async () => {
    const inf = compileStep({ kind: 'inference', config, weights: randomWeights(config, 1), outputs: ['logits', 'last_hidden_state'] });
    expect(inf.io.inputs).toEqual(['input_ids', 'attention_mask', 'token_type_ids'].map((name) => ({ name, dtype: 'int64', shape: [...INFERENCE_DIMS] })));
    expect(inf.io.outputs).toEqual([
      { name: 'logits', dtype: 'float32', shape: [...INFERENCE_DIMS, V] },
      { name: 'last_hidden_state', dtype: 'float32', shape: [...INFERENCE_DIMS, H] },
    ]);
    const s = await ort.InferenceSession.create(inf.bytes);
    expect(s.inputNames).toEqual(['input_ids', 'attention_mask', 'token_type_ids']);
    expect(() => compileStep({ kind: 'inference', config, weights: new Map() })).toThrow(/weights for bert\.embeddings/);
    expect(() => compileStep({ kind: 'inference', config, weights: randomWeights(config, 1), outputs: ['pooled'] })).toThrow(/no output pooled/);
  });

  test('bad shapes are refused while building', () => {
    expect(() => compileStep({ kind: 'train', config, shape: { ...shape, maxPredictions: T + 1 } })).toThrow(/maxPredictions/);
    expect(() => compileStep({ kind: 'train', config, shape: { ...shape, seqLen: 13 } })).toThrow(/max_position_embeddings/);
    expect(() => compileStep({ kind: 'eval', config })).toThrow(/needs a shape/);
  });
});

describe('writeArtifacts', () => {
  test('writes the graphs and artifacts.json with their IO specs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'compactlm-artifacts-'));
    try {
      const out = join(dir, 'run', 'artifacts');
      const train = compileStep({ kind: 'train', config, shape });
      const written = await writeArtifacts(out, { train, eval: compileStep({ kind: 'eval', config, shape }), inference: compileStep({ kind: 'inference', config, weights: randomWeights(config, 2) }) });
      expect(readdirSync(out).sort()).toEqual(['artifacts.json', 'eval.onnx', 'model.onnx', 'train_step.onnx']);
      expect(written.length).toBe(4);
      expect(readFileSync(join(out, 'train_step.onnx')).equals(Buffer.from(train.bytes))).toBe(true);
      const index = JSON.parse(readFileSync(join(out, 'artifacts.json'), 'utf8'));
      expect(index['train_step.onnx'].bytes).toBe(train.bytes.byteLength);
      expect(index['train_step.onnx'].io.inputs).toEqual(train.io.inputs);
      expect(index['eval.onnx'].io.outputs.map((o: { name: string }) => o.name)).toEqual(['loss', 'loss_sum', 'mlm_count', 'mlm_correct']);
      expect(index['model.onnx'].kind).toBe('inference');
      await ort.InferenceSession.create(join(out, 'model.onnx')); // loads from disk
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
