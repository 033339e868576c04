import type { Command } from 'commander';
import { biasReport, type BiasOptions } from '../data/bias.js';
import { biasHtml } from '../data/bias-html.js';
import { reweighingWeights, writeReweighted, type ReweighingWeights } from '../data/reweighing.js';
import { checkOutputDir, writeFileAtomic } from '../data/csv.js';
import { UserError } from '../util/errors.js';
import { log } from '../util/log.js';
import { example, float } from './options.js';

interface Flags {
  protected: string;
  label: string;
  privileged: string;
  favorable: string;
  prediction?: string;
  json?: string;
  html?: string;
  weightsOut?: string;
  failBelow?: number;
}

/** Exit status of a failed --fail-below gate (distinct from 1, bad input). */
export const FAIL_BELOW_EXIT = 3;

export function registerBiasReport(program: Command): void {
  const cmd = program
    .command('bias-report')
    .description('Group-fairness metrics of a labelled CSV (AIF360 definitions): disparate impact, statistical parity ' +
      'difference and, with predictions, equal opportunity and average odds differences. JSON on stdout.')
    .argument('<input.csv>', 'CSV with a protected-attribute column and a label column')
    .requiredOption('--protected <col>', 'protected-attribute column (e.g. gender)')
    .requiredOption('--label <col>', 'true label column')
    .requiredOption('--privileged <value>', 'protected value of the privileged group (exact match after trimming); every other value is unprivileged')
    .requiredOption('--favorable <value>', 'label (and prediction) value that is the favorable outcome')
    .option('--prediction <col>', 'model prediction column: adds TPR/FPR/accuracy per group and the classification metrics')
    .option('--json <file>', 'also write the JSON report to this file')
    .option('--html <file>', 'write a self-contained HTML report with tables and charts')
    .option('--weights-out <csv>', 'write the input with a Kamiran–Calders reweighing "weight" column (weighted DI = 1)')
    .option('--fail-below <di>', 'exit with status 3 if disparate impact is below this (0.8 = four-fifths rule) or undefined', float(0))
    .action(async (input: string, flags: Flags) => runBiasReport(input, flags));
  example(cmd,
    'compactlm bias-report wages.csv --protected sex --privileged male --label high_wage --favorable 1 --html bias.html',
    'compactlm bias-report preds.csv --protected sex --privileged male --label y --prediction y_hat --favorable 1 --fail-below 0.8');
}

async function runBiasReport(input: string, flags: Flags): Promise<void> {
  for (const out of [flags.json, flags.html, flags.weightsOut]) if (out !== undefined) await checkOutputDir(out);
  const opts: BiasOptions = {
    protected: flags.protected, label: flags.label, privileged: flags.privileged, favorable: flags.favorable,
    ...(flags.prediction !== undefined ? { prediction: flags.prediction } : {}),
  };
  const { report, counts } = await biasReport(input, opts);

  // everything is computed before the first file is written, so a failure leaves no partial set of outputs
  let weights: ReweighingWeights | undefined;
  if (flags.weightsOut !== undefined) {
    const rw = reweighingWeights(counts);
    weights = rw.weights;
    report.warnings.push(...rw.warnings);
  }
  for (const w of report.warnings) log().warn(w);
  const html = flags.html !== undefined ? await biasHtml(report, { weights }) : undefined;

  let output: object = report;
  if (flags.weightsOut !== undefined && weights) {
    const summary = await writeReweighted(input, flags.weightsOut, opts, weights);
    output = { ...report, reweighing: { output: flags.weightsOut, rows: summary.rowsOut, weights } };
  }
  const json = `${JSON.stringify(output, null, 2)}\n`;
  if (flags.json !== undefined) await writeFileAtomic(flags.json, json);
  if (flags.html !== undefined) await writeFileAtomic(flags.html, html!);
  process.stdout.write(json);

  const di = report.disparate_impact;
  if (flags.failBelow !== undefined) {
    if (di === null) {
      throw new UserError(`disparate impact is undefined (see warnings), so --fail-below ${flags.failBelow} cannot pass`, FAIL_BELOW_EXIT);
    }
    if (di < flags.failBelow) {
      throw new UserError(`disparate impact ${di.toFixed(4)} is below --fail-below ${flags.failBelow} ` +
        `(${report.protected} = ${JSON.stringify(report.privileged)} is privileged)`, FAIL_BELOW_EXIT);
    }
  }
}
