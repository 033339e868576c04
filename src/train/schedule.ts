/**
 * Learning-rate schedules with linear warmup, defined exactly as Hugging Face transformers' optimization.py:
 * get_linear_schedule_with_warmup, get_cosine_schedule_with_warmup (num_cycles 0.5) and
 * get_constant_schedule_with_warmup. With w warmup steps and N total steps, the multiplier of the peak lr is
 *
 *   s < w:     s / max(1, w)                                               (all three)
 *   linear:    max(0, (N − s) / max(1, N − w))
 *   cosine:    max(0, 0.5·(1 + cos(π · 2·0.5 · (s − w) / max(1, N − w))))
 *   constant:  1
 *
 * `s` counts the optimizer updates already applied, as HF's LambdaLR does (the scheduler steps after the
 * optimizer): the first update uses lr(0), which is 0 when there is warmup.
 *
 *   const sched = makeSchedule({ kind: 'linear', peakLr: 5e-4, warmup: 0.06, totalSteps: 10_000 });
 *   sched.warmupSteps  // 600 = ceil(0.06 · 10000), like HF TrainingArguments.get_warmup_steps
 *   sched.lr(step)
 */
import { UserError } from '../util/errors.js';

export type ScheduleKind = 'linear' | 'cosine' | 'constant';
export const SCHEDULE_KINDS: readonly ScheduleKind[] = ['linear', 'cosine', 'constant'];

export interface ScheduleOptions {
  kind: ScheduleKind;
  peakLr: number;
  /** A fraction of totalSteps when < 1 (e.g. 0.06 → ceil(0.06·N)), else a whole number of steps. */
  warmup: number;
  totalSteps: number;
}

export interface Schedule {
  warmupSteps: number;
  totalSteps: number;
  /** Learning rate for the update that follows `step` completed updates. */
  lr(step: number): number;
}

/** Warmup steps from a ratio (< 1) or a step count (≥ 1). */
export function warmupSteps(warmup: number, totalSteps: number): number {
  if (!(warmup >= 0) || !Number.isFinite(warmup)) throw new UserError(`warmup must be a fraction in [0, 1) or a whole number of steps, got ${warmup}`);
  if (warmup < 1) return Math.ceil(totalSteps * warmup);
  if (!Number.isInteger(warmup)) throw new UserError(`warmup ${warmup} is ≥ 1, so it counts steps and must be a whole number`);
  return warmup;
}

/** HF's lr_lambda: the factor applied to the peak learning rate. */
export function lrMultiplier(kind: ScheduleKind, step: number, warmup: number, total: number): number {
  if (step < warmup) return step / Math.max(1, warmup);
  const progress = (step - warmup) / Math.max(1, total - warmup);
  switch (kind) {
    case 'linear':
      return Math.max(0, (total - step) / Math.max(1, total - warmup));
    case 'cosine':
      return Math.max(0, 0.5 * (1 + Math.cos(Math.PI * 0.5 * 2 * progress)));
    case 'constant':
      return 1;
  }
}

export function makeSchedule(opts: ScheduleOptions): Schedule {
  const { kind, peakLr, totalSteps } = opts;
  if (!SCHEDULE_KINDS.includes(kind)) throw new UserError(`unknown schedule "${kind}" (choose ${SCHEDULE_KINDS.join(', ')})`);
  if (!Number.isInteger(totalSteps) || totalSteps < 1) throw new UserError(`total steps must be a positive integer, got ${totalSteps}`);
  if (!(peakLr > 0) || !Number.isFinite(peakLr)) throw new UserError(`learning rate must be positive, got ${peakLr}`);
  const w = warmupSteps(opts.warmup, totalSteps);
  if (w > totalSteps) throw new UserError(`warmup (${w} steps) is longer than training (${totalSteps} steps)`);
  return { warmupSteps: w, totalSteps, lr: (step) => peakLr * lrMultiplier(kind, step, w, totalSteps) };
}
