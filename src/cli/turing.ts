import type { Command } from 'commander';
import { readItemsCsv } from '../turing/items-csv.js';
import { formatTuringReport, turingReport } from '../turing/report.js';
import { TuringStore } from '../turing/store.js';
import { BOOTSTRAP_RESAMPLES } from '../eval/bootstrap.js';
import { example, float, frozen, globals, int, nonEmpty, refuseOverwritingInputs } from './options.js';

/** Virtual ties of every system against a middle reference in the report's Bradley–Terry fit (bradley-terry.ts). */
export const DEFAULT_PRIOR_TIES = 1;

interface ImportFlags {
  items: string;
  db: string;
  json: boolean;
}

interface ReportFlags {
  db: string;
  json: boolean;
  prior: number;
  resamples: number;
  seed?: number;
}

/**
 * `compactlm turing …`: the Turing-test challenge's data (library: src/turing/). `import` loads items into the
 * SQLite file that `serve --turing-db` shows on /turing; `report` scores the votes.
 */
export function registerTuring(program: Command): void {
  const turing = program
    .command('turing')
    .description('The Turing-test challenge: load items for blind pairwise judging (served by `compactlm serve --turing-db`) and report the votes.');

  const imp = turing
    .command('import')
    .description('Load items (a prompt and two systems\' answers) from a CSV into a Turing-test database (created if missing). ' +
      'All rows or none; an item already there is not added twice.')
    .requiredOption('--items <csv>', 'items CSV, columns prompt,system_a,answer_a,system_b,answer_b (a system named "human" marks the reference)', nonEmpty)
    .requiredOption('--db <sqlite>', 'Turing-test database (SQLite)', nonEmpty)
    .option('--json', 'print the summary as JSON on stdout', false)
    .action(async (o: ImportFlags) => {
      refuseOverwritingInputs([{ what: '--db', path: o.db }], [{ what: '--items', path: o.items }]);
      const s = frozen({ items: o.items, db: o.db, json: o.json });
      const items = await readItemsCsv(s.items);
      const store = TuringStore.open(s.db, { create: true });
      try {
        const { added, existing } = store.addItems(items);
        const systems = [...new Set(items.flatMap((i) => [i.system_a, i.system_b]))].sort();
        const summary = { items: s.items, db: s.db, rows: items.length, added, existing, systems, db_items: store.counts().items };
        process.stdout.write(s.json ? `${JSON.stringify(summary)}\n`
          : `${s.items}: ${items.length} items → ${s.db} (${added} new, ${existing} already there; ${summary.db_items} in all); systems: ${systems.join(', ')}\n`);
      } finally {
        store.close();
      }
    });
  example(imp, 'compactlm turing import --items runs/turing/items.csv --db runs/turing/turing.sqlite');

  const rep = turing
    .command('report')
    .description('Per system: votes, win rate and Bradley–Terry score with a bootstrap 95% interval; the judges\' accuracy at ' +
      'spotting the model on items that pair "human" with a model (50% = indistinguishable), with a Wilson 95% interval.')
    .requiredOption('--db <sqlite>', 'Turing-test database (SQLite)', nonEmpty)
    .option('--json', 'print the report as JSON on stdout', false)
    .option('--prior <ties>', 'virtual ties of every system against a middle reference (keeps scores finite with few votes; 0: plain maximum likelihood)',
      float(0, 1e6), DEFAULT_PRIOR_TIES)
    .option('--resamples <n>', 'bootstrap resamples of the votes', int(100, 1e6), BOOTSTRAP_RESAMPLES)
    .option('--seed <n>', 'seed of the bootstrap (default: the global --seed, 42)', int(0, 2 ** 32 - 1))
    .addHelpText('after', `
Report (--json): db, items, votes, bad_votes, systems [{system, votes, wins, losses, ties, bad, win_rate, bt_score,
bt_ci95 [lo, hi], detection? {guesses, correct, accuracy, accuracy_ci95}}] (sorted by bt_score), detection (all
human-vs-model guesses), bradley_terry {scale, ties, prior_ties, resamples, seed}. win_rate = (wins + ties/2) /
(wins + losses + ties); "both bad" votes count in votes and bad only. bt_score: 1000 + 400·log10(strength /
geometric mean), so 400 points apart = 10:1 odds.`)
    .action((o: ReportFlags, command: Command) => {
      const s = frozen({ db: o.db, json: o.json, prior: o.prior, resamples: o.resamples, seed: o.seed ?? globals(command).seed });
      const store = TuringStore.open(s.db);
      try {
        const r = turingReport(s.db, store.counts(), store.systems(), store.votes(), s);
        process.stdout.write(s.json ? `${JSON.stringify(r, null, 2)}\n` : formatTuringReport(r));
      } finally {
        store.close();
      }
    });
  example(rep, 'compactlm turing report --db runs/turing/turing.sqlite', 'compactlm turing report --db turing.sqlite --json > turing-report.json');
}
