/**
 * The trainer end to end on a tiny BERT: loss goes down, metrics.jsonl has the documented rows, the output
 * folder is a complete model folder. Needs the built worker (npx tsc -p tsconfig.json).
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { loadModelFolder } from '../../../src/model/checkpoint-folder.js';
import { readMetrics } from '../../../src/train/metrics.js';
import { pretrain, type PretrainSummary } from '../../../src/train/pretrain.js';
import { makeSchedule } from '../../../src/train/schedule.js';
import { options, tmp } from './trainer-helpers.js';

describe('pretrain on a tiny BERT', () => {
  const dir = tmp();
  const opts = options(dir, { steps: 40, evalEvery: 10, lr: 1e-2, warmup: 0.1 });
  let summary: PretrainSummary;
  beforeAll(async () => {
    summary = await pretrain(opts);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('training and validation loss fall', async () => {
    const rows = await readMetrics(join(opts.out, 'metrics.jsonl'));
    const train = rows.filter((r) => 'loss' in r).map((r) => r.loss as number);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(train[0]).toBeGreaterThan(9.5); // ≈ ln(30522) = 10.33 at initialization
    expect(mean(train.slice(-10))).toBeLessThan(mean(train.slice(0, 5)) - 1);
    const val = rows.filter((r) => 'val_loss' in r).map((r) => r.val_loss as number);
    expect(val).toHaveLength(4);
    expect(val[3]).toBeLessThan(val[0] - 0.5);
    expect(summary.val_loss).toBeCloseTo(val[3], 12);
  });

  test('metrics.jsonl: one row per step with the schedule\'s lr, eval rows with perplexity = exp(loss)', async () => {
    const rows = await readMetrics(join(opts.out, 'metrics.jsonl'));
    const steps = rows.filter((r) => 'loss' in r);
    expect(steps.map((r) => r.step)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    const sched = makeSchedule({ kind: 'linear', peakLr: opts.lr, warmup: opts.warmup, totalSteps: opts.steps });
    for (const r of steps) {
      expect(Object.keys(r)).toEqual(expect.arrayContaining(['step', 'loss', 'lr', 'grad_norm', 'tokens_per_s']));
      expect(r.lr).toBe(sched.lr(r.step - 1)); // the update after step−1 completed ones
      expect(r.grad_norm).toBeGreaterThan(0);
      expect(r.tokens_per_s).toBeGreaterThan(0);
    }
    const evals = rows.filter((r) => 'val_loss' in r);
    expect(evals.map((r) => r.step)).toEqual([10, 20, 30, 40]);
    for (const r of evals) {
      expect(r.val_ppl).toBeCloseTo(Math.exp(r.val_loss as number), 6);
      expect(r.val_mlm_acc).toBeGreaterThanOrEqual(0);
      expect(r.val_mlm_acc).toBeLessThanOrEqual(1);
    }
  });

  test('the output folder is a model folder with tokenizer, training state, checkpoints and artifacts', async () => {
    for (const f of ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json', 'vocab.txt', 'metrics.jsonl',
      'training_state/optimizer.safetensors', 'training_state/trainer.json', 'checkpoints/index.json',
      'artifacts/train_step.onnx', 'artifacts/eval.onnx', 'artifacts/model.onnx', 'artifacts/artifacts.json']) {
      expect(existsSync(join(opts.out, f))).toBe(true);
    }
    const model = await loadModelFolder(opts.out);
    expect(model.config.hidden_size).toBe(32);
    const index = JSON.parse(readFileSync(join(opts.out, 'checkpoints/index.json'), 'utf8'));
    expect(index.latest).toBe('step-000040');
    const evals = (await readMetrics(join(opts.out, 'metrics.jsonl'))).filter((r) => 'val_loss' in r);
    const best = evals.reduce((a, b) => ((b.val_loss as number) < (a.val_loss as number) ? b : a));
    expect(index.best).toBe(`step-${String(best.step).padStart(6, '0')}`);
    expect(index.bestScore).toBe(best.val_loss); // pretrain selects by validation loss
    const state = JSON.parse(readFileSync(join(opts.out, 'training_state/trainer.json'), 'utf8'));
    expect(state.step).toBe(40);
  });
});

describe('--profile', () => {
  const dir = tmp();
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('every step row has its phases; they add up to no more than the step and the worker ran the session', async () => {
    const opts = options(dir, { steps: 6, evalEvery: 3, saveEvery: 3, profile: true });
    await pretrain(opts);
    const steps = (await readMetrics(join(opts.out, 'metrics.jsonl'))).filter((r) => 'loss' in r);
    expect(steps).toHaveLength(6);
    for (const r of steps) {
      const p = (k: string) => r[`profile_${k}_ms`] as number;
      for (const k of ['step', 'draw', 'wait', 'worker_feed', 'worker_session', 'worker_outputs']) expect(p(k)).toBeGreaterThanOrEqual(0);
      expect(p('worker_session')).toBeGreaterThan(0);
      expect(p('draw') + p('wait')).toBeLessThanOrEqual(p('step') + 0.02);
      // the worker's part of this step (evaluation and checkpoint runs are not counted in it)
      expect(p('worker_feed') + p('worker_session') + p('worker_outputs')).toBeLessThanOrEqual(p('step') + 0.05);
    }
    const plain = tmp();
    try {
      const o2 = options(plain, { steps: 2 });
      await pretrain(o2);
      const rows = (await readMetrics(join(o2.out, 'metrics.jsonl'))).filter((r) => 'loss' in r);
      expect(Object.keys(rows[0]).some((k) => k.startsWith('profile_'))).toBe(false);
    } finally {
      rmSync(plain, { recursive: true, force: true });
    }
  });
});
