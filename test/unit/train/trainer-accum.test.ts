/**
 * --grad-accum k with micro-batches of B equals --batch-size k·B: the same blocks, masking and dropout masks (the
 * source draws k·B rows and cuts them), gradients of the summed loss divided once by the total count, then one
 * clipped AdamW update. Checked with dropout on:
 *   - after step 1, AdamW's first moment m = (1 − β1)·clip·g is the gradient itself, scaled: equal up to float32
 *     summation error, relative to each tensor's size;
 *   - losses, gradient norms and validation losses of 3 steps agree to 1e-5;
 *   - the weights after 3 steps agree far below one learning-rate step (Adam divides by √v, so a gradient that is
 *     ~0 up to cancellation can turn float noise into a visible, but tiny, difference).
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { readSafetensors } from '../../../src/model/safetensors.js';
import { readMetrics } from '../../../src/train/metrics.js';
import { pretrain } from '../../../src/train/pretrain.js';
import { options, tmp } from './trainer-helpers.js';

const tensors = async (path: string) => (await readSafetensors(path)).tensors;

/** The largest |difference| between two runs' final weights. */
async function maxWeightDiff(a: string, b: string): Promise<number> {
  const [wa, wb] = [await tensors(join(a, 'model.safetensors')), await tensors(join(b, 'model.safetensors'))];
  let maxDiff = 0;
  for (const [name, { data }] of wa) {
    const other = wb.get(name)!.data;
    for (let i = 0; i < data.length; i++) maxDiff = Math.max(maxDiff, Math.abs(data[i] - other[i]));
  }
  return maxDiff;
}

test('grad-accum 2 × batch 4 = batch 8', async () => {
  const dir = tmp();
  try {
    const base = { steps: 3, evalEvery: 3, saveEvery: 1, dropout: 0.1, lr: 1e-2, warmup: 0 };
    const big = options(dir, { ...base, out: join(dir, 'b8'), batchSize: 8 });
    const acc = options(dir, { ...base, out: join(dir, 'b4x2'), batchSize: 4, gradAccum: 2 });
    await pretrain(big);
    await pretrain(acc);

    // Step 1: the gradients, through m.
    const [ma, mb] = [await tensors(join(big.out, 'checkpoints/step-000001/optimizer.safetensors')), await tensors(join(acc.out, 'checkpoints/step-000001/optimizer.safetensors'))];
    for (const [name, { data }] of ma) {
      if (!name.startsWith('adam_m.')) continue;
      const other = mb.get(name)!.data;
      let scale = 0;
      let diff = 0;
      for (let i = 0; i < data.length; i++) {
        scale = Math.max(scale, Math.abs(data[i]));
        diff = Math.max(diff, Math.abs(data[i] - other[i]));
      }
      if (name.endsWith('attention.self.key.bias')) continue; // zero in theory (softmax is shift-invariant): noise only
      expect(scale).toBeGreaterThan(0);
      expect(diff / scale).toBeLessThan(1e-4);
    }

    // Metrics of all steps.
    const [ra, rb] = await Promise.all([readMetrics(join(big.out, 'metrics.jsonl')), readMetrics(join(acc.out, 'metrics.jsonl'))]);
    expect(rb.map((r) => r.step)).toEqual(ra.map((r) => r.step));
    ra.forEach((row, i) => {
      for (const key of ['loss', 'grad_norm', 'val_loss']) {
        if (key in row) expect(Math.abs((rb[i][key] as number) - (row[key] as number))).toBeLessThan(1e-5 * Math.abs(row[key] as number));
      }
    });

    // Final weights.
    expect(await maxWeightDiff(big.out, acc.out)).toBeLessThan(0.02 * base.lr);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// Data parallelism: two workers each computing one micro-batch's gradients give the bytes of one worker accumulating
// both (g0 + g1, added in the same order), and 3 micro-batches on 2 workers stay within float rounding of 1 worker.
test('--workers 2 = --workers 1, with dropout on', async () => {
  const dir = tmp();
  try {
    const base = { steps: 3, evalEvery: 3, saveEvery: 3, dropout: 0.1, lr: 1e-2, warmup: 0, batchSize: 4 };
    const runs = {
      one: options(dir, { ...base, out: join(dir, 'w1'), gradAccum: 2 }),
      two: options(dir, { ...base, out: join(dir, 'w2'), gradAccum: 2, workers: 2 }),
      oneOf3: options(dir, { ...base, out: join(dir, 'w1k3'), gradAccum: 3 }),
      twoOf3: options(dir, { ...base, out: join(dir, 'w2k3'), gradAccum: 3, workers: 2 }),
    };
    for (const o of Object.values(runs)) await pretrain(o);
    const bytes = (o: { out: string }) => readFileSync(join(o.out, 'model.safetensors'));
    expect(bytes(runs.two).equals(bytes(runs.one))).toBe(true);
    const [ra, rb] = await Promise.all([readMetrics(join(runs.one.out, 'metrics.jsonl')), readMetrics(join(runs.two.out, 'metrics.jsonl'))]);
    expect(rb.map((r) => [r.loss, r.grad_norm, r.val_loss])).toEqual(ra.map((r) => [r.loss, r.grad_norm, r.val_loss]));

    expect(await maxWeightDiff(runs.oneOf3.out, runs.twoOf3.out)).toBeLessThan(0.02 * base.lr);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--workers more than the micro-batches of a step: one line', async () => {
  const dir = tmp();
  try {
    await expect(pretrain(options(dir, { steps: 1, out: join(dir, 'x'), gradAccum: 2, workers: 3 }))).rejects.toThrow(
      '--workers 3 needs at least 3 micro-batches per step: set --grad-accum 3 (or more) and halve --batch-size to keep the batch',
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
