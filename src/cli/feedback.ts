import { statSync } from 'node:fs';
import type { Command } from 'commander';
import { checkOutputDir } from '../data/csv.js';
import { exportFeedback, type ExportOptions } from '../feedback/export.js';
import { readFeedbackCsv } from '../feedback/import-csv.js';
import { checkInto, formatPromote, GATE_METRICS, promoteIfBetter, type PromoteOptions } from '../feedback/promote.js';
import { FeedbackStore, RATING_MAX, RATING_MIN } from '../feedback/store.js';
import { MODEL_MAX_LENGTH } from '../tokenizer/truncate.js';
import { writeFileAtomic } from '../util/atomic.js';
import { choice, example, float, frozen, globals, int, nonEmpty, refuseOverwritingInputs, usageError } from './options.js';
import { samePath } from './output-guard.js';

/** Tasks whose feedback can be exported as training rows (the ones `finetune` trains). */
const EXPORT_TASKS = ['classify'] as const;
/** Default --min-rating: a rating of 4 or 5 (of 1–5) approves the model's output as the label. */
export const DEFAULT_MIN_RATING = 4;

interface ImportFlags {
  db: string;
  task: (typeof EXPORT_TASKS)[number];
  json: boolean;
}

/** Commander's flags: the library's options plus --json. */
type ExportFlags = ExportOptions & { json: boolean };

/** Commander's flags: the library's options, the seed and outputs resolved at the CLI. */
type PromoteFlags = Omit<PromoteOptions, 'intoIsCurrent' | 'seed'> & { seed?: number; report?: string; json: boolean };

function requireFolder(flag: string, dir: string): void {
  const st = statSync(dir, { throwIfNoEntry: false });
  if (!st) throw usageError(`${flag} ${dir}: not found`);
  if (!st.isDirectory()) throw usageError(`${flag} ${dir}: is a file, not a model folder`);
}

/**
 * `compactlm feedback …`: the feedback loop (library: src/feedback/). `serve --feedback-db` appends what users
 * say; `export` turns it into training rows; `promote` ships a model fine-tuned on them only if it does not
 * regress on the fixed test set; `import` loads labelled rows from a CSV as if users had sent them.
 */
