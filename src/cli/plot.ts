import { basename } from 'node:path';
import type { Command } from 'commander';
import { valueCounts } from '../data/value-counts.js';
import { countsChartSpec, renderSvg, type CountBar } from '../data/charts.js';
import { checkOutputDir, writeFileAtomic } from '../data/csv.js';
import { log } from '../util/log.js';
import { example, int } from './options.js';

interface Flags {
  column: string;
  output: string;
  title?: string;
  top: number;
  json: boolean;
}

export function registerPlot(program: Command): void {
  const cmd = program
    .command('plot')
    .description('Bar chart (SVG) of the value counts of one CSV column, most frequent first. Values are trimmed; ' +
      'beyond the --top most frequent, the rest are summed into one grey "(other)" bar.')
    .argument('<input.csv>', 'CSV file')
    .requiredOption('--column <col>', 'column whose values are counted')
    .requiredOption('-o, --output <chart.svg>', 'SVG file to write')
    .option('--title <text>', 'chart title (default: "<column> in <file>")')
    .option('--top <n>', 'bars for the most frequent values; the rest become "(other)"', int(1, 1000), 50)
    .option('--json', 'print the counts as JSON on stdout', false)
    .action(async (input: string, flags: Flags) => {
      await checkOutputDir(flags.output);
      const counts = await valueCounts(input, flags.column, { top: flags.top });
      const bars: CountBar[] = counts.top.map((c) => ({ label: c.value, count: c.count }));
      if (counts.other) bars.push({ label: '(other)', count: counts.other.count, other: true });
      const title = flags.title ?? `${flags.column} in ${basename(input)} (${counts.rows} rows, ${counts.distinct} distinct values)`;
      const svg = await renderSvg(countsChartSpec(bars, { title, axisTitle: flags.column }));
      await writeFileAtomic(flags.output, svg);
      log().info(`wrote ${flags.output}: ${bars.length} bars, ${counts.rows} rows`);
      if (flags.json) {
        process.stdout.write(`${JSON.stringify({ input, column: flags.column, output: flags.output, ...counts }, null, 2)}\n`);
      }
    });
  example(cmd, 'compactlm plot reviews.csv --column label -o label.svg --title "Labels" --json');
}
