import { readCsv } from './csv.js';
import { UserError } from '../util/errors.js';
import { progress } from '../util/progress.js';

/**
 * Group-fairness metrics of a labelled CSV, with the definitions of IBM's AIF360 (Trusted-AI/AIF360):
 *
 * - dataset metrics (aif360/metrics/binary_label_dataset_metric.py, on the true label):
 *     base_rate(g)                  = P(Y = favorable | D = g) = favorable_g / n_g
 *     disparate_impact              = base_rate(unprivileged) / base_rate(privileged)
 *     statistical_parity_difference = base_rate(unprivileged) − base_rate(privileged)
 * - classification metrics (aif360/metrics/classification_metric.py, label vs prediction):
 *     TPR = TP / P, FPR = FP / N, ACC = (TP + TN) / (P + N)       (performance_measures)
 *     equal_opportunity_difference  = TPR_unpriv − TPR_priv     (alias of true_positive_rate_difference)
 *     average_odds_difference       = ½[(FPR_unpriv − FPR_priv) + (TPR_unpriv − TPR_priv)]
 *
 * Groups: privileged = rows whose protected value equals --privileged (after trimming); unprivileged = every other
 * row. "Favorable" is one value of the label column (and of the prediction column). Where AIF360 would return
 * NaN or ±inf (a division by zero), the value here is null and a warning says which metric and why.
 */

export interface BiasOptions {
  protected: string;
  label: string;
  privileged: string;
  favorable: string;
  /** Column of model predictions (same value space as the label); adds the classification metrics. */
  prediction?: string;
}

/** Raw counts of one group: rows, favorable labels and, with predictions, the confusion matrix. */
export interface GroupCounts {
  count: number;
  favorable: number;
  predictedFavorable: number;
  tp: number;
  fp: number;
  tn: number;
  fn: number;
}

export interface BiasCounts {
  rows: number;
  privileged: GroupCounts;
  unprivileged: GroupCounts;
  /** Per distinct protected value, in order of first appearance (at most MAX_VALUES of them). */
  byValue: Map<string, GroupCounts>;
  /** More distinct protected values than MAX_VALUES: the extra ones are only in the two aggregates. */
  byValueTruncated: boolean;
}

/** Distinct protected values listed one by one; memory stays bounded on a free-text column. */
export const MAX_VALUES = 1000;

export function emptyCounts(): GroupCounts {
  return { count: 0, favorable: 0, predictedFavorable: 0, tp: 0, fp: 0, tn: 0, fn: 0 };
}

/** Adds one row; `predicted` is undefined without a prediction column. */
export function addRow(g: GroupCounts, favorable: boolean, predicted?: boolean): void {
  g.count++;
  if (favorable) g.favorable++;
  if (predicted === undefined) return;
  if (predicted) g.predictedFavorable++;
  if (favorable && predicted) g.tp++;
  else if (!favorable && predicted) g.fp++;
  else if (!favorable && !predicted) g.tn++;
  else g.fn++;
}

/** One streaming pass over the CSV, counting per group. */
export function emptyBiasCounts(): BiasCounts {
  return { rows: 0, privileged: emptyCounts(), unprivileged: emptyCounts(), byValue: new Map(), byValueTruncated: false };
}

/** Counts one row: its group (privileged or not), its protected value (the first MAX_VALUES values), label and prediction. */
export function countRow(counts: BiasCounts, value: string, privileged: boolean, favorable: boolean, predicted?: boolean): void {
  counts.rows++;
  addRow(privileged ? counts.privileged : counts.unprivileged, favorable, predicted);
  let g = counts.byValue.get(value);
  if (!g && counts.byValue.size < MAX_VALUES) counts.byValue.set(value, (g = emptyCounts()));
  else if (!g) counts.byValueTruncated = true;
  if (g) addRow(g, favorable, predicted);
}

