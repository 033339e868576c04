import type { Command } from 'commander';
import { checkOutputDir } from '../data/csv.js';
import { DEFAULT_MODEL_NAME, packagePath } from '../model/default-model.js';
import { DEVICES, type Device } from '../runtime/session.js';
import { summarizeCsv } from '../summarize/summarize-csv.js';
import { checkMethod, DEFAULT_SUMMARY_SENTENCES, loadSummarizer, SUMMARY_METHODS, type SummaryMethod } from '../summarize/summarizer.js';
import { UserError } from '../util/errors.js';
import { log } from '../util/log.js';
import { progress, type Progress } from '../util/progress.js';
import { DEFAULT_TEXT_COLUMN } from './defaults.js';
import { modelDir } from './infer.js';
import { choice, example, float, frozen, given, int, nonEmpty, refuseOverwritingInputs, usageError } from './options.js';

interface SummarizeFlags {
  model?: string;
  sentences?: number;
  ratio?: number;
  method?: SummaryMethod;
  json: boolean;
  input?: string;
  textColumn: string;
  summaryColumn: string;
  output?: string;
  batchSize: number;
  int8: boolean;
  device: Device;
  threads?: number;
}

export interface SummarizeSettings {
  model: string;
  /** undefined: the folder's default (trained for a `task: extractive` folder, else centroid). */
  method?: SummaryMethod;
  length: { sentences?: number; ratio?: number };
  json: boolean;
  /** One document: the argument, or stdin when neither it nor --input is given. */
  text?: string;
  csv?: { input: string; output: string; textColumn: string; summaryColumn: string };
  session: { int8: boolean; device: Device; threads?: number; batchSize: number };
}

const CSV_ONLY: [key: keyof SummarizeFlags, flag: string][] = [['textColumn', '--text-column'], ['summaryColumn', '--summary-column'], ['output', '-o']];

/** The checked, frozen settings `summarize` runs with. */
export function summarizeSettings(text: string | undefined, o: SummarizeFlags, command: Command): Readonly<SummarizeSettings> {
  if (o.sentences !== undefined && o.ratio !== undefined) throw usageError('give either --sentences or --ratio, not both');
  if (text !== undefined && o.input !== undefined) throw usageError('give either a text argument or --input <csv>, not both');
  if (text !== undefined && text.trim() === '') throw new UserError('the text is empty: nothing to summarize');
  if (o.input === undefined) {
    for (const [key, flag] of CSV_ONLY) if (given(command, key)) throw usageError(`${flag} goes with --input <csv> (summaries of a CSV column)`);
  } else if (o.output === undefined) {
    throw usageError('--input needs -o <file>: the CSV to write (every input column plus the summary)');
  }
  if (o.input !== undefined) refuseOverwritingInputs([{ what: '-o', path: o.output! }], [{ what: '--input', path: o.input }]);
  const length = o.ratio !== undefined ? { ratio: o.ratio } : { sentences: o.sentences ?? DEFAULT_SUMMARY_SENTENCES };
  return frozen({
    model: modelDir(o.model),
    ...(o.method !== undefined ? { method: o.method } : {}),
    length: frozen(length),
    json: o.json,
    ...(text !== undefined ? { text } : {}),
    ...(o.input !== undefined
      ? { csv: frozen({ input: o.input, output: o.output!, textColumn: o.textColumn, summaryColumn: o.summaryColumn }) }
      : {}),
    session: frozen({ int8: o.int8, device: o.device, batchSize: o.batchSize, ...(o.threads !== undefined ? { threads: o.threads } : {}) }),
  });
}

/**
 * `compactlm summarize`: extractive summaries (library: src/summarize/). One document (the argument or stdin) →
 * its sentences, one per line, or with --json {summary, method, sentences: [{index, text, start, end, score}],
 * num_sentences}; a CSV (--input, -o) → the same CSV with a summary column.
 */
