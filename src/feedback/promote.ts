/**
 * The promotion gate of the improvement loop (`compactlm feedback promote`): a candidate classifier (fine-tuned
 * on train + feedback) replaces the current one only if `compactlm eval` on the fixed test set does not regress.
 *
 *   candidate metric ≥ current metric − tolerance   →  promoted: `into` := a copy of the candidate
 *   otherwise                                       →  refused:  `into` := the current model (unchanged if it is it)
 *
 * Both models are scored by eval's own code (classification-report.ts, same test file, columns and seed), so the
 * numbers are the ones `compactlm eval --json` prints. `into` may be the current model's folder (a deployment
 * slot updated in place) or another folder (a pipeline output that always holds the model to ship). The copy is
 * built in a temporary sibling and renamed into place (util/atomic.ts commitFolder): a reader of `into` sees the
 * old model or the new one, never a mixture. Checkpoints and optimizer state are not copied. A refusal is a
 * normal outcome, reported like a promotion.
 */
import { existsSync, promises as fsp, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { evaluateClassification, type ClassificationReport } from '../eval/classification-report.js';
import { loadTextClassifier } from '../infer/classifier.js';
import { commitFolder, tempSibling } from '../util/atomic.js';
import { UserError } from '../util/errors.js';

export const GATE_METRICS = ['accuracy', 'macro_f1'] as const;
export type GateMetric = (typeof GATE_METRICS)[number];

/** Parts of a training run folder that are not the model (finetune's run state). */
const NOT_MODEL = new Set(['checkpoints', 'training_state', 'artifacts']);

export interface PromoteOptions {
  candidate: string;
  current: string;
  test: string;
  into: string;
  /** `into` is the current model's folder (the CLI checks, through links): a refusal then leaves it as it is. */
  intoIsCurrent: boolean;
  metric: GateMetric;
  /** How much worse than the current model the candidate may score and still pass (0: no regression at all). */
  tolerance: number;
  textColumn: string;
  labelColumn: string;
  maxLength: number;
  batchSize: number;
  seed: number;
}

export interface ModelScore {
  model: string;
  accuracy: number;
  accuracy_ci95: [number, number];
  macro_f1: number;
}

export interface PromoteReport {
  decision: 'promoted' | 'refused';
  metric: GateMetric;
  tolerance: number;
  test: string;
  n: number;
  candidate: ModelScore;
  current: ModelScore;
  /** candidate − current on the metric. */
  delta: number;
  into: string;
  /** What `into` holds now. */
  into_holds: 'candidate' | 'current';
  seed: number;
  reason: string;
}

function score(r: ClassificationReport, model: string): ModelScore {
  return { model, accuracy: r.accuracy, accuracy_ci95: r.accuracy_ci95, macro_f1: r.macro_f1 };
}

/** A model folder's files without the training run's state, copied into a temporary sibling of `into`, then renamed. */
async function copyModelInto(from: string, into: string): Promise<void> {
  const tmp = tempSibling(into);
  try {
    await fsp.cp(from, tmp, { recursive: true, filter: (src) => src === from || !NOT_MODEL.has(src.slice(from.length + 1).split('/')[0]) });
    await commitFolder(tmp, into);
  } catch (e) {
    await fsp.rm(tmp, { recursive: true, force: true });
    throw e;
  }
}

/** `into` may be replaced: missing, empty, or a model folder (it has a config.json). */
export function checkInto(into: string): void {
  const st = statSync(into, { throwIfNoEntry: false });
  if (!st) return;
  if (!st.isDirectory()) throw new UserError(`--into ${into}: is a file, not a model folder`, 2);
  if (readdirSync(into).length > 0 && !existsSync(join(into, 'config.json'))) {
    throw new UserError(`--into ${into}: exists and is not a model folder (no config.json): choose another folder`, 2);
  }
}

export async function promoteIfBetter(o: PromoteOptions): Promise<PromoteReport> {
  checkInto(o.into);
  const evalOptions = { test: o.test, textColumn: o.textColumn, labelColumn: o.labelColumn, maxLength: o.maxLength, batchSize: o.batchSize, int8: false, seed: o.seed };
  const cur = (await evaluateClassification({ ...evalOptions, model: o.current }, loadTextClassifier)).report;
  const cand = (await evaluateClassification({ ...evalOptions, model: o.candidate }, loadTextClassifier)).report;
  const current = score(cur, o.current);
  const candidate = score(cand, o.candidate);
  const delta = candidate[o.metric] - current[o.metric];
  const pass = candidate[o.metric] >= current[o.metric] - o.tolerance;
  const f = (x: number) => x.toFixed(4);
  const reason = pass
    ? `candidate ${o.metric} ${f(candidate[o.metric])} ≥ current ${f(current[o.metric])}${o.tolerance ? ` − ${o.tolerance}` : ''}: no regression`
    : `candidate ${o.metric} ${f(candidate[o.metric])} < current ${f(current[o.metric])}${o.tolerance ? ` − ${o.tolerance}` : ''}: it would regress`;
  if (pass) await copyModelInto(o.candidate, o.into);
  else if (!o.intoIsCurrent) await copyModelInto(o.current, o.into);
  return {
    decision: pass ? 'promoted' : 'refused', metric: o.metric, tolerance: o.tolerance, test: o.test, n: cand.n,
    candidate, current, delta, into: o.into, into_holds: pass ? 'candidate' : 'current', seed: o.seed, reason,
  };
}

/** The one line printed without --json. */
export function formatPromote(r: PromoteReport): string {
  const acc = (s: ModelScore) => `accuracy ${s.accuracy.toFixed(4)} (95% CI ${s.accuracy_ci95[0].toFixed(4)}–${s.accuracy_ci95[1].toFixed(4)}), macro F1 ${s.macro_f1.toFixed(4)}`;
  const what = r.decision === 'promoted' ? `promoted ${r.candidate.model} → ${r.into}` : `refused ${r.candidate.model}; ${r.into} holds the current model ${r.current.model}`;
  return `promote: ${what}: ${r.reason} on ${r.test} (${r.n} rows; candidate ${acc(r.candidate)}; current ${acc(r.current)})\n`;
}