export async function countBias(input: string, opts: BiasOptions): Promise<BiasCounts> {
  const columns = [opts.protected, opts.label, ...(opts.prediction === undefined ? [] : [opts.prediction])];
  const reader = await readCsv(input, { requireColumns: columns });
  const privileged = opts.privileged.trim();
  const favorable = opts.favorable.trim();
  const counts = emptyBiasCounts();
  const bar = progress('bias-report', 0, 'rows');
  for await (const { record } of reader.rows) {
    const value = record[opts.protected].trim();
    const fav = record[opts.label].trim() === favorable;
    const pred = opts.prediction === undefined ? undefined : record[opts.prediction].trim() === favorable;
    countRow(counts, value, value === privileged, fav, pred);
    if (counts.rows % 10_000 === 0) bar.update(counts.rows);
  }
  bar.stop();
  if (counts.privileged.count === 0) {
    const seen = [...counts.byValue].sort((a, b) => b[1].count - a[1].count).map(([v]) => JSON.stringify(v));
    const more = seen.length > 10 ? ` and ${seen.length - 10} more` : '';
    const near = [...counts.byValue.keys()].find((v) => v.toLowerCase() === privileged.toLowerCase());
    const hint = near === undefined ? '' : ` (values are case-sensitive: did you mean ${JSON.stringify(near)}?)`;
    throw new UserError(`${input}: column "${opts.protected}" has no value ${JSON.stringify(privileged)} (--privileged); ` +
      `values present: ${seen.slice(0, 10).join(', ')}${more}${hint}`);
  }
  return counts;
}

/** Per-group numbers as they appear in the JSON report (snake_case, unrounded, null where undefined). */
export interface GroupStats {
  count: number;
  favorable: number;
  base_rate: number | null;
  predicted_favorable?: number;
  /** P(Ŷ = favorable | group): AIF360's selection_rate. */
  selection_rate?: number | null;
  tp?: number;
  fp?: number;
  tn?: number;
  fn?: number;
  tpr?: number | null;
  fpr?: number | null;
  accuracy?: number | null;
}

export interface BiasMetrics {
  disparate_impact: number | null;
  statistical_parity_difference: number | null;
  equal_opportunity_difference?: number | null;
  average_odds_difference?: number | null;
  groups: { privileged: GroupStats; unprivileged: GroupStats; by_value: Record<string, GroupStats> };
  warnings: string[];
}

function div(a: number, b: number): number | null {
  return b === 0 ? null : a / b;
}

export function groupStats(g: GroupCounts, withPrediction: boolean): GroupStats {
  const s: GroupStats = { count: g.count, favorable: g.favorable, base_rate: div(g.favorable, g.count) };
  if (!withPrediction) return s;
  const positives = g.tp + g.fn; // label favorable
  const negatives = g.fp + g.tn; // label unfavorable
  return {
    ...s,
    predicted_favorable: g.predictedFavorable,
    selection_rate: div(g.predictedFavorable, g.count),
    tp: g.tp, fp: g.fp, tn: g.tn, fn: g.fn,
    tpr: div(g.tp, positives),
    fpr: div(g.fp, negatives),
    accuracy: div(g.tp + g.tn, positives + negatives),
  };
}

