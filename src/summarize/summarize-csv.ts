/**
 * `compactlm summarize --input docs.csv -o summaries.csv`: one summary per row, streamed (mapCsv: every input
 * column kept, the summary column added, the output renamed into place only when every row succeeded).
 * A row whose text is empty, or an input that already has the summary column (a reference summary would be
 * overwritten), is an error naming the file and line; nothing is written then.
 */
import { mapCsv } from '../data/csv.js';
import { atLine, UserError } from '../util/errors.js';
import type { Summarizer, SummaryMethod } from './summarizer.js';

export interface SummarizeCsvOptions {
  input: string;
  output: string;
  textColumn: string;
  /** The column added to the output. */
  summaryColumn: string;
  method: SummaryMethod;
  sentences?: number;
  ratio?: number;
  /** After each row: rows done so far. */
  onRow?: (rows: number) => void;
}

export interface SummarizeCsvSummary {
  input: string;
  output: string;
  rows: number;
  method: SummaryMethod;
  seconds: number;
}

export async function summarizeCsv(summarizer: Summarizer, o: SummarizeCsvOptions): Promise<SummarizeCsvSummary> {
  let rows = 0;
  const done = await mapCsv({
    input: o.input,
    output: o.output,
    requireColumns: [o.textColumn],
    addColumns: [o.summaryColumn],
    map: async ({ record, line }) => {
      if (rows === 0 && Object.hasOwn(record, o.summaryColumn)) {
        throw atLine(o.input, 1, `already has a column "${o.summaryColumn}": choose another name for the summaries with --summary-column`);
      }
      const text = record[o.textColumn];
      if (text.trim() === '') throw atLine(o.input, line, `column "${o.textColumn}" is empty (nothing to summarize)`);
      let summary: string;
      try {
        summary = (await summarizer.summarize(text, { method: o.method, sentences: o.sentences, ratio: o.ratio })).summary;
      } catch (e) {
        throw e instanceof UserError ? atLine(o.input, line, `column "${o.textColumn}": ${e.message}`) : e;
      }
      rows++;
      o.onRow?.(rows);
      return { [o.summaryColumn]: summary };
    },
  });
  return { input: o.input, output: o.output, rows: done.rowsIn, method: o.method, seconds: done.seconds };
}
