/**
 * distill() as a library, on a tiny random teacher (H32, one layer, real vocabulary) and a smaller student:
 * a run stopped after step 3 and resumed ends with the same bytes as an uninterrupted run (teacher logits are
 * recomputed from the restored batch state), and --grad-accum 2 × batch 2 trains like batch 4 (the distillation
 * loss sums over micro-batches like cross-entropy).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { distill, type DistillOptions } from '../../../src/distill/distill.js';
import { tinyModel } from '../export/tiny-model.js';
import { loadModelFolder } from '../../../src/model/checkpoint-folder.js';

const fixture = fileURLToPath(new URL('../../fixtures/pretrain-small.csv', import.meta.url));
let root: string;
let base: DistillOptions;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'distill-unit-'));
  await tinyModel(join(root, 'teacher'), { seed: 2, peaked: true });
  writeFileSync(join(root, 'student.json'), JSON.stringify({ hidden_size: 16, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 32 }));
  base = {
    teacher: join(root, 'teacher'), train: fixture, out: '', studentConfig: join(root, 'student.json'), steps: 6, batchSize: 4, seqLen: 16,
    lr: 5e-3, warmup: 0, schedule: 'linear', weightDecay: 0.01, gradAccum: 1, evalEvery: 3, saveEvery: 3, seed: 9, threads: 1, temperature: 2, alpha: 0.5,
  };
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const losses = (out: string) => readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((r) => 'loss' in r).map((r) => r.loss as number);

test('stop after step 3, --resume: same weights and metrics as one uninterrupted run', async () => {
  const whole = join(root, 'whole');
  const cut = join(root, 'cut');
  const a = await distill({ ...base, out: whole });
  await distill({ ...base, out: cut, stopAfter: 3 });
  const b = await distill({ ...base, out: cut, resume: true });
  expect(b.resumedFrom).toBe(3);
  expect(readFileSync(join(cut, 'model.safetensors')).equals(readFileSync(join(whole, 'model.safetensors')))).toBe(true);
  expect(losses(cut)).toEqual(losses(whole));
  expect(b.report.student).toEqual(a.report.student);
  expect(b.report.teacher).toEqual(a.report.teacher);
});

test('--grad-accum 2 × batch 2 trains like batch 4', async () => {
  const big = join(root, 'big');
  const accum = join(root, 'accum');
  await distill({ ...base, out: big, steps: 3, evalEvery: 3 });
  await distill({ ...base, out: accum, steps: 3, evalEvery: 3, batchSize: 2, gradAccum: 2 });
  const [l1, l2] = [losses(big), losses(accum)];
  expect(l1).toHaveLength(3);
  l1.forEach((x, i) => expect(Math.abs(x - l2[i])).toBeLessThan(1e-4 * Math.abs(x)));
});

test('the teacher runs after the student\'s step, not during it (two sessions on the same cores run slower overlapped)', async () => {
  const out = join(root, 'profiled');
  await distill({ ...base, out, steps: 4, evalEvery: 4, saveEvery: 4, profile: true });
  const rows = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((r) => 'loss' in r);
  expect(rows).toHaveLength(4);
  for (const r of rows.slice(0, -1)) { // the last step draws nothing
    expect(r.profile_after_step_ms).toBeGreaterThan(0);
    // in turn: the teacher's forward pass (after the step) and the worker's session do not overlap; the masking of
    // the next batch (profile_draw_ms) does
    expect(r.profile_after_step_ms + r.profile_worker_session_ms).toBeLessThanOrEqual(r.profile_step_ms + 0.05);
    expect(r.profile_draw_ms + r.profile_wait_ms + r.profile_after_step_ms).toBeLessThanOrEqual(r.profile_step_ms + 0.05);
  }
});

test('--student-init: the student starts from that folder\'s config and weights', async () => {
  const first = join(root, 'first');
  await distill({ ...base, out: first, steps: 3, evalEvery: 3 });
  const further = join(root, 'further');
  const { studentConfig: _, ...rest } = base;
  await distill({ ...rest, out: further, steps: 1, evalEvery: 1, lr: 1e-12, studentInit: first });
  const [a, b] = [await loadModelFolder(first), await loadModelFolder(further)];
  expect(b.config.hidden_size).toBe(16);
  expect([...b.params.keys()].sort()).toEqual([...a.params.keys()].sort());
  for (const [name, w] of a.params) {
    const v = b.params.get(name)!;
    let max = 0;
    for (let i = 0; i < w.length; i++) max = Math.max(max, Math.abs(w[i] - v[i]));
    expect(max).toBeLessThan(1e-6); // one step at lr 1e-12 (the saved folder is float32)
  }
  await expect(distill({ ...base, out: join(root, 'both'), studentInit: first })).rejects.toThrow(/--student-init .*drop --student-preset, --student-config/);
});
