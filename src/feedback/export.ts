/**
 * `compactlm feedback export`: the feedback of one task as a training CSV in the shape `compactlm finetune
 * --train` reads (columns text,label), optionally after the rows of a base training CSV (train + feedback in one
 * file), with the texts of an exclude CSV (the fixed test set) kept out. Which records become rows:
 * training-rows.ts. Written atomically (a temporary file renamed at the end).
 */
import { checkOutputDir, CsvWriter, readCsv } from '../data/csv.js';
import { readLabeledCsv } from '../finetune/labeled-data.js';
import { UserError } from '../util/errors.js';
import { FeedbackStore } from './store.js';
import { trainingRows, type TrainingRowCounts } from './training-rows.js';

export const EXPORT_COLUMNS = ['text', 'label'] as const;

export interface ExportOptions {
  db: string;
  out: string;
  task: string;
  minRating: number;
  /** A labelled CSV whose rows come first (its textColumn and labelColumn); its label set filters the feedback. */
  base?: string;
  /** A CSV whose textColumn texts are left out of the feedback rows. */
  exclude?: string;
  textColumn: string;
  labelColumn: string;
}

export interface ExportSummary extends TrainingRowCounts {
  db: string;
  out: string;
  task: string;
  min_rating: number;
  base_rows: number;
  feedback_rows: number;
  rows: number;
}

export async function exportFeedback(o: ExportOptions): Promise<ExportSummary> {
  await checkOutputDir(o.out);
  const base = o.base !== undefined ? await readLabeledCsv(o.base, { textColumn: o.textColumn, labelColumn: o.labelColumn }) : undefined;
  let exclude: Set<string> | undefined;
  if (o.exclude !== undefined) {
    exclude = new Set();
    for await (const { record } of (await readCsv(o.exclude, { requireColumns: [o.textColumn] })).rows) exclude.add(record[o.textColumn]);
  }
  const store = FeedbackStore.open(o.db);
  let records;
  try {
    records = store.list(o.task);
  } finally {
    store.close();
  }
  const { rows, counts } = trainingRows(records, { minRating: o.minRating, ...(base ? { labels: new Set(base.labels) } : {}), ...(exclude ? { exclude } : {}) });
  if (rows.length === 0 && !base) throw new UserError(`${o.db}: no feedback of task "${o.task}" to train on (${records.length} records, none labelled or rated ≥ ${o.minRating})`);
  const writer = new CsvWriter(o.out, [...EXPORT_COLUMNS]);
  try {
    if (base) for (const [i, text] of base.texts.entries()) await writer.write({ text, label: base.labels[i] });
    for (const r of rows) await writer.write({ text: r.text, label: r.label });
    await writer.commit();
  } catch (e) {
    await writer.abort();
    throw e;
  }
  const baseRows = base?.texts.length ?? 0;
  return { db: o.db, out: o.out, task: o.task, min_rating: o.minRating, ...counts, base_rows: baseRows, feedback_rows: rows.length, rows: baseRows + rows.length };
}
