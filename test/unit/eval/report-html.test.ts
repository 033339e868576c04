import { calibration } from '../../../src/eval/calibration.js';
import { classificationMetrics } from '../../../src/eval/classification-metrics.js';
import type { ClassificationReport } from '../../../src/eval/classification-report.js';
import { classificationHtml, reliabilitySpec } from '../../../src/eval/report-html.js';

const LABELS = ['<b>pos</b>', 'neg & "bad"', ''];
const Y_TRUE = [0, 0, 1, 1, 2, 2];
const Y_PRED = [0, 1, 1, 1, 2, 0];
const CONF = [0.9, 0.55, 0.8, 0.7, 0.4, 0.95];

function report(): { r: ClassificationReport; bins: ReturnType<typeof calibration>['bins'] } {
  const m = classificationMetrics(Y_TRUE, Y_PRED, LABELS);
  const cal = calibration(CONF, Y_PRED.map((p, i) => p === Y_TRUE[i]));
  const r: ClassificationReport = {
    task: 'classify', test: 'data/<test>.csv', train: null, n: m.n, labels: LABELS,
    accuracy: m.accuracy, accuracy_ci95: [0.3, 0.9], macro_f1: m.macro_f1, per_class: m.per_class, confusion_matrix: m.confusion_matrix,
    ece: cal.ece, baselines: { majority: { accuracy: 1 / 3, macro_f1: 1 / 6 } },
    robustness: { typos: { accuracy: 0.5 }, synonyms: { accuracy: 0.6 } },
    latency_ms: { fp32: { p50: 1.5, p95: 2.5 } },
    model: { path: 'runs/<model>', precision: 'fp32', parameters: 1000, files: {} }, seed: 1,
  };
  return { r, bins: cal.bins };
}

describe('HTML report of eval', () => {
  test('self-contained: no scripts, no external resources; every label escaped', async () => {
    const { r, bins } = report();
    const html = await classificationHtml(r, bins);
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html).not.toMatch(/<script|<link|<img|src=|url\(/i);
    // the only URLs are SVG namespace declarations
    for (const url of html.match(/https?:\/\/[^\s"']+/g) ?? []) expect(url).toMatch(/^http:\/\/www\.w3\.org\//);
    expect(html).not.toContain('<b>pos</b>');
    expect(html).toContain('&lt;b&gt;pos&lt;/b&gt;');
    expect(html).not.toContain('data/<test>.csv');
    expect(html).toContain('(empty)'); // the empty label is shown, not an invisible header
  });

  test('confusion matrix as a shaded table: rows true, columns predicted, counts in the cells', async () => {
    const { r, bins } = report();
    const html = await classificationHtml(r, bins);
    const table = html.slice(html.indexOf('<table class="confusion">'), html.indexOf('</table>', html.indexOf('<table class="confusion">')));
    const cells = [...table.matchAll(/<td style="background: rgba\(([\d,]+),([\d.]+)\);[^"]*" title="[^"]*">(\d+)<\/td>/g)];
    expect(cells.map((c) => Number(c[3]))).toEqual(r.confusion_matrix.matrix.flat());
    // the first row is [1, 1, 0]: each cell shaded by its share of the row
    expect(cells.slice(0, 3).map((c) => Number(c[2]))).toEqual([0.5, 0.5, 0]);
  });

  test('two SVG charts: per-class precision/recall/F1 bars and the reliability diagram', async () => {
    const { r, bins } = report();
    const html = await classificationHtml(r, bins);
    expect((html.match(/<svg/g) ?? []).length).toBe(2);
    // 3 classes × 3 series, plus one bar per filled reliability bin
    const filled = bins.filter((b) => b.count > 0).length;
    expect((html.match(/aria-roledescription="bar"/g) ?? []).length).toBe(9 + filled);
  });

  test('the reliability spec has one bar per non-empty bin, spanning (lo, hi]', () => {
    const { bins } = report();
    const spec = reliabilitySpec(bins, 0.1) as unknown as { layer: { data: { values: { lo: number; hi: number; count: number }[] } }[] };
    const bars = spec.layer[0].data.values;
    expect(bars.every((b) => b.count > 0 && b.hi - b.lo > 0)).toBe(true);
    expect(bars.length).toBe(bins.filter((b) => b.count > 0).length);
  });
});
