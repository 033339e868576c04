import type { BiasReport, GroupStats } from './bias.js';
import type { ReweighingWeights } from './reweighing.js';
import { displayLabel, rateChartSpec, renderSvg, type RateBar } from './charts.js';

/**
 * The bias report as one self-contained HTML page: the numbers in tables and the charts as inline SVG (no
 * scripts, no external files), so it can be attached to a CI run or mailed. Every piece of user text (file
 * names, column names, values) goes through escapeHtml; the SVGs are escaped by vega.
 */

/** Groups drawn in the charts (the most frequent protected values); the tables list them all. */
export const CHART_GROUPS = 50;

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function num(x: number | null | undefined, digits = 4): string {
  if (x === null || x === undefined) return '<span class="na" title="undefined, see warnings">n/a</span>';
  return x.toFixed(digits);
}

const METRICS: { key: keyof BiasReport; name: string; ideal: string; about: string }[] = [
  { key: 'disparate_impact', name: 'Disparate impact', ideal: '1 (≥ 0.8 by the four-fifths rule)', about: 'P(favorable | unprivileged) / P(favorable | privileged)' },
  { key: 'statistical_parity_difference', name: 'Statistical parity difference', ideal: '0', about: 'P(favorable | unprivileged) − P(favorable | privileged)' },
  { key: 'equal_opportunity_difference', name: 'Equal opportunity difference', ideal: '0', about: 'TPR(unprivileged) − TPR(privileged)' },
  { key: 'average_odds_difference', name: 'Average odds difference', ideal: '0', about: '½[(FPR(unpriv) − FPR(priv)) + (TPR(unpriv) − TPR(priv))]' },
];

/** Protected values for the charts: the most frequent ones, plus the unprivileged aggregate when it has several. */
function chartGroups(r: BiasReport): { label: string; privileged: boolean; stats: GroupStats }[] {
  const values = Object.entries(r.groups.by_value)
    .sort((a, b) => b[1].count - a[1].count)
    .slice(0, CHART_GROUPS)
    .map(([v, stats]) => ({ label: v, privileged: v === r.privileged, stats }));
  const unprivilegedValues = Object.keys(r.groups.by_value).filter((v) => v !== r.privileged).length;
  if (unprivilegedValues > 1) values.push({ label: '(all unprivileged)', privileged: false, stats: r.groups.unprivileged });
  return values;
}

async function charts(r: BiasReport): Promise<string[]> {
  const groups = chartGroups(r);
  const svgs: string[] = [];
  const privRate = r.groups.privileged.base_rate;
  const baseRates: RateBar[] = groups
    .filter((g) => g.stats.base_rate !== null)
    .map((g) => ({ group: g.label, series: g.privileged ? 'privileged' : 'unprivileged', rate: g.stats.base_rate! }));
  svgs.push(await renderSvg(rateChartSpec(baseRates, {
    title: `Favorable rate (${r.label} = ${r.favorable}) per ${r.protected}`,
    axisTitle: r.protected,
    rateTitle: 'base rate',
    series: ['privileged', 'unprivileged'],
    sideBySide: false,
    ...(privRate ? { reference: { value: 0.8 * privRate, label: '4/5 of privileged' } } : {}),
  })));
  if (r.prediction !== null) {
    const rates: RateBar[] = [];
    for (const g of groups) {
      if (g.stats.tpr != null) rates.push({ group: g.label, series: 'TPR', rate: g.stats.tpr });
      if (g.stats.fpr != null) rates.push({ group: g.label, series: 'FPR', rate: g.stats.fpr });
    }
    svgs.push(await renderSvg(rateChartSpec(rates, {
      title: `True and false positive rates of ${r.prediction} per ${r.protected}`,
      axisTitle: r.protected,
      rateTitle: 'rate',
      series: ['TPR', 'FPR'],
      sideBySide: true,
    })));
  }
  return svgs;
}