/** Metrics from counts (pure): the numbers of the report plus a warning for every null. */
export function biasMetrics(counts: BiasCounts, withPrediction: boolean): BiasMetrics {
  const warnings: string[] = [];
  const priv = groupStats(counts.privileged, withPrediction);
  const unpriv = groupStats(counts.unprivileged, withPrediction);
  // fromEntries defines own properties, so a protected value such as "__proto__" is just a key
  const byValue: Record<string, GroupStats> = Object.fromEntries(
    [...counts.byValue].map(([v, g]) => [v, groupStats(g, withPrediction)]),
  );

  if (priv.favorable + unpriv.favorable === 0) warnings.push('no row has the favorable label value (check --favorable)');
  if (unpriv.base_rate === null) warnings.push('groups.unprivileged.base_rate is null: the unprivileged group is empty (every row has the privileged value)');
  let di: number | null = null;
  if (unpriv.base_rate === null) warnings.push('disparate_impact is null: the unprivileged group is empty');
  else if (priv.base_rate === 0) warnings.push('disparate_impact is null: the privileged group has no favorable labels (base rate 0, division by zero)');
  else di = unpriv.base_rate / priv.base_rate!;
  if (di === 0) warnings.push('disparate_impact is 0: the unprivileged group has no favorable labels');
  const spd = unpriv.base_rate === null ? null : unpriv.base_rate - priv.base_rate!;
  if (spd === null) warnings.push('statistical_parity_difference is null: the unprivileged group is empty');
  if (counts.byValueTruncated) warnings.push(`groups.by_value lists only the first ${MAX_VALUES} distinct protected values; the aggregates count every row`);

  const metrics: BiasMetrics = {
    disparate_impact: di,
    statistical_parity_difference: spd,
    groups: { privileged: priv, unprivileged: unpriv, by_value: byValue },
    warnings,
  };
  if (!withPrediction) return metrics;

  for (const [name, s] of [['privileged', priv], ['unprivileged', unpriv]] as const) {
    if (s.count === 0) continue; // already reported as an empty group
    if (s.tpr === null) warnings.push(`groups.${name}.tpr is null: the ${name} group has no rows with a favorable label (TPR = TP/P, P = 0)`);
    if (s.fpr === null) warnings.push(`groups.${name}.fpr is null: the ${name} group has no rows with an unfavorable label (FPR = FP/N, N = 0)`);
  }
  const tprDiff = unpriv.tpr == null || priv.tpr == null ? null : unpriv.tpr - priv.tpr;
  const fprDiff = unpriv.fpr == null || priv.fpr == null ? null : unpriv.fpr - priv.fpr;
  if (tprDiff === null) warnings.push('equal_opportunity_difference is null: TPR is undefined for a group');
  if (tprDiff === null || fprDiff === null) warnings.push('average_odds_difference is null: TPR or FPR is undefined for a group');
  for (const rate of ['tpr', 'fpr'] as const) {
    const missing = Object.entries(byValue).filter(([, s]) => s[rate] === null).map(([v]) => JSON.stringify(v));
    if (missing.length > 0) {
      const why = rate === 'tpr' ? 'no rows with a favorable label' : 'no rows with an unfavorable label';
      warnings.push(`groups.by_value.*.${rate} is null for ${missing.length} value(s) with ${why}: ${missing.slice(0, 10).join(', ')}${missing.length > 10 ? ', …' : ''}`);
    }
  }
  return {
    ...metrics,
    equal_opportunity_difference: tprDiff,
    average_odds_difference: tprDiff === null || fprDiff === null ? null : 0.5 * (fprDiff + tprDiff),
  };
}

/** The JSON report of `bias-report`: the settings, then the metrics. */
export interface BiasReport extends BiasMetrics {
  input: string;
  rows: number;
  protected: string;
  label: string;
  prediction: string | null;
  privileged: string;
  favorable: string;
}

/** Streams the CSV once and computes the report. */
export async function biasReport(input: string, opts: BiasOptions): Promise<{ report: BiasReport; counts: BiasCounts }> {
  const counts = await countBias(input, opts);
  const m = biasMetrics(counts, opts.prediction !== undefined);
  const report: BiasReport = {
    input,
    rows: counts.rows,
    protected: opts.protected,
    label: opts.label,
    prediction: opts.prediction ?? null,
    privileged: opts.privileged.trim(),
    favorable: opts.favorable.trim(),
    disparate_impact: m.disparate_impact,
    statistical_parity_difference: m.statistical_parity_difference,
    ...(m.equal_opportunity_difference !== undefined ? {
      equal_opportunity_difference: m.equal_opportunity_difference,
      average_odds_difference: m.average_odds_difference,
    } : {}),
    groups: m.groups,
    warnings: m.warnings,
  };
  return { report, counts };
}
