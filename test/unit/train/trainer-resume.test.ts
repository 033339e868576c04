/**
 * Resuming: a run stopped after k steps and resumed to N ends with the same model.safetensors bytes, optimizer
 * state and metrics (timing fields aside) as an uninterrupted run of N steps — data order, masking and dropout
 * RNG states, moments and step all restored. Plus the refusals: nothing to resume, a run folder that already has
 * checkpoints, changed settings. (A real kill -9 mid-run is in test/e2e/pretrain.test.ts.)
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { readMetrics, TIMING_FIELDS } from '../../../src/train/metrics.js';
import { pretrain } from '../../../src/train/pretrain.js';
import { UserError } from '../../../src/util/errors.js';
import { options, tmp } from './trainer-helpers.js';

const withoutTiming = (rows: Record<string, unknown>[]) =>
  rows.map((r) => Object.fromEntries(Object.entries(r).filter(([k]) => !TIMING_FIELDS.includes(k))));

describe('resume', () => {
  const dir = tmp();
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('stop after 6 of 12 steps, resume: byte-identical weights, optimizer state and metrics', async () => {
    // Dropout on (0.1) so the dropout RNG state matters too; checkpoints every 4 steps and at the stop.
    const base = { steps: 12, evalEvery: 4, saveEvery: 4, dropout: 0.1 };
    const whole = options(dir, { ...base, out: join(dir, 'whole') });
    const parts = options(dir, { ...base, out: join(dir, 'parts') });
    await pretrain(whole);
    const stopped = await pretrain({ ...parts, stopAfter: 6 });
    expect(stopped.steps).toBe(6);
    const resumed = await pretrain({ ...parts, resume: true });
    expect(resumed.resumedFrom).toBe(6);
    expect(resumed.steps).toBe(12);

    const bytes = (run: string, f: string) => readFileSync(join(dir, run, f));
    expect(bytes('parts', 'model.safetensors').equals(bytes('whole', 'model.safetensors'))).toBe(true);
    expect(bytes('parts', 'training_state/optimizer.safetensors').equals(bytes('whole', 'training_state/optimizer.safetensors'))).toBe(true);
    const [a, b] = await Promise.all([readMetrics(join(dir, 'whole/metrics.jsonl')), readMetrics(join(dir, 'parts/metrics.jsonl'))]);
    expect(withoutTiming(b)).toEqual(withoutTiming(a));
    expect(resumed.val_loss).toBe(a.filter((r) => 'val_loss' in r).pop()!.val_loss);
  });

  test('--resume without a checkpoint is a one-line error', async () => {
    await expect(pretrain(options(dir, { out: join(dir, 'empty'), resume: true }))).rejects.toThrow(/nothing to resume \(no checkpoint in/);
  });

  test('a folder with checkpoints is not overwritten without --resume', async () => {
    await expect(pretrain(options(dir, { out: join(dir, 'whole') }))).rejects.toThrow(/already has checkpoints .*resume that run/);
  });

  test('changed settings are refused on resume', async () => {
    const err = await pretrain(options(dir, { out: join(dir, 'whole'), resume: true, lr: 1e-3, steps: 14 })).catch((e) => e);
    expect(err).toBeInstanceOf(UserError);
    expect(err.message).toMatch(/step-000012: lr is 0.001 now but 0.005 in the checkpoint/);
  });
});