function groupTable(r: BiasReport): string {
  const pred = r.prediction !== null;
  const head = ['group', 'rows', 'favorable', 'base rate', ...(pred ? ['selection rate', 'TPR', 'FPR', 'accuracy'] : [])];
  const row = (name: string, s: GroupStats, cls = ''): string => {
    const cells = [String(s.count), String(s.favorable), num(s.base_rate),
      ...(pred ? [num(s.selection_rate), num(s.tpr), num(s.fpr), num(s.accuracy)] : [])];
    return `<tr${cls ? ` class="${cls}"` : ''}><th scope="row">${name}</th>${cells.map((c) => `<td>${c}</td>`).join('')}</tr>`;
  };
  const rows = [
    row(`privileged (${escapeHtml(r.protected)} = ${escapeHtml(displayLabel(r.privileged))})`, r.groups.privileged, 'agg'),
    row('unprivileged (all other values)', r.groups.unprivileged, 'agg'),
    ...Object.entries(r.groups.by_value).map(([v, s]) => row(escapeHtml(displayLabel(v)), s)),
  ];
  return `<table><thead><tr>${head.map((h) => `<th scope="col">${h}</th>`).join('')}</tr></thead><tbody>${rows.join('\n')}</tbody></table>`;
}

export async function biasHtml(r: BiasReport, extra: { weights?: ReweighingWeights } = {}): Promise<string> {
  const metricRows = METRICS.filter((m) => m.key in r).map((m) =>
    `<tr><th scope="row">${m.name}</th><td class="value">${num(r[m.key] as number | null, 6)}</td><td>${m.ideal}</td><td>${m.about}</td></tr>`);
  const di = r.disparate_impact;
  const verdict = di === null
    ? '<p class="verdict na">Disparate impact is undefined (see warnings).</p>'
    : `<p class="verdict ${di >= 0.8 ? 'ok' : 'bad'}">Four-fifths rule: disparate impact ${num(di)} ${di >= 0.8 ? '≥' : '&lt;'} 0.8 — ${di >= 0.8 ? 'passes' : 'fails'}.</p>`;
  const settings: [string, string][] = [
    ['input', r.input], ['rows', String(r.rows)], ['protected column', r.protected], ['privileged value', r.privileged],
    ['label column', r.label], ['favorable value', r.favorable], ...(r.prediction !== null ? [['prediction column', r.prediction] as [string, string]] : []),
  ];
  const w = extra.weights;
  const weights = w ? `<h2>Reweighing (Kamiran–Calders)</h2>
<p>Weight of each row by (group, label): w = n<sub>g</sub>·n<sub>y</sub> / (n·n<sub>gy</sub>).</p>
<table><thead><tr><th scope="col">group</th><th scope="col">favorable</th><th scope="col">unfavorable</th></tr></thead><tbody>
<tr><th scope="row">privileged</th><td>${num(w.privileged.favorable, 6)}</td><td>${num(w.privileged.unfavorable, 6)}</td></tr>
<tr><th scope="row">unprivileged</th><td>${num(w.unprivileged.favorable, 6)}</td><td>${num(w.unprivileged.unfavorable, 6)}</td></tr>
</tbody></table>` : '';
  const warnings = r.warnings.length === 0 ? '' :
    `<h2>Warnings</h2><ul class="warnings">${r.warnings.map((x) => `<li>${escapeHtml(x)}</li>`).join('')}</ul>`;
  const svgs = await charts(r);
  const truncated = Object.keys(r.groups.by_value).length > CHART_GROUPS ? `<p class="note">Charts show the ${CHART_GROUPS} most frequent values.</p>` : '';
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Bias report: ${escapeHtml(r.input)}</title>
<style>
body { font-family: Helvetica, Arial, sans-serif; margin: 2rem auto; max-width: 60rem; padding: 0 1rem; color: #222; }
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; }
th, td { border: 1px solid #ddd; padding: 0.3rem 0.6rem; text-align: left; }
td { font-variant-numeric: tabular-nums; }
thead th { background: #f4f4f4; }
tr.agg { background: #f8f8ff; }
.na { color: #999; }
.verdict.ok { color: #1e7b34; } .verdict.bad { color: #b3261e; font-weight: bold; }
.chart { margin: 1rem 0; overflow-x: auto; }
.warnings li { color: #8a5a00; }
</style>
</head>
<body>
<h1>Bias report</h1>
<table class="settings"><tbody>
${settings.map(([k, v]) => `<tr><th scope="row">${k}</th><td>${escapeHtml(v)}</td></tr>`).join('\n')}
</tbody></table>
<h2>Metrics</h2>
${verdict}
<table><thead><tr><th scope="col">metric</th><th scope="col">value</th><th scope="col">ideal</th><th scope="col">definition (AIF360)</th></tr></thead><tbody>
${metricRows.join('\n')}
</tbody></table>
<h2>Groups</h2>
${groupTable(r)}
<h2>Charts</h2>
${truncated}
${svgs.map((s) => `<div class="chart">${s}</div>`).join('\n')}
${weights}
${warnings}
</body>
</html>
`;
}
