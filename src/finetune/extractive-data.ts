/**
 * Training data for `finetune --task extractive` and BertSumExt's input layout (Liu & Lapata 2019), which the
 * `trained` summarizer (summarize/trained.ts) feeds the same way:
 *
 *   const docs = await readExtractiveCsv('pairs.csv', { textColumn: 'article', summaryColumn: 'summary' });
 *   const ex = encodeExtractive(tokenizer, docs, 512);
 *
 * 1. Each document is split into sentences (summarize/sentences.ts) and labelled with the greedy ROUGE oracle
 *    against its reference summary (summarize/oracle.ts, at most 3 sentences, unstemmed, as PreSumm's
 *    `greedy_selection`): 1 for the chosen sentences, 0 for the rest.
 * 2. Input: `[CLS] s1 [SEP] [CLS] s2 [SEP] …` with interval segment ids (token_type_ids 0 for s1, 1 for s2, 0 for
 *    s3, …), whole sentences only, up to maxLength tokens; the [CLS] positions say where each sentence's vector
 *    is. Training uses each document's first window, as BertSumExt truncates to 512 tokens: sentences past it are
 *    dropped with their labels (counted in `truncated`). A sentence longer than a window by itself keeps its first
 *    maxLength − 2 tokens (the only place a sentence is cut). Inference windows (`sentenceWindows`) cover the rest.
 */
import { readCsv } from '../data/csv.js';
import { greedyOracle } from '../summarize/oracle.js';
import { splitSentences } from '../summarize/sentences.js';
import type { Tokenizer } from '../tokenizer/tokenizer.js';
import { atLine, UserError } from '../util/errors.js';

/** Sentences the oracle labels 1 at most (BertSumExt: 3, the length of a CNN/DailyMail highlight). */
export const ORACLE_SENTENCES = 3;

export interface ExtractiveColumns {
  textColumn: string;
  summaryColumn: string;
}

export interface ExtractiveDoc {
  /** 1-based file line, for messages. */
  line: number;
  sentences: string[];
  reference: string;
  /** Oracle label of each sentence (1 = in the summary). */
  labels: number[];
}

/** Reads and labels a CSV of documents and reference summaries; a bad row is one line naming file, line and column. */
export async function readExtractiveCsv(file: string, cols: ExtractiveColumns): Promise<ExtractiveDoc[]> {
  if (cols.textColumn === cols.summaryColumn) throw new UserError(`${file}: the text and summary columns are both "${cols.textColumn}"`);
  const reader = await readCsv(file, { requireColumns: [cols.textColumn, cols.summaryColumn] });
  const docs: ExtractiveDoc[] = [];
  for await (const { record, line } of reader.rows) {
    const text = record[cols.textColumn];
    const reference = record[cols.summaryColumn];
    if (text.trim() === '') throw atLine(file, line, `empty text in column "${cols.textColumn}"`);
    if (reference.trim() === '') throw atLine(file, line, `empty summary in column "${cols.summaryColumn}" (the oracle labels need a reference)`);
    const sentences = splitSentences(text).map((s) => s.text);
    if (sentences.length === 0) throw atLine(file, line, `column "${cols.textColumn}" has no sentences (no letters or digits)`);
    const picked = new Set(greedyOracle(sentences, reference, { maxSentences: ORACLE_SENTENCES }));
    docs.push({ line, sentences, reference, labels: sentences.map((_, i) => (picked.has(i) ? 1 : 0)) });
  }
  if (!docs.some((d) => d.labels.includes(1))) {
    throw new UserError(`${file}: no sentence of any document shares a word with its "${cols.summaryColumn}": nothing to learn`);
  }
  return docs;
}

/** One encoder input: whole sentences `first … first + count − 1` in BertSumExt's layout. */
export interface SentenceWindow {
  ids: number[];
  typeIds: number[];
  /** Position of each sentence's [CLS] in `ids`. */
  clsPositions: number[];
  first: number;
  count: number;
  /** Leading sentences that are only context (scored in an earlier window): 0 in a document's first window. */
  context: number;
}

