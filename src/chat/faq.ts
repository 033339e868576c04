/**
 * FAQ retrieval: the user's message is encoded like the FAQ's questions and answered with the row whose question
 * is most similar to it.
 *
 *   const faq = await readFaq('datasets/shop-faq.csv');                  // validated rows
 *   const index = await loadFaqIndex(faq, embedder, fingerprint);        // question vectors (faq-cache.ts)
 *   const [query] = await embedAll(embedder, ['where is my parcel?']);
 *   index.rank(query);   // [{ row, line, question, answer, intent?, score }, …]: each topic once, best first
 *
 * File: a CSV with the columns `question` and `answer` (and optionally `intent`); other columns are ignored. Every
 * row needs a non-empty question and answer (and intent, when that column is there); no two rows may ask the same
 * question (compared without case, surrounding spaces or final punctuation). Each problem is one line naming the
 * file, the line and the row.
 *
 * Vectors: the Embedder's mean-pooled last hidden state, L2-normalised, so similarity is the cosine (a dot
 * product). A *topic* is an intent when the FAQ has that column, else an answer text: paraphrased questions of one
 * topic share it, and ranking returns each topic once, by its best question.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { readCsv } from '../data/csv.js';
import type { Embedder } from '../infer/embed.js';
import { atLine, fsError } from '../util/errors.js';

export const FAQ_COLUMNS = { question: 'question', answer: 'answer', intent: 'intent' } as const;

export interface FaqRow {
  /** 1-based data row (the header is row 0), as ChatAnswer.source names it. */
  row: number;
  /** 1-based line of the file where the row starts. */
  line: number;
  question: string;
  answer: string;
  intent?: string;
}

export interface Faq {
  file: string;
  rows: FaqRow[];
  hasIntent: boolean;
  /** sha256 of the file's bytes (the cache key's FAQ half). */
  sha256: string;
}

/** One topic of a ranking: the best-scoring row of an intent (or answer), and its cosine similarity. */
export interface FaqMatch extends FaqRow {
  score: number;
}

/** How two questions are compared for duplicates: case, spacing and final punctuation do not make a new question. */
export function questionKey(question: string): string {
  return question.normalize('NFKC').toLowerCase().replace(/\s+/g, ' ').trim().replace(/[\s.?!]+$/, '');
}

/** Reads and validates an FAQ CSV (see the file comment); the first problem is a UserError naming file:line. */
export async function readFaq(file: string): Promise<Faq> {
  const reader = await readCsv(file, { requireColumns: [FAQ_COLUMNS.question, FAQ_COLUMNS.answer] });
  const hasIntent = reader.header.includes(FAQ_COLUMNS.intent);
  const rows: FaqRow[] = [];
  const seen = new Map<string, FaqRow>();
  for await (const { record, row, line } of reader.rows) {
    const cell = (column: string) => {
      const v = record[column].trim();
      if (v === '') throw atLine(file, line, `row ${row}: empty ${column}${column === FAQ_COLUMNS.intent ? ' (the file has an intent column: give every row one, or drop the column)' : ''}`);
      return v;
    };
    const r: FaqRow = { row, line, question: cell(FAQ_COLUMNS.question), answer: cell(FAQ_COLUMNS.answer), ...(hasIntent ? { intent: cell(FAQ_COLUMNS.intent) } : {}) };
    const key = questionKey(r.question);
    const first = seen.get(key);
    if (first) throw atLine(file, line, `row ${row}: duplicate question ${JSON.stringify(r.question)} (row ${first.row}, line ${first.line} asks the same)`);
    seen.set(key, r);
    rows.push(r);
  }
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (e) {
    throw fsError(e, file);
  }
  return { file, rows, hasIntent, sha256: createHash('sha256').update(bytes).digest('hex') };
}

/** The topic a row belongs to: its intent, else its answer. */
export function topicOf(r: FaqRow): string {
  return r.intent ?? r.answer;
}

/** v / ‖v‖ as float32 (a zero vector stays zero). */
export function l2Normalize(v: ArrayLike<number>): Float32Array {
  let ss = 0;
  for (let i = 0; i < v.length; i++) ss += v[i] * v[i];
  const inv = ss > 0 ? 1 / Math.sqrt(ss) : 0;
  return Float32Array.from(v, (x) => x * inv);
}

/** Normalised embeddings of many texts, in runs the model allows (one text per run for int8 exports). */
export async function embedAll(embedder: Embedder, texts: readonly string[], o: { batch?: number; onProgress?: (done: number) => void } = {}): Promise<Float32Array[]> {
  const size = Math.max(1, Math.min(o.batch ?? 32, embedder.task().maxBatch));
  const out: Float32Array[] = [];
  for (let i = 0; i < texts.length; i += size) {
    for (const r of await embedder.embedBatch(texts.slice(i, i + size))) out.push(l2Normalize(r.embedding));
    o.onProgress?.(out.length);
  }
  return out;
}

/** The FAQ's normalised question vectors, and ranking against them. */
export class FaqIndex {
  readonly dim: number;

  /** `vectors`: one L2-normalised row per FAQ row, [rows × dim] row-major. */
  constructor(readonly faq: Faq, readonly vectors: Float32Array) {
    this.dim = faq.rows.length ? vectors.length / faq.rows.length : 0;
    if (!Number.isInteger(this.dim) || this.dim * faq.rows.length !== vectors.length) {
      throw new Error(`FaqIndex: ${vectors.length} values for ${faq.rows.length} rows`);
    }
  }

  /** Cosine similarity of a normalised query to every FAQ row. */
  scores(query: Float32Array): Float64Array {
    const { dim, vectors } = this;
    if (query.length !== dim) throw new Error(`FaqIndex: query of ${query.length} dims, FAQ vectors have ${dim}`);
    const out = new Float64Array(this.faq.rows.length);
    for (let r = 0; r < out.length; r++) {
      let dot = 0;
      const off = r * dim;
      for (let h = 0; h < dim; h++) dot += query[h] * vectors[off + h];
      out[r] = dot;
    }
    return out;
  }

  /** Topics for a normalised query, best first, each once (its best row); ties: the earlier row. */
  rank(query: Float32Array): FaqMatch[] {
    const s = this.scores(query);
    const order = Array.from(s.keys()).sort((a, b) => s[b] - s[a] || a - b);
    const seen = new Set<string>();
    const out: FaqMatch[] = [];
    for (const i of order) {
      const r = this.faq.rows[i];
      const topic = topicOf(r);
      if (seen.has(topic)) continue;
      seen.add(topic);
      out.push({ ...r, score: s[i] });
    }
    return out;
  }
}
