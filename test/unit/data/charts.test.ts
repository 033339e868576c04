import { fileURLToPath } from 'node:url';
import { countsChartSpec, rateChartSpec, renderSvg } from '../../../src/data/charts.js';
import { biasHtml, escapeHtml } from '../../../src/data/bias-html.js';
import { biasReport } from '../../../src/data/bias.js';
import { topCounts, valueCounts } from '../../../src/data/value-counts.js';

const FIXTURE = fileURLToPath(new URL('../../fixtures/bias-small.csv', import.meta.url));

/** Minimal XML well-formedness check: every opened tag is closed in order, attributes are quoted. */
function wellFormed(xml: string): boolean {
  const stack: string[] = [];
  const tag = /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/g;
  let last = 0;
  for (let m = tag.exec(xml); m; m = tag.exec(xml)) {
    if (/[<>]/.test(xml.slice(last, m.index))) return false; // a stray bracket between tags
    last = m.index + m[0].length;
    const [, close, name, , selfClose] = m;
    if (selfClose) continue;
    if (close) { if (stack.pop() !== name) return false; } else stack.push(name);
  }
  return stack.length === 0 && !/[<>]/.test(xml.slice(last));
}

/** Bars drawn by vega: rect marks are written as <path> items with the "bar" role. */
function countBars(svg: string): number {
  return (svg.match(/aria-roledescription="bar"/g) ?? []).length;
}

describe('charts (vega-lite → vega → SVG, headless)', () => {
  test('value-count chart: valid SVG with one bar per category, user text escaped', async () => {
    const bars = [
      { label: 'positive', count: 7 }, { label: '<script>alert(1)</script>', count: 3 }, { label: '', count: 2 },
      { label: '(other)', count: 5, other: true },
    ];
    const svg = await renderSvg(countsChartSpec(bars, { title: 'Labels & "quotes"', axisTitle: 'label' }));
    expect(svg.startsWith('<svg')).toBe(true);
    expect(wellFormed(svg)).toBe(true);
    expect(countBars(svg)).toBe(4);
    expect(svg).not.toContain('<script>');
    expect(svg).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(svg).toContain('(empty)'); // an empty value gets a visible label
    expect(svg).toContain('Labels &amp; "quotes"');
  });

  test('rate chart: side-by-side series give one bar per (group, series); a reference rule is drawn', async () => {
    const bars = ['a', 'b', 'c'].flatMap((g, i) => [
      { group: g, series: 'TPR', rate: 0.2 * i }, { group: g, series: 'FPR', rate: 0.1 * i },
    ]);
    const svg = await renderSvg(rateChartSpec(bars, {
      title: 't', axisTitle: 'g', rateTitle: 'rate', series: ['TPR', 'FPR'], sideBySide: true, reference: { value: 0.5, label: 'ref' },
    }));
    expect(wellFormed(svg)).toBe(true);
    expect(countBars(svg)).toBe(6);
    expect(svg).toContain('class="mark-rule role-mark');
  });

  test('the well-formedness check itself rejects broken markup', () => {
    expect(wellFormed('<svg><g></svg>')).toBe(false);
    expect(wellFormed('<svg><text>a<b</text></svg>')).toBe(false);
    expect(wellFormed('<svg><g/><text>a &lt; b</text></svg>')).toBe(true);
  });
});

describe('value counts', () => {
  test('topCounts sorts by count desc, ties by value, and sums the rest into (other)', () => {
    const m = new Map([['b', 2], ['a', 2], ['c', 5], ['d', 1], ['e', 1]]);
    expect(topCounts(m, 3)).toEqual({
      top: [{ value: 'c', count: 5 }, { value: 'a', count: 2 }, { value: 'b', count: 2 }],
      other: { values: 2, count: 2 },
    });
    expect(topCounts(m, 10).other).toBeNull();
  });

  test('valueCounts streams a column (trimmed values) and caps distinct values', async () => {
    const c = await valueCounts(FIXTURE, 'sex', { top: 50 });
    expect(c).toEqual({
      rows: 12, distinct: 3, truncated: false, other: null,
      top: [{ value: 'male', count: 6 }, { value: 'female', count: 4 }, { value: 'nonbinary', count: 2 }],
    });
    const capped = await valueCounts(FIXTURE, 'sex', { top: 50, maxDistinct: 2 });
    expect(capped).toMatchObject({ rows: 12, distinct: 2, truncated: true, other: { values: 0, count: 2 } });
  });
});

describe('HTML bias report', () => {
  test('self-contained page with the numbers, inline SVG charts and escaped user text', async () => {
    const { report } = await biasReport(FIXTURE, { protected: 'sex', label: 'hired', privileged: 'male', favorable: 'yes', prediction: 'predicted' });
    report.input = 'data/<b>evil</b>.csv';
    const html = await biasHtml(report);
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect((html.match(/<svg /g) ?? []).length).toBe(2); // base rates; TPR/FPR
    expect(html).toContain('data/&lt;b&gt;evil&lt;/b&gt;.csv');
    expect(html).not.toContain('<b>evil');
    expect(html).not.toMatch(/<script|<link|src="http/); // nothing external, nothing executable
    expect(html).toContain('0.500000'); // disparate impact
    expect(html).toContain('-0.250000'); // equal opportunity and average odds differences
    // base-rate chart: 3 values + the unprivileged aggregate; rates chart: TPR and FPR for each of those 4
    const svgs = html.match(/<svg[\s\S]*?<\/svg>/g)!;
    expect(svgs.map(countBars)).toEqual([4, 8]);
    expect(svgs.every(wellFormed)).toBe(true);
  });

  test('escapeHtml escapes the five special characters', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });
});
