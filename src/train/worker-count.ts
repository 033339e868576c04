/**
 * The one rule on `--workers`: each worker computes whole micro-batches, so a step needs at least as many
 * micro-batches as workers. Checked at the CLI boundary (usage error) and by the Trainer (library callers).
 */
export function workerCountProblem(workers: number, gradAccum: number): string | undefined {
  if (!Number.isInteger(workers) || workers < 1) return `--workers must be a positive whole number, got ${workers}`;
  if (workers > gradAccum) {
    return `--workers ${workers} needs at least ${workers} micro-batches per step: set --grad-accum ${workers} (or more) and halve --batch-size to keep the batch`;
  }
  return undefined;
}
