/**
 * `compactlm eval --task summarize`: ROUGE of a summarization method on a test CSV of documents and reference
 * summaries, next to Lead-k on the same documents (the baseline every paper reports).
 *
 *   const r = await evaluateSummarization({ model, test: 'test.csv', textColumn: 'article', referenceColumn: 'summary',
 *     stem: true, sentences: 3, seed: 42, batchSize: 32 });
 *   r.rouge.centroid.rouge1.f1, r.rouge.centroid.rouge1.f1_ci95, r.rouge.lead.rougeLsum.f1
 *
 * Per document, the summary (chosen sentences in document order, one per line) is scored against the reference
 * with rouge.ts (rouge_score's definitions, --stem as its use_stemmer). Each number is the mean over documents,
 * as rouge_score's BootstrapAggregator reports it, with a percentile-bootstrap 95% interval of that mean
 * (bootstrap.ts, 1000 resamples; one seed, so every metric and method is resampled on the same documents).
 * Values are fractions in [0, 1]; papers print them × 100. Their "ROUGE-L" on CNN/DailyMail is the summary-level
 * one (ROUGE-1.5.5 over sentence-split summaries): compare it with rougeLsum, not rougeL.
 */
import { readCsv } from '../data/csv.js';
import { ROUGE_TYPES, rougeScores, type RougeType } from '../summarize/rouge.js';
import { loadSummarizer, type SummaryMethod } from '../summarize/summarizer.js';
import { atLine, UserError } from '../util/errors.js';
import { bootstrapMeanCi95 } from './bootstrap.js';

export interface SummarizeEvalOptions {
  model: string;
  test: string;
  textColumn: string;
  referenceColumn: string;
  /** Porter-stem tokens (rouge_score's use_stemmer). */
  stem: boolean;
  /** The model's method (default: the folder's, centroid or trained); lead is always scored too. */
  method?: SummaryMethod;
  /** Sentences per summary. */
  sentences: number;
  seed: number;
  batchSize: number;
  threads?: number;
  /** Export folders: onnx/model_quantized.onnx. */
  int8?: boolean;
  /** After each document. */
  onDocument?: (done: number) => void;
}

export interface RougeSummaryStat {
  f1: number;
  f1_ci95: [number, number];
  precision: number;
  recall: number;
}

export interface SummarizeReport {
  task: 'summarize';
  test: string;
  text_column: string;
  reference_column: string;
  n: number;
  method: SummaryMethod;
  sentences: number;
  stem: boolean;
  /** method → ROUGE type → mean F1 (with its interval), precision and recall over the documents. */
  rouge: Partial<Record<SummaryMethod, Record<RougeType, RougeSummaryStat>>>;
  /** Mean sentences per document and mean words (whitespace-separated) per summary, by method. */
  lengths: { document_sentences: number; summary_words: Partial<Record<SummaryMethod, number>> };
  model: { path: string; precision: 'fp32' | 'int8' };
  seed: number;
}

export async function evaluateSummarization(o: SummarizeEvalOptions): Promise<SummarizeReport> {
  const summarizer = await loadSummarizer(o.model, { batchSize: o.batchSize, threads: o.threads, int8: o.int8 });
  try {
    const method = o.method ?? summarizer.defaultMethod;
    const methods: SummaryMethod[] = method === 'lead' ? ['lead'] : [method, 'lead'];
    for (const m of methods) await summarizer.prepare(m);
    const reader = await readCsv(o.test, { requireColumns: [o.textColumn, o.referenceColumn] });
    // per method and ROUGE type: the documents' F1, precision and recall
    const scores = new Map(methods.map((m) => [m, Object.fromEntries(ROUGE_TYPES.map((t) => [t, { f1: [] as number[], p: [] as number[], r: [] as number[] }]))]));
    const words = new Map(methods.map((m) => [m, 0]));
    let sentences = 0;
    let n = 0;
    for await (const { record, line } of reader.rows) {
      const text = record[o.textColumn];
      const reference = record[o.referenceColumn];
      if (text.trim() === '') throw atLine(o.test, line, `column "${o.textColumn}" is empty (nothing to summarize)`);
      if (reference.trim() === '') throw atLine(o.test, line, `column "${o.referenceColumn}" is empty (no reference summary)`);
      for (const m of methods) {
        let summary: string;
        try {
          const r = await summarizer.summarize(text, { method: m, sentences: o.sentences });
          summary = r.summary;
          if (m === methods[0]) sentences += r.num_sentences;
        } catch (e) {
          throw e instanceof UserError ? atLine(o.test, line, `column "${o.textColumn}": ${e.message}`) : e;
        }
        words.set(m, words.get(m)! + summary.split(/\s+/).filter(Boolean).length);
        const s = rougeScores(reference, summary, { stem: o.stem });
        const acc = scores.get(m)!;
        for (const t of ROUGE_TYPES) {
          acc[t].f1.push(s[t].f1);
          acc[t].p.push(s[t].precision);
          acc[t].r.push(s[t].recall);
        }
      }
      n++;
      o.onDocument?.(n);
    }
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const rouge: SummarizeReport['rouge'] = {};
    for (const [m, acc] of scores) {
      rouge[m] = Object.fromEntries(ROUGE_TYPES.map((t) => [t, {
        f1: mean(acc[t].f1), f1_ci95: bootstrapMeanCi95(acc[t].f1, { seed: o.seed }), precision: mean(acc[t].p), recall: mean(acc[t].r),
      }])) as Record<RougeType, RougeSummaryStat>;
    }
    return {
      task: 'summarize',
      test: o.test,
      text_column: o.textColumn,
      reference_column: o.referenceColumn,
      n,
      method,
      sentences: o.sentences,
      stem: o.stem,
      rouge,
      lengths: { document_sentences: sentences / n, summary_words: Object.fromEntries(methods.map((m) => [m, words.get(m)! / n])) },
      model: { path: o.model, precision: o.int8 ? 'int8' : 'fp32' },
      seed: o.seed,
    };
  } finally {
    await summarizer.close();
  }
}

const pct = (x: number) => (100 * x).toFixed(2);

/** The readable summary printed without --json: one row per method, ROUGE F1 × 100 with 95% intervals. */
export function formatSummarizeSummary(r: SummarizeReport): string {
  const lines = [
    `${r.test}: ${r.n} documents (${r.lengths.document_sentences.toFixed(1)} sentences each on average), ${r.sentences}-sentence summaries; ` +
      `model ${r.model.path} (${r.model.precision}); ROUGE F1 × 100${r.stem ? ', Porter-stemmed' : ''}, 95% CI; seed ${r.seed}`,
    `  ${'method'.padEnd(10)}${ROUGE_TYPES.map((t) => t.padStart(22)).join('')}   words`,
  ];
  for (const [m, s] of Object.entries(r.rouge)) {
    const cells = ROUGE_TYPES.map((t) => `${pct(s[t].f1)} (${pct(s[t].f1_ci95[0])}–${pct(s[t].f1_ci95[1])})`.padStart(22));
    lines.push(`  ${m.padEnd(10)}${cells.join('')}   ${(r.lengths.summary_words[m as SummaryMethod] ?? 0).toFixed(1)}`);
  }
  return `${lines.join('\n')}\n`;
}
