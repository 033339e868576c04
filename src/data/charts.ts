import type { TopLevelSpec } from 'vega-lite';

/**
 * Charts as standalone SVG strings: a vega-lite spec compiled to vega and rendered headless in Node (no canvas,
 * no browser). Used by `plot` and by the bias report's HTML. User text only ever enters a spec as data values or
 * titles (never as field names or expressions), and vega escapes it when it writes the SVG.
 */

const FONT = 'Helvetica, Arial, sans-serif';
const CONFIG = {
  font: FONT,
  view: { stroke: null },
  axis: { labelFontSize: 11, titleFontSize: 12, labelLimit: 240 },
  title: { fontSize: 14, anchor: 'start' },
} as const;

/** Renders a vega-lite spec to an SVG document. */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  // loaded on first use: vega and vega-lite take ~0.5 s to import, which every other command would pay at startup
  // (one after the other: jest's ESM loader fails on two concurrent imports that share dependencies)
  const { parse, View } = await import('vega');
  const { compile } = await import('vega-lite');
  const view = new View(parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** How a category is shown on an axis: an empty cell would otherwise be an invisible label. */
export function displayLabel(value: string): string {
  return value === '' ? '(empty)' : value;
}

export interface CountBar {
  label: string;
  count: number;
  /** The "(other)" bar that sums the categories left out; drawn in grey. */
  other?: boolean;
}

/** Horizontal bar chart of category counts, drawn in the order given (callers sort), each bar labelled. */
export function countsChartSpec(bars: CountBar[], opts: { title: string; axisTitle: string }): TopLevelSpec {
  const values = bars.map((b) => ({ label: displayLabel(b.label), count: b.count, kind: b.other ? 'other' : 'value' }));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: opts.title,
    config: CONFIG,
    width: 480,
    height: { step: 18 },
    data: { values },
    encoding: {
      y: { field: 'label', type: 'nominal', sort: null, title: opts.axisTitle },
      x: { field: 'count', type: 'quantitative', title: 'rows' },
    },
    layer: [
      {
        mark: { type: 'bar' },
        encoding: {
          color: {
            field: 'kind', type: 'nominal', legend: null,
            scale: { domain: ['value', 'other'], range: ['#4c78a8', '#9d9d9d'] },
          },
        },
      },
      { mark: { type: 'text', align: 'left', dx: 3, fontSize: 10 }, encoding: { text: { field: 'count', type: 'quantitative' } } },
    ],
  };
}

export interface RateBar {
  /** Category on the y axis (a protected value). */
  group: string;
  /** Colour: e.g. "privileged"/"unprivileged", or "TPR"/"FPR". */
  series: string;
  rate: number;
}

/**
 * Horizontal bars of rates in [0, 1] per group, coloured by series. With `sideBySide` each group has one bar per
 * series (e.g. TPR and FPR); otherwise one bar per group whose colour tells its series (e.g. privileged or not).
 * An optional dashed reference line (e.g. the four-fifths threshold) is drawn across.
 */
export function rateChartSpec(
  bars: RateBar[],
  opts: {
    title: string;
    axisTitle: string;
    rateTitle: string;
    series: string[];
    sideBySide: boolean;
    reference?: { value: number; label: string };
  },
): TopLevelSpec {
  const values = bars.map((b) => ({ group: displayLabel(b.group), series: b.series, rate: b.rate }));
  const y = { field: 'group', type: 'nominal', sort: null, title: opts.axisTitle };
  const offset = opts.sideBySide ? { yOffset: { field: 'series', type: 'nominal', scale: { domain: opts.series } } } : {};
  const layers: object[] = [
    {
      mark: { type: 'bar' },
      encoding: {
        y,
        x: { field: 'rate', type: 'quantitative', title: opts.rateTitle, scale: { domain: [0, 1] } },
        color: { field: 'series', type: 'nominal', title: null, scale: { domain: opts.series } },
        ...offset,
      },
    },
    {
      mark: { type: 'text', align: 'left', dx: 3, fontSize: 10 },
      encoding: {
        y,
        x: { field: 'rate', type: 'quantitative' },
        text: { field: 'rate', type: 'quantitative', format: '.3f' },
        ...offset,
      },
    },
  ];
  if (opts.reference) {
    layers.push({
      data: { values: [{ x: opts.reference.value, label: opts.reference.label }] },
      layer: [
        { mark: { type: 'rule', strokeDash: [4, 4], color: '#c0392b' }, encoding: { x: { field: 'x', type: 'quantitative' } } },
        {
          mark: { type: 'text', align: 'left', baseline: 'top', dx: 3, dy: -14, color: '#c0392b', fontSize: 10 },
          encoding: { x: { field: 'x', type: 'quantitative' }, y: { value: 0 }, text: { field: 'label' } },
        },
      ],
    });
  }
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: opts.title,
    config: CONFIG,
    width: 420,
    height: opts.sideBySide ? { step: 16, for: 'offset' } : { step: 22 },
    data: { values },
    layer: layers,
  } as TopLevelSpec;
}