export function registerFeedback(program: Command): void {
  const feedback = program
    .command('feedback')
    .description('The feedback loop: export what users said (serve --feedback-db) as training rows, and promote a model fine-tuned on them only if it does not regress.');

  const imp = feedback
    .command('import')
    .description('Append labelled rows of a CSV (columns text,label; optional rating 1–5) to a feedback database (created if missing), ' +
      'as if users had sent them. All rows or none; a row imported before is not added again.')
    .argument('<csv>', 'CSV with columns text, label (and optionally rating)')
    .requiredOption('--db <sqlite>', 'feedback database (SQLite)', nonEmpty)
    .option('--task <name>', `task the rows are feedback on: ${EXPORT_TASKS.join(' | ')}`, choice(EXPORT_TASKS), 'classify')
    .option('--json', 'print the summary as JSON on stdout', false)
    .action(async (csv: string, o: ImportFlags) => {
      refuseOverwritingInputs([{ what: '--db', path: o.db }], [{ what: 'the input', path: csv }]);
      const records = await readFeedbackCsv(csv, o.task);
      const store = FeedbackStore.open(o.db, { create: true });
      try {
        const ids = store.addMany(records, { origin: true });
        const added = ids.filter((id) => id !== null).length;
        const summary = { input: csv, db: o.db, task: o.task, rows: records.length, added, existing: records.length - added, db_records: store.count() };
        process.stdout.write(o.json ? `${JSON.stringify(summary)}\n`
          : `${csv}: ${records.length} rows → ${o.db} (${added} new, ${summary.existing} imported before; ${summary.db_records} records in all)\n`);
      } finally {
        store.close();
      }
    });
  example(imp, 'compactlm feedback import datasets/feedback.csv --db runs/feedback/feedback.sqlite');

  const exp = feedback
    .command('export')
    .description('Write the feedback of a task as a training CSV (columns text,label, as `finetune --train` reads): rows with a label ' +
      'given by the user, and rows rated ≥ --min-rating with the model\'s own output as the label; the latest feedback on a text wins.')
    .requiredOption('--db <sqlite>', 'feedback database (SQLite)', nonEmpty)
    .requiredOption('-o, --out <csv>', 'training CSV to write', nonEmpty)
    .option('--task <name>', EXPORT_TASKS.join(' | '), choice(EXPORT_TASKS), 'classify')
    .option('--min-rating <x>', `rating (${RATING_MIN}–${RATING_MAX}) from which an unlabelled output counts as right`, float(RATING_MIN, RATING_MAX), DEFAULT_MIN_RATING)
    .option('--base <csv>', 'labelled CSV whose rows come first (e.g. the training split: train + feedback in one file); feedback with a label outside its labels is skipped', nonEmpty)
    .option('--exclude <csv>', 'CSV whose texts are left out of the feedback rows (the fixed test set, so the gate stays fair)', nonEmpty)
    .option('--text-column <col>', '--base and --exclude: column with the text', nonEmpty, 'text')
    .option('--label-column <col>', '--base: column with the label', nonEmpty, 'label')
    .option('--json', 'print the summary as JSON on stdout', false)
    .action(async (o: ExportFlags) => {
      const inputs = [{ what: '--db', path: o.db }, ...(o.base ? [{ what: '--base', path: o.base }] : []), ...(o.exclude ? [{ what: '--exclude', path: o.exclude }] : [])];
      refuseOverwritingInputs([{ what: '-o', path: o.out }], inputs);
      const s = frozen({ db: o.db, out: o.out, task: o.task, minRating: o.minRating, textColumn: o.textColumn, labelColumn: o.labelColumn,
        ...(o.base !== undefined ? { base: o.base } : {}), ...(o.exclude !== undefined ? { exclude: o.exclude } : {}) });
      const r = await exportFeedback(s);
      const skipped = [['no label or rating ≥ ' + r.min_rating, r.unlabelled], ['not one text', r.not_text], ['label not in --base', r.unknown_label],
        ['in --exclude', r.excluded], ['superseded by later feedback', r.superseded]].filter(([, n]) => n).map(([why, n]) => `${n} ${why}`);
      process.stdout.write(o.json ? `${JSON.stringify(r)}\n`
        : `${r.out}: ${r.rows} rows (${r.base_rows ? `${r.base_rows} from ${o.base} + ` : ''}${r.feedback_rows} feedback: ${r.labelled} labelled, ` +
          `${r.rated} rated ≥ ${r.min_rating}) from ${r.records} "${r.task}" records in ${r.db}${skipped.length ? `; skipped ${skipped.join(', ')}` : ''}\n`);
    });
  example(exp,
    'compactlm feedback export --db feedback.sqlite -o feedback.csv',
    'compactlm feedback export --db feedback.sqlite --base data/train.csv --exclude data/test.csv -o train+feedback.csv');

  const promote = feedback
    .command('promote')
    .description('The gate of the improvement loop: evaluate the candidate and the current classifier on the fixed test set (as `compactlm eval`); ' +
      'copy the candidate into --into only if it does not regress, else --into holds the current model. Reports both scores; exit 0 either way.')
    .requiredOption('--candidate <dir>', 'the new classifier (model or export folder)', nonEmpty)
    .requiredOption('--current <dir>', 'the classifier in place now', nonEmpty)
    .requiredOption('--test <csv>', 'the fixed test CSV (text and label columns)', nonEmpty)
    .requiredOption('--into <dir>', 'where the model to ship goes: the candidate if it passes, else the current one (may be --current itself)', nonEmpty)
    .option('--metric <name>', GATE_METRICS.join(' | '), choice(GATE_METRICS), 'accuracy')
    .option('--tolerance <x>', 'how much lower the candidate may score and still pass (0: any drop is a regression)', float(0, 1), 0)
    .option('--text-column <col>', 'column with the text', nonEmpty, 'text')
    .option('--label-column <col>', 'column with the true label', nonEmpty, 'label')
    .option('--max-length <n>', `tokens per text (3–${MODEL_MAX_LENGTH})`, int(3, MODEL_MAX_LENGTH), 128)
    .option('--batch-size <n>', 'texts per run', int(1, 4096), 32)
    .option('--seed <n>', 'seed of eval\'s bootstrap and perturbations (default: the global --seed, 42)', int(0, 2 ** 32 - 1))
    .option('--report <file>', 'write the decision report as JSON to this file', nonEmpty)
    .option('--json', 'print the report as JSON on stdout (instead of the one line)', false)
    .addHelpText('after', `
Report (--json, --report): decision (promoted | refused), metric, tolerance, test, n, candidate and current {model,
accuracy, accuracy_ci95, macro_f1}, delta (candidate − current), into, into_holds (candidate | current), seed, reason.`)
    .action(async (o: PromoteFlags, command: Command) => {
      requireFolder('--candidate', o.candidate);
      requireFolder('--current', o.current);
      if (samePath(o.candidate, o.current)) throw usageError(`--candidate and --current are the same folder ${o.candidate}`);
      if (samePath(o.into, o.candidate)) throw usageError(`--into ${o.into} is --candidate: give the folder the model is shipped from`);
      const inputs = [{ what: '--test', path: o.test }, { what: '--candidate', path: o.candidate }];
      refuseOverwritingInputs([{ what: '--into', path: o.into }], inputs);
      if (o.report !== undefined) {
        refuseOverwritingInputs([{ what: '--report', path: o.report }], [...inputs, { what: '--current', path: o.current }]);
        await checkOutputDir(o.report);
      }
      checkInto(o.into);
      const s = frozen({ candidate: o.candidate, current: o.current, test: o.test, into: o.into, intoIsCurrent: samePath(o.into, o.current),
        metric: o.metric, tolerance: o.tolerance, textColumn: o.textColumn, labelColumn: o.labelColumn, maxLength: o.maxLength,
        batchSize: o.batchSize, seed: o.seed ?? globals(command).seed });
      const r = await promoteIfBetter(s);
      const json = `${JSON.stringify(r, null, 2)}\n`;
      if (o.report !== undefined) await writeFileAtomic(o.report, json);
      process.stdout.write(o.json ? json : formatPromote(r));
    });
  example(promote,
    'compactlm feedback promote --candidate runs/models/candidate --current runs/models/prod --into runs/models/prod --test data/test.csv --report promote.json');
}
