/**
 * The batch source of distillation: pretraining's masked-LM batches (mlm-batches.ts: same data order, masking and
 * dropout draws, same state in checkpoints), each micro-batch with the teacher's logits at its masked positions
 * added as the `teacher_logits` feed [num_masked, V] of the distillation train graph.
 *
 * The teacher sees exactly the student's corrupted input ([MASK]/random/unchanged tokens), without dropout, as in
 * DistilBERT's distiller (`t_logits = self.teacher(input_ids=…, attention_mask=…)` under no_grad). It runs on the
 * main thread after the worker's step (afterStep; the masking runs during the step): overlapped, the teacher's
 * session and the student's shared the cores and both ran slower than in turn. Its logits are a pure function of the batch, so a resumed run
 * recomputes the same ones.
 */
import { f32, type WireFeeds } from '../runtime/wire.js';
import type { MlmBatchSource } from '../train/mlm-batches.js';
import type { BatchSource } from '../train/trainer.js';
import type { MaskedLogits } from './teacher.js';

export const TEACHER_LOGITS = 'teacher_logits';

export class DistillBatchSource implements BatchSource {
  constructor(
    readonly inner: MlmBatchSource,
    readonly teacher: MaskedLogits,
    readonly vocabSize: number,
  ) {}

  get tokensPerMicroBatch(): number {
    return this.inner.tokensPerMicroBatch;
  }

  /** The masked batches, drawn during the student's step. */
  next(k: number): WireFeeds[] {
    return this.inner.next(k);
  }

  /** The teacher's logits, once the student's step is done. */
  async afterStep(batches: WireFeeds[]): Promise<WireFeeds[]> {
    for (const feeds of batches) {
      const rows = feeds.masked_positions.dims[0];
      feeds[TEACHER_LOGITS] = f32(await this.teacher.run(feeds), [rows, this.vocabSize]);
    }
    return batches;
  }

  state(): unknown {
    return this.inner.state();
  }
}
