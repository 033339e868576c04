import type { Command } from 'commander';
import { biasReport, type BiasOptions, type BiasReport, type GroupStats } from '../data/bias.js';
import { biasHtml } from '../data/bias-html.js';
import { reweighingWeights, writeReweighted, type ReweighingWeights } from '../data/reweighing.js';
import { checkOutputFile } from '../data/csv.js';
import { writeFileAtomic } from '../util/atomic.js';
import { UserError } from '../util/errors.js';
import { log } from '../util/log.js';
import { addDeprecatedAlias, example, float, frozen, nonEmpty, preferAlias, refuseOverwritingInputs, usageError } from './options.js';

interface Flags {
  protected: string;
  label: string;
  privileged: string;
  favorable: string;
  prediction?: string;
  report?: string;
  html?: string;
  weights?: string;
  weightsOut?: string;
  failBelow?: number;
  json: boolean;
}

export interface BiasReportSettings extends BiasOptions {
  input: string;
  /** JSON report file, HTML report file, reweighted CSV. */
  report?: string;
  html?: string;
  weights?: string;
  failBelow?: number;
  json: boolean;
}

/** Exit status of a failed --fail-below gate (distinct from 1, bad input). */
export const FAIL_BELOW_EXIT = 3;

/** The checked, frozen settings `bias-report` runs with. */
export function biasReportSettings(input: string, o: Flags, command: Command): Readonly<BiasReportSettings> {
  const weights = preferAlias<string | undefined>(command, 'weights', 'weightsOut', '--weights', '--weights-out');
  const outputs: [string, string | undefined][] = [['--report', o.report], ['--html', o.html], ['--weights', weights]];
  const given = outputs.filter((x): x is [string, string] => x[1] !== undefined);
  for (let i = 0; i < given.length; i++) {
    for (let j = i + 1; j < given.length; j++) {
      if (given[i][1] === given[j][1]) throw usageError(`${given[i][0]} and ${given[j][0]} are the same file ${given[i][1]}: give each output its own file`);
    }
  }
  refuseOverwritingInputs(given.map(([what, path]) => ({ what, path })), [{ what: 'the input', path: input }]);
  return frozen({
    input,
    protected: o.protected, label: o.label, privileged: o.privileged, favorable: o.favorable,
    ...(o.prediction !== undefined ? { prediction: o.prediction } : {}),
    ...(o.report !== undefined ? { report: o.report } : {}),
    ...(o.html !== undefined ? { html: o.html } : {}),
    ...(weights !== undefined ? { weights } : {}),
    ...(o.failBelow !== undefined ? { failBelow: o.failBelow } : {}),
    json: o.json,
  });
}

export function registerBiasReport(program: Command): void {
  const cmd = program
    .command('bias-report')
    .description('Group-fairness metrics of a labelled CSV (AIF360 definitions): disparate impact, statistical parity ' +
      'difference and, with predictions, equal opportunity and average odds differences. A summary on stdout (--json: the report as JSON).')
    .argument('<input.csv>', 'CSV with a protected-attribute column and a label column')
    .requiredOption('--protected <col>', 'protected-attribute column (e.g. gender)', nonEmpty)
    .requiredOption('--label <col>', 'true label column', nonEmpty)
    .requiredOption('--privileged <value>', 'protected value of the privileged group (exact match after trimming); every other value is unprivileged')
    .requiredOption('--favorable <value>', 'label (and prediction) value that is the favorable outcome')
    .option('--prediction <col>', 'model prediction column: adds TPR/FPR/accuracy per group and the classification metrics', nonEmpty)
    .option('--report <file>', 'write the JSON report to this file', nonEmpty)
    .option('--html <file>', 'write a self-contained HTML report with tables and charts', nonEmpty)
    .option('--weights <csv>', 'write the input with a Kamiran–Calders reweighing "weight" column (weighted DI = 1)', nonEmpty)
    .option('--fail-below <di>', 'exit with status 3 if disparate impact is below this (0.8 = four-fifths rule) or undefined', float(0))
    .option('--json', 'print the report as JSON on stdout (instead of the readable summary)', false);
  addDeprecatedAlias(cmd, '--weights-out <csv>', nonEmpty)
    .action(async (input: string, flags: Flags, command: Command) => runBiasReport(biasReportSettings(input, flags, command)));
  example(cmd,
    'compactlm bias-report wages.csv --protected sex --privileged male --label high_wage --favorable 1 --report bias.json --html bias.html',
    'compactlm bias-report preds.csv --protected sex --privileged male --label y --prediction y_hat --favorable 1 --json --fail-below 0.8');
}