export function registerSummarize(program: Command): void {
  const cmd = program
    .command('summarize')
    .description('Extractive summary of a text: the sentences that carry it, verbatim and in document order, chosen by ' +
      'similarity to the whole document (centroid, with MMR against repeats), by position (lead) or by a fine-tuned ' +
      'sentence classifier (trained). One text (argument or stdin), or a CSV column (--input, -o).')
    .argument('[text]', 'the document; without it, read from stdin (or --input <csv>)')
    .option('--model <dir>', `model folder or export folder; default: ${DEFAULT_MODEL_NAME}`, nonEmpty)
    .option('--sentences <n>', `sentences in the summary (default ${DEFAULT_SUMMARY_SENTENCES})`, int(1, 1_000_000))
    .option('--ratio <r>', 'or: this share of the document\'s sentences, in (0, 1] (rounded, at least 1)', float(0, 1, { exclusiveMin: true }))
    .option('--method <name>', `${SUMMARY_METHODS.join(' | ')} (default: trained for a folder from \`finetune --task extractive\`, else centroid)`, choice(SUMMARY_METHODS))
    .option('--json', 'one document: print {summary, method, sentences, num_sentences} as JSON; CSV: the run\'s summary', false)
    .option('--input <csv>', 'summarize a column of this CSV (streamed) into -o', nonEmpty)
    .option('--text-column <col>', 'with --input: the column holding the documents', nonEmpty, DEFAULT_TEXT_COLUMN)
    .option('--summary-column <col>', 'with --input: the column added for the summaries', nonEmpty, 'summary')
    .option('-o, --output <file>', 'with --input: output CSV (every input column plus the summary column; written atomically)', nonEmpty)
    .option('--batch-size <n>', 'sentences per encoder run', int(1, 4096), 32)
    .option('--int8', 'export folders: run onnx/model_quantized.onnx (one sentence per run)', false)
    .option('--device <name>', `execution provider: ${DEVICES.join(' | ')}`, choice(DEVICES), 'cpu')
    .option('--threads <n>', 'ONNX Runtime intra-op threads (default: one per core)', int(1, 1024))
    .addHelpText('after', `
Sentences are split at . ! ? and ellipses (not after Mr., e.g., U.S., initials or in 3.5), at blank lines and at
list items; each comes back exactly as in the text, with its offsets. A document shorter than the summary comes
back whole. The summary joins the chosen sentences with newlines (the layout ROUGE-Lsum reads).`)
    .action(async (text: string | undefined, flags: SummarizeFlags, command: Command) => {
      const s = summarizeSettings(text, flags, command);
      if (s.csv) await checkOutputDir(s.csv.output);
      const summarizer = await loadSummarizer(s.model, s.session);
      try {
        const method = s.method ?? summarizer.defaultMethod;
        checkMethod(packagePath(s.model), summarizer.methods, method);
        await summarizer.prepare(method);
        if (s.csv) {
          let bar: Progress | undefined;
          const r = await summarizeCsv(summarizer, { ...s.csv, method, ...s.length, onRow: (rows) => (bar ??= progress('summarize', 0, 'rows')).update(rows) })
            .finally(() => bar?.stop());
          log().info({ ...r, seconds: +r.seconds.toFixed(3) }, `summarize: ${r.rows} rows (${method}) → ${r.output}`);
          if (s.json) process.stdout.write(`${JSON.stringify(r)}\n`);
          return;
        }
        const doc = s.text ?? (await readStdin());
        const r = await summarizer.summarize(doc, { method, ...s.length });
        process.stdout.write(s.json ? `${JSON.stringify(r)}\n` : `${r.sentences.map((x) => x.text).join('\n')}\n`);
      } finally {
        await summarizer.close();
      }
    });
  example(cmd,
    `compactlm summarize "$(cat article.txt)"                                   # 3 sentences, centroid, ${DEFAULT_MODEL_NAME}`,
    'cat article.txt | compactlm summarize --method lead --sentences 2',
    'compactlm summarize "$(cat speech.txt)" --ratio 0.05 --json',
    'compactlm summarize --input docs.csv --text-column article -o summaries.csv --model runs/mini-export --int8');
}

/** The whole of stdin as one UTF-8 document (one line if it is a terminal: nothing to read). */
async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) throw new UserError('no text: give one as an argument, pipe a document on stdin, or use --input <csv> -o <file>');
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks));
  } catch {
    throw new UserError('<stdin>: not valid UTF-8');
  }
}
