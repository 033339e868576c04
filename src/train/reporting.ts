/**
 * How a training run shows itself: a progress bar (rate, ETA) on a TTY, pino lines otherwise (every ~5% of the run),
 * and every evaluation, resume, early stop and warning logged. Each command says how a step and an evaluation read.
 */
import { log } from '../util/log.js';
import { progress } from '../util/progress.js';
import type { EvalRow } from './metrics.js';
import type { StepRow, Trainer } from './trainer.js';

export interface ReportFormat {
  /** Extra fields of the progress bar for a step. */
  bar: (r: StepRow) => Record<string, string | number>;
  /** The log line of a step (off a TTY) and of an evaluation. */
  step: (r: StepRow) => string;
  eval: (r: EvalRow) => string;
}

export function attachReporting(trainer: Trainer, steps: number, label: string, f: ReportFormat): void {
  const bar = progress(label, steps, 'steps');
  const tty = process.stderr.isTTY && !process.env.CI;
  const every = Math.max(1, Math.round(steps / 20));
  trainer.on('warning', (message: string) => log().warn(message));
  trainer.on('resume', ({ step, dir }: { step: number; dir: string }) => log().info({ step, dir }, `resuming from ${dir} (step ${step})`));
  trainer.on('step', (r: StepRow) => {
    bar.update(r.step, f.bar(r));
    if (!tty && (r.step % every === 0 || r.step === steps)) log().info(`step ${r.step}/${steps} ${f.step(r)}`);
  });
  trainer.on('eval', (r: EvalRow) => log().info(r, `eval step ${r.step}: ${f.eval(r)}`));
  trainer.on('early-stop', ({ step, evals }: { step: number; evals: number }) => log().info(`early stop at step ${step}: ${evals} evaluations without a better score`));
  trainer.on('checkpoint', (c: { name: string }) => log().debug(`checkpoint ${c.name} saved`));
  trainer.once('end', () => bar.stop());
}