async function runBiasReport(s: Readonly<BiasReportSettings>): Promise<void> {
  for (const out of [s.report, s.html, s.weights]) if (out !== undefined) await checkOutputFile(out);
  const opts: BiasOptions = {
    protected: s.protected, label: s.label, privileged: s.privileged, favorable: s.favorable,
    ...(s.prediction !== undefined ? { prediction: s.prediction } : {}),
  };
  const { report, counts } = await biasReport(s.input, opts);
  // A gate that cannot be evaluated ends in one error line with the reason, instead of warnings saying it three ways.
  const undefinedGate = s.failBelow !== undefined && report.disparate_impact === null;

  // everything is computed before the first file is written, so a failure leaves no partial set of outputs
  let weights: ReweighingWeights | undefined;
  if (s.weights !== undefined) {
    const rw = reweighingWeights(counts);
    weights = rw.weights;
    report.warnings.push(...rw.warnings);
  }
  if (!undefinedGate) for (const w of report.warnings) log().warn(w);
  const html = s.html !== undefined ? await biasHtml(report, { weights }) : undefined;

  let output: object = report;
  if (s.weights !== undefined && weights) {
    const summary = await writeReweighted(s.input, s.weights, opts, weights);
    output = { ...report, reweighing: { output: s.weights, rows: summary.rowsOut, weights } };
  }
  const json = `${JSON.stringify(output, null, 2)}\n`;
  if (s.report !== undefined) await writeFileAtomic(s.report, json);
  if (s.html !== undefined) await writeFileAtomic(s.html, html!);
  process.stdout.write(s.json ? json : formatBiasSummary(report, s));

  const di = report.disparate_impact;
  if (undefinedGate) {
    const why = report.warnings.find((w) => w.startsWith('disparate_impact is null: '))?.slice('disparate_impact is null: '.length);
    throw new UserError(`${s.input}: disparate impact is undefined${why ? ` (${why})` : ''}, so --fail-below ${s.failBelow} cannot pass`, FAIL_BELOW_EXIT);
  }
  if (s.failBelow !== undefined) {
    if (di !== null && di < s.failBelow) {
      throw new UserError(`disparate impact ${di.toFixed(4)} is below --fail-below ${s.failBelow} ` +
        `(${report.protected} = ${JSON.stringify(report.privileged)} is privileged)`, FAIL_BELOW_EXIT);
    }
  }
}

const num = (x: number | null | undefined, digits = 4) => (x === null || x === undefined ? 'n/a' : x.toFixed(digits));

/** The readable summary printed without --json: the metrics, then one row per group. */
export function formatBiasSummary(r: BiasReport, s: Pick<BiasReportSettings, 'report' | 'html' | 'weights'>): string {
  const lines = [
    `${r.input}: ${r.rows} rows; ${r.protected} = ${JSON.stringify(r.privileged)} is privileged; ${r.label} = ${JSON.stringify(r.favorable)} is favorable` +
      (r.prediction !== null ? `; predictions in ${r.prediction}` : ''),
    `  disparate impact               ${num(r.disparate_impact)}  (four-fifths rule: ≥ 0.8)`,
    `  statistical parity difference  ${num(r.statistical_parity_difference)}`,
  ];
  if (r.equal_opportunity_difference !== undefined) lines.push(`  equal opportunity difference   ${num(r.equal_opportunity_difference)}`);
  if (r.average_odds_difference !== undefined) lines.push(`  average odds difference        ${num(r.average_odds_difference)}`);
  const withPred = r.prediction !== null;
  const header = ['group', 'count', 'favorable', 'base rate', ...(withPred ? ['selection', 'TPR', 'FPR', 'accuracy'] : [])];
  const row = (name: string, g: GroupStats) => [name, String(g.count), String(g.favorable), num(g.base_rate, 3),
    ...(withPred ? [num(g.selection_rate, 3), num(g.tpr, 3), num(g.fpr, 3), num(g.accuracy, 3)] : [])];
  const rows = [header, row('privileged', r.groups.privileged), row('unprivileged', r.groups.unprivileged),
    ...Object.entries(r.groups.by_value).map(([v, g]) => row(`  ${r.protected}=${v}`, g))];
  const widths = header.map((_, c) => Math.max(...rows.map((x) => x[c].length)));
  for (const x of rows) lines.push(`  ${x.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ')}`);
  const files = [s.report && `report ${s.report}`, s.html && `HTML ${s.html}`, s.weights && `weights ${s.weights}`].filter(Boolean);
  if (files.length) lines.push(`  wrote ${files.join(', ')}`);
  return `${lines.join('\n')}\n`;
}
