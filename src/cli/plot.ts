import { basename } from 'node:path';
import type { Command } from 'commander';
import { valueCounts } from '../data/value-counts.js';
import { countsChartSpec, renderSvg, type CountBar } from '../data/charts.js';
import { checkOutputFile } from '../data/csv.js';
import { writeFileAtomic } from '../util/atomic.js';
import { log } from '../util/log.js';
import { addDeprecatedAlias, example, frozen, int, nonEmpty, preferAlias, refuseOverwritingInputs } from './options.js';

interface Flags {
  column: string;
  output: string;
  title?: string;
  topK: number;
  top?: number;
  json: boolean;
}

export interface PlotSettings {
  input: string;
  column: string;
  output: string;
  title?: string;
  topK: number;
  json: boolean;
}

const TOP_K = int(1, 1000);

/** The checked, frozen settings `plot` runs with. */
export function plotSettings(input: string, o: Flags, command: Command): Readonly<PlotSettings> {
  refuseOverwritingInputs([{ what: '-o', path: o.output }], [{ what: 'the input', path: input }]);
  return frozen({
    input, column: o.column, output: o.output,
    ...(o.title !== undefined ? { title: o.title } : {}),
    topK: preferAlias<number>(command, 'topK', 'top', '--top-k', '--top'),
    json: o.json,
  });
}

export function registerPlot(program: Command): void {
  const cmd = program
    .command('plot')
    .description('Bar chart (SVG) of the value counts of one CSV column, most frequent first. Values are trimmed; ' +
      'beyond the --top-k most frequent, the rest are summed into one grey "(other)" bar.')
    .argument('<input.csv>', 'CSV file')
    .requiredOption('--column <col>', 'column whose values are counted', nonEmpty)
    .requiredOption('-o, --output <chart.svg>', 'SVG file to write', nonEmpty)
    .option('--title <text>', 'chart title (default: "<column> in <file>")')
    .option('--top-k <k>', 'bars for the k most frequent values; the rest become "(other)"', TOP_K, 50)
    .option('--json', 'print the counts as JSON on stdout', false);
  addDeprecatedAlias(cmd, '--top <k>', TOP_K)
    .action(async (input: string, flags: Flags, command: Command) => {
      const s = plotSettings(input, flags, command);
      await checkOutputFile(s.output);
      const counts = await valueCounts(s.input, s.column, { top: s.topK });
      const bars: CountBar[] = counts.top.map((c) => ({ label: c.value, count: c.count }));
      if (counts.other) bars.push({ label: '(other)', count: counts.other.count, other: true });
      const title = s.title ?? `${s.column} in ${basename(s.input)} (${counts.rows} rows, ${counts.distinct} distinct values)`;
      const svg = await renderSvg(countsChartSpec(bars, { title, axisTitle: s.column }));
      await writeFileAtomic(s.output, svg);
      log().info(`wrote ${s.output}: ${bars.length} bars, ${counts.rows} rows`);
      if (s.json) {
        process.stdout.write(`${JSON.stringify({ input: s.input, column: s.column, output: s.output, ...counts }, null, 2)}\n`);
      }
    });
  example(cmd, 'compactlm plot reviews.csv --column label -o label.svg --title "Labels" --top-k 20 --json');
}
