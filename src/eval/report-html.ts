import type { TopLevelSpec } from 'vega-lite';
import { escapeHtml } from '../data/bias-html.js';
import { displayLabel, rateChartSpec, renderSvg, type RateBar } from '../data/charts.js';
import type { ReliabilityBin } from './calibration.js';
import type { ClassificationReport } from './classification-report.js';

/**
 * The classification report of `compactlm eval` as one self-contained HTML page (no scripts, no network): the
 * headline numbers, the confusion matrix as a table shaded by each row's share, per-class precision/recall/F1 as
 * an SVG bar chart, and the reliability diagram of the ECE bins as SVG. User text (labels, file and column names)
 * goes through escapeHtml; vega escapes what it writes into the SVGs.
 */

/** Classes drawn in the per-class chart (the largest by support); the tables list them all. */
export const CHART_CLASSES = 50;

const fixed = (x: number | null | undefined, digits = 4) => (x === null || x === undefined ? 'n/a' : x.toFixed(digits));

/** Reliability diagram: accuracy per confidence bin (bars), each bin's mean confidence (points), the diagonal on top. */
export function reliabilitySpec(bins: readonly ReliabilityBin[], ece: number): TopLevelSpec {
  const filled = bins.filter((b) => b.count > 0).map((b) => ({ ...b }));
  const axis = (field: string, title?: string) => ({ field, type: 'quantitative', scale: { domain: [0, 1] }, ...(title ? { title } : {}) });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `Reliability diagram (${bins.length} bins), ECE = ${ece.toFixed(4)}`,
    config: { font: 'Helvetica, Arial, sans-serif', view: { stroke: null } },
    width: 360,
    height: 360,
    layer: [
      {
        data: { values: filled },
        mark: { type: 'bar', color: '#4c78a8', stroke: 'white' },
        encoding: { x: axis('lo', 'confidence (max probability)'), x2: { field: 'hi' }, y: axis('accuracy', 'accuracy'), y2: { datum: 0 } },
      },
      {
        data: { values: filled },
        mark: { type: 'point', filled: true, color: '#e45756', size: 40 },
        encoding: { x: axis('confidence'), y: axis('accuracy') },
      },
      {
        data: { values: [{ x: 0, y: 0 }, { x: 1, y: 1 }] },
        mark: { type: 'line', strokeDash: [4, 4], color: '#555' },
        encoding: { x: axis('x'), y: axis('y') },
      },
    ],
  } as TopLevelSpec;
}

/** Per-class precision, recall and F1 bars for the CHART_CLASSES classes with the most support. */
function perClassChart(r: ClassificationReport): Promise<string> {
  const classes = Object.entries(r.per_class).sort((a, b) => b[1].support - a[1].support).slice(0, CHART_CLASSES);
  const bars: RateBar[] = classes.flatMap(([label, m]) => [
    { group: label, series: 'precision', rate: m.precision },
    { group: label, series: 'recall', rate: m.recall },
    { group: label, series: 'F1', rate: m.f1 },
  ]);
  return renderSvg(rateChartSpec(bars, {
    title: 'Precision, recall and F1 per class',
    axisTitle: 'class',
    rateTitle: 'score',
    series: ['precision', 'recall', 'F1'],
    sideBySide: true,
  }));
}

/** Rows = true label, columns = predicted; each cell shaded by its share of the row (the recall on the diagonal). */
function confusionTable(r: ClassificationReport): string {
  const { labels, matrix } = r.confusion_matrix;
  const name = (l: string) => escapeHtml(displayLabel(l));
  const head = `<tr><th scope="col">true \\ predicted</th>${labels.map((l) => `<th scope="col">${name(l)}</th>`).join('')}</tr>`;
  const rows = matrix.map((row, i) => {
    const total = row.reduce((a, b) => a + b, 0);
    const cells = row.map((count, j) => {
      const share = total === 0 ? 0 : count / total;
      const hue = i === j ? '76,120,168' : '228,87,86';
      const style = `background: rgba(${hue},${share.toFixed(3)});${share > 0.6 ? ' color: #fff;' : ''}`;
      const title = `true ${labels[i]}, predicted ${labels[j]}: ${count} (${(share * 100).toFixed(1)}% of the row)`;
      return `<td style="${style}" title="${escapeHtml(title)}">${count}</td>`;
    });
    return `<tr><th scope="row">${name(labels[i])}</th>${cells.join('')}</tr>`;
  });
  return `<table class="confusion"><thead>${head}</thead><tbody>${rows.join('\n')}</tbody></table>`;
}

function perClassTable(r: ClassificationReport): string {
  const rows = Object.entries(r.per_class).map(([label, m]) =>
    `<tr><th scope="row">${escapeHtml(displayLabel(label))}</th><td>${fixed(m.precision)}</td><td>${fixed(m.recall)}</td><td>${fixed(m.f1)}</td><td>${m.support}</td></tr>`);
  return `<table><thead><tr><th scope="col">class</th><th scope="col">precision</th><th scope="col">recall</th><th scope="col">F1</th><th scope="col">support</th></tr></thead><tbody>${rows.join('\n')}</tbody></table>`;
}