/** The longest run of whole sentences from `first` that fits in `maxLength` tokens (at least that one sentence, cut). */
export function packWindow(sentenceIds: readonly (readonly number[])[], first: number, maxLength: number, tok: Pick<Tokenizer, 'clsId' | 'sepId'>): SentenceWindow {
  const w: SentenceWindow = { ids: [], typeIds: [], clsPositions: [], first, count: 0, context: 0 };
  for (let i = first; i < sentenceIds.length; i++) {
    const content = sentenceIds[i].slice(0, maxLength - 2);
    if (w.count > 0 && w.ids.length + content.length + 2 > maxLength) break;
    w.clsPositions.push(w.ids.length);
    w.ids.push(tok.clsId, ...content, tok.sepId);
    for (let t = 0; t < content.length + 2; t++) w.typeIds.push(w.count % 2);
    w.count++;
  }
  return w;
}

/**
 * Windows that score every sentence once, in order, for a document longer than one window. Positions restart in
 * each window, and a model trained on documents' first windows reads "near the start of the window" as "near the
 * start of the document" (the lead). So each later window starts with left context, as long-document readers
 * stride: the whole sentences just before it, up to half a window, fed but not scored (`context`), and its own
 * sentences sit in the second half, where first windows hold mid-document sentences too. A sentence that does
 * not fit behind that context gets a window without it.
 */
export function sentenceWindows(sentenceIds: readonly (readonly number[])[], maxLength: number, tok: Pick<Tokenizer, 'clsId' | 'sepId'>): SentenceWindow[] {
  const size = (i: number) => Math.min(sentenceIds[i].length, maxLength - 2) + 2;
  const out: SentenceWindow[] = [];
  for (let next = 0; next < sentenceIds.length; ) {
    let start = next;
    for (let ctx = 0; start > 0 && ctx + size(start - 1) <= maxLength / 2; start--) ctx += size(start - 1);
    let w = packWindow(sentenceIds, start, maxLength, tok);
    if (start + w.count <= next) w = packWindow(sentenceIds, (start = next), maxLength, tok);
    w.context = next - start;
    out.push(w);
    next = start + w.count;
  }
  return out;
}

/** Training/validation examples: one window per document (its first), with the labels of its sentences. */
export interface ExtractiveExamples {
  ids: number[][];
  typeIds: number[][];
  clsPositions: number[][];
  labels: number[][];
  /** The sentences each window holds and the reference (validation ROUGE of the picked sentences). */
  sentences: string[][];
  references: string[];
  /** Documents whose sentences did not all fit. */
  truncated: number;
  /** Oracle sentences dropped with them. */
  droppedPositives: number;
  /** Longest window in tokens, and most sentences in one. */
  longest: number;
  maxSentences: number;
}

export function encodeExtractive(tok: Pick<Tokenizer, 'ids' | 'clsId' | 'sepId'>, docs: readonly ExtractiveDoc[], maxLength: number): ExtractiveExamples {
  const out: ExtractiveExamples = { ids: [], typeIds: [], clsPositions: [], labels: [], sentences: [], references: [], truncated: 0, droppedPositives: 0, longest: 0, maxSentences: 0 };
  for (const d of docs) {
    const w = firstWindow(tok, d.sentences, maxLength);
    out.ids.push(w.ids);
    out.typeIds.push(w.typeIds);
    out.clsPositions.push(w.clsPositions);
    out.labels.push(d.labels.slice(0, w.count));
    out.sentences.push(d.sentences.slice(0, w.count));
    out.references.push(d.reference);
    if (w.count < d.sentences.length) {
      out.truncated++;
      out.droppedPositives += d.labels.slice(w.count).reduce((a, b) => a + b, 0);
    }
    out.longest = Math.max(out.longest, w.ids.length);
    out.maxSentences = Math.max(out.maxSentences, w.count);
  }
  return out;
}

/** The first window of a document (sentences past the first that cannot fit are not tokenized). */
function firstWindow(tok: Pick<Tokenizer, 'ids' | 'clsId' | 'sepId'>, sentences: readonly string[], maxLength: number): SentenceWindow {
  const ids: number[][] = [];
  let tokens = 0;
  for (const s of sentences) {
    if (tokens >= maxLength) break;
    const t = tok.ids(s);
    ids.push(t);
    tokens += t.length + 2;
  }
  return packWindow(ids, 0, maxLength, tok);
}
