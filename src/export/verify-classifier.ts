/**
 * The export check of a classifier folder (export.ts runs it before publishing): on the validation sentences,
 * onnx/model.onnx must reproduce the training side's inference graph (opset 20, weights from the model folder) to
 * max |Δlogit| ≤ 1e-4, and onnx/model_quantized.onnx is compared with fp32 on the predicted label (agreement), one
 * sentence per run (its activation scales are per tensor, so batch mates would change its numbers).
 */
import { argmax } from '../eval/classification-metrics.js';
import { headFor } from '../model/architecture.js';
import type { BertConfig } from '../model/config.js';
import { compileStep } from '../model/step-compiler.js';
import { createSession } from '../runtime/session.js';
import { UserError } from '../util/errors.js';
import { batchFeeds, FP32_TOLERANCE, makeBatches, maxAbsDiff } from './verify.js';

export interface ClassifierVerification {
  sentences: number;
  tokens: number;
  /** max |Δlogit| between onnx/model.onnx and the training-side inference graph. */
  fp32MaxAbsDiff: number;
  int8?: {
    /** Share of sentences where int8 and fp32 predict the same label. */
    labelAgreement: number;
    /** max |Δlogit| int8 vs fp32 (for scale). */
    maxAbsDiff: number;
  };
}

export interface VerifyClassifierOptions {
  config: BertConfig;
  params: ReadonlyMap<string, Float32Array>;
  fp32Path: string;
  int8Path?: string;
  /** Token id rows ([CLS] … [SEP]) of the validation sentences. */
  rows: number[][];
  threads?: number;
  onProgress?: (done: number, total: number) => void;
}

export async function verifyClassifierExport(o: VerifyClassifierOptions): Promise<ClassifierVerification> {
  const graph = compileStep({ kind: 'inference', config: o.config, head: headFor(o.config), weights: o.params, outputs: ['logits'] });
  const reference = await createSession(graph.bytes, { threads: o.threads });
  const fp32 = await createSession(o.fp32Path, { threads: o.threads });
  const int8 = o.int8Path ? await createSession(o.int8Path, { threads: o.threads }) : undefined;
  const C = graph.io.outputs[0].shape[1] as number;
  let [maxFp32, maxInt8, agree, tokens, done] = [0, 0, 0, 0, 0];
  try {
    for (const batch of makeBatches(o.rows.map((r) => r.length), C, 16)) {
      const rows = batch.map((i) => o.rows[i]);
      const { feeds } = batchFeeds(rows);
      const want = (await reference.run(feeds)).logits.data as Float32Array;
      const got = (await fp32.run(feeds)).logits.data as Float32Array;
      maxFp32 = maxAbsDiff(want, got, maxFp32);
      tokens += rows.reduce((n, r) => n + r.length, 0);
      done += rows.length;
      o.onProgress?.(done, o.rows.length);
      if (!int8) continue;
      for (const [b, i] of batch.entries()) {
        const q = (await int8.run(batchFeeds([o.rows[i]]).feeds)).logits.data as Float32Array;
        const f = got.subarray(b * C, (b + 1) * C);
        if (argmax(f) === argmax(q)) agree++;
        maxInt8 = maxAbsDiff(f, q, maxInt8);
      }
    }
  } finally {
    await reference.release();
    await fp32.release();
    await int8?.release();
  }
  if (!(maxFp32 <= FP32_TOLERANCE)) {
    throw new UserError(`export check failed: onnx/model.onnx differs from the training graph by max |Δlogit| = ${maxFp32.toExponential(3)} > ${FP32_TOLERANCE}`);
  }
  const result: ClassifierVerification = { sentences: o.rows.length, tokens, fp32MaxAbsDiff: maxFp32 };
  if (int8) result.int8 = { labelAgreement: agree / o.rows.length, maxAbsDiff: maxInt8 };
  return result;
}