function biasSection(r: ClassificationReport): string {
  const b = r.bias;
  if (!b) return '';
  const metrics: [string, number | null | undefined][] = [
    ['equal opportunity difference (TPR unpriv − priv)', b.equal_opportunity_difference],
    ['average odds difference', b.average_odds_difference],
    ['disparate impact of the predictions', b.predicted_disparate_impact],
    ['statistical parity difference of the predictions', b.predicted_statistical_parity_difference],
    ['disparate impact (true labels)', b.disparate_impact],
    ['statistical parity difference (true labels)', b.statistical_parity_difference],
  ];
  const groups = [['privileged', b.groups.privileged], ['unprivileged', b.groups.unprivileged],
    ...Object.entries(b.groups.by_value).map(([v, g]) => [`${b.protected} = ${displayLabel(v)}`, g] as const)] as const;
  return `<h2>Bias (${escapeHtml(b.protected)}; privileged ${escapeHtml(JSON.stringify(b.privileged))}; favorable ${escapeHtml(JSON.stringify(b.favorable))})</h2>
<table><tbody>${metrics.map(([k, v]) => `<tr><th scope="row">${k}</th><td>${fixed(v)}</td></tr>`).join('')}</tbody></table>
<table><thead><tr><th scope="col">group</th><th scope="col">rows</th><th scope="col">accuracy</th><th scope="col">TPR</th><th scope="col">FPR</th></tr></thead><tbody>
${groups.map(([name, g]) => `<tr><th scope="row">${escapeHtml(name)}</th><td>${g.count}</td><td>${fixed(g.accuracy)}</td><td>${fixed(g.tpr)}</td><td>${fixed(g.fpr)}</td></tr>`).join('\n')}
</tbody></table>
${b.warnings.length ? `<ul class="warnings">${b.warnings.map((w) => `<li>${escapeHtml(w)}</li>`).join('')}</ul>` : ''}`;
}

export async function classificationHtml(r: ClassificationReport, reliability: readonly ReliabilityBin[]): Promise<string> {
  const latency = Object.entries(r.latency_ms).map(([p, l]) => `${p}: p50 ${l.p50.toFixed(2)} ms, p95 ${l.p95.toFixed(2)} ms`).join('; ');
  const summary: [string, string][] = [
    ['test set', `${r.test} (${r.n} rows, ${r.labels.length} labels)`],
    ...(r.train !== null ? [['training set (baselines)', r.train] as [string, string]] : []),
    ['model', `${r.model.path} (${r.model.precision}, ${r.model.parameters.toLocaleString('en-US')} parameters)`],
    ['accuracy', `${fixed(r.accuracy)} (95% bootstrap interval ${fixed(r.accuracy_ci95[0])}–${fixed(r.accuracy_ci95[1])})`],
    ['macro F1', fixed(r.macro_f1)],
    ['ECE (15 bins)', fixed(r.ece)],
    ['majority baseline', `accuracy ${fixed(r.baselines.majority.accuracy)}, macro F1 ${fixed(r.baselines.majority.macro_f1)}`],
    ...(r.baselines.bow_logreg ? [['TF-IDF + logistic regression', `accuracy ${fixed(r.baselines.bow_logreg.accuracy)}, macro F1 ${fixed(r.baselines.bow_logreg.macro_f1)}`] as [string, string]] : []),
    ['accuracy with typos', fixed(r.robustness.typos.accuracy)],
    ['accuracy with synonyms', fixed(r.robustness.synonyms.accuracy)],
    ['latency, one text', latency],
    ['seed', String(r.seed)],
  ];
  const [classes, diagram] = [await perClassChart(r), await renderSvg(reliabilitySpec(reliability, r.ece))];
  const more = Object.keys(r.per_class).length > CHART_CLASSES ? `<p>The chart shows the ${CHART_CLASSES} classes with the most support.</p>` : '';
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Evaluation: ${escapeHtml(r.model.path)} on ${escapeHtml(r.test)}</title>
<style>
body { font-family: Helvetica, Arial, sans-serif; margin: 2rem auto; max-width: 64rem; padding: 0 1rem; color: #222; }
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; }
th, td { border: 1px solid #ddd; padding: 0.3rem 0.6rem; text-align: left; font-variant-numeric: tabular-nums; }
table.confusion td { text-align: right; min-width: 2.5rem; }
thead th { background: #f4f4f4; }
.chart { margin: 1rem 0; overflow-x: auto; }
.warnings li { color: #8a5a00; }
</style>
</head>
<body>
<h1>Classification evaluation</h1>
<table><tbody>
${summary.map(([k, v]) => `<tr><th scope="row">${k}</th><td>${escapeHtml(v)}</td></tr>`).join('\n')}
</tbody></table>
<h2>Confusion matrix</h2>
${confusionTable(r)}
<h2>Per class</h2>
${more}
<div class="chart">${classes}</div>
${perClassTable(r)}
<h2>Calibration</h2>
<p>Bars: accuracy of the predictions whose confidence falls in each bin; points: their mean confidence; dashed: perfect calibration.</p>
<div class="chart">${diagram}</div>
${biasSection(r)}
</body>
</html>
`;
}
