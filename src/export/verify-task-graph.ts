/**
 * Checks an export's fill-mask task graph (onnx/fill_mask*.onnx: the vocabulary projection only at the `[MASK]`
 * rows, fed `masked_positions`) against the full graph it sits beside, one sentence per run:
 *
 * - fp32: its rows must equal the full graph's logits at the same positions within FP32_TOLERANCE.
 * - int8: top-1 agreement with the full int8 graph. Not bit-equal: the head's dynamic activation scale is taken
 *   over the masked rows instead of every position.
 */
import ort from 'onnxruntime-node';
import { createSession } from '../runtime/session.js';
import { argmax } from '../eval/classification-metrics.js';
import { UserError } from '../util/errors.js';
import { batchFeeds, FP32_TOLERANCE, maxAbsDiff, type MaskedSample } from './verify.js';

export interface TaskGraphVerification {
  sentences: number;
  maskedTokens: number;
  /** fp32: max |Δlogit| against onnx/model.onnx at the masked positions. */
  fp32MaxAbsDiff: number;
  /** int8: share of masked positions where it and onnx/model_quantized.onnx pick the same top-1 token. */
  int8Top1Agreement?: number;
}

export interface TaskGraphCheck {
  full: string;
  task: string;
}

export async function verifyFillMaskGraphs(fp32: TaskGraphCheck, int8: TaskGraphCheck | undefined, sample: MaskedSample, vocab: number,
  threads?: number): Promise<TaskGraphVerification> {
  const open = async (c: TaskGraphCheck) => [await createSession(c.full, { threads }), await createSession(c.task, { threads })] as const;
  const sessions = [await open(fp32), ...(int8 ? [await open(int8)] : [])];
  let fp32Max = 0;
  let masked = 0;
  let agree = 0;
  try {
    for (let i = 0; i < sample.ids.length; i++) {
      const { feeds } = batchFeeds([sample.ids[i]]);
      const positions = sample.masked[i];
      const taskFeeds = { ...feeds, masked_positions: new ort.Tensor('int64', BigInt64Array.from(positions, BigInt), [positions.length]) };
      for (const [k, [full, task]] of sessions.entries()) {
        const all = (await full.run(feeds)).logits.data as Float32Array;
        const rows = (await task.run(taskFeeds)).masked_logits.data as Float32Array;
        positions.forEach((t, j) => {
          const want = all.subarray(t * vocab, (t + 1) * vocab);
          const got = rows.subarray(j * vocab, (j + 1) * vocab);
          if (k === 0) fp32Max = maxAbsDiff(want, got, fp32Max);
          else agree += argmax(want) === argmax(got) ? 1 : 0;
        });
      }
      masked += positions.length;
    }
  } finally {
    for (const pair of sessions) for (const s of pair) await s.release();
  }
  if (!(fp32Max <= FP32_TOLERANCE)) {
    throw new UserError(`export check failed: ${fp32.task} differs from ${fp32.full} at the masked positions by ${fp32Max} (> ${FP32_TOLERANCE})`);
  }
  return { sentences: sample.ids.length, maskedTokens: masked, fp32MaxAbsDiff: fp32Max, ...(int8 ? { int8Top1Agreement: agree / Math.max(masked, 1) } : {}) };
}
