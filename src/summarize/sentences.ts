/**
 * Sentence splitting for extractive summaries: every sentence is an exact substring of the text, with its
 * character offsets, in document order (`text.slice(start, end) === sentence.text`).
 *
 *   splitSentences('Mr. Smith paid $3.50. He left.')
 *   → [{ text: 'Mr. Smith paid $3.50.', start: 0, end: 21 }, { text: 'He left.', start: 22, end: 30 }]
 *
 * Two passes:
 * 1. Blocks. A blank line ends a block, and so does every list item: a line that starts with a bullet (-, *, •, …)
 *    or a number or letter marker ("1.", "2)", "a)") is a block of its own (the marker is not part of its
 *    sentences), continued by the indented lines under it. Any other single newline is a space: hard-wrapped text
 *    keeps its sentences whole.
 * 2. Inside a block, a sentence ends after . ! ? or an ellipsis (... or …), and any closing quotes or brackets
 *    right after it, when whitespace and a sentence start follow: a capital, a digit, an amount ($5) or a letter of
 *    a script without case, perhaps behind an opening quote or bracket. A lower-case word after the mark never starts a
 *    sentence ("e.g. a cat", "etc. and so on", `"Why?" she asked`). After a period, the word it ends decides:
 *    titles (Mr., Dr., Gen., e.g., vs.) never end a sentence; "No.", "Jan.", "p." do not before a number;
 *    initials ("J. K. Rowling", "George W. Bush"), dotted acronyms (U.S., a.m.) and abbreviations that also close
 *    sentences (etc., Inc., Jr.) end one only when the next word is a common sentence opener (The, He, But, …).
 *    Decimals (3.5) and URLs never split, as no whitespace follows their periods. 。！？ end a sentence anywhere.
 * Sentences are trimmed of surrounding whitespace; a span without a letter or digit ("***", "—") is dropped.
 */

export interface Sentence {
  /** Exactly `document.slice(start, end)`. */
  text: string;
  /** Offset of the first character in the document (UTF-16 code units, as String.prototype.slice counts). */
  start: number;
  /** Offset just past the last character. */
  end: number;
}

/** Titles and abbreviations that a name or word always follows: a period after them never ends a sentence. */
const TITLES = new Set((
  'mr mrs ms mx messrs mmes dr prof rev hon st sen rep gov gen col capt cmdr lt sgt maj adm brig cpl pvt fr pres ' +
  'supt insp mt ft vs cf viz al approx dept univ assn e.g i.e ie eg'
).split(' '));

/** Abbreviations that a number follows ("No. 5", "Jan. 12", "p. 3"): not a sentence end before a digit. */
const BEFORE_NUMBER = new Set((
  'no nos nr vol vols p pp fig figs ch sec art tel ext op jan feb mar apr jun jul aug sep sept oct nov dec ca est'
).split(' '));

/** Abbreviations that often close a sentence too ("… and Co. The firm …"): a sentence end only before an opener. */
const AMBIGUOUS = new Set('etc inc ltd co corp jr sr bros plc llc esq'.split(' '));

/** Words that commonly open an English sentence: after an ambiguous abbreviation they mean a new one began. */
const OPENERS = new Set((
  'the a an he she it they we i you his her its their our my your this that these those there here but and or so ' +
  'yet in on at for as if when while after before since although though however meanwhile then now what who how ' +
  'why where one some many most all no not both each every several such other another later earlier today ' +
  'yesterday tomorrow last next during despite because'
).split(' '));

const CLOSERS = `"'”’»)]}`;
const OPENING = /^["'“‘«(\[{]+/u;
/** A bullet or an enumerator at the start of a line, and the blanks after it. */
const LIST_MARKER = /^[ \t]*(?:[-*•‣◦▪▫■□●○–—·]|\(?\d{1,2}[.)]|\(?[a-z][)]|\([a-z]\))[ \t]+(?=\S)/u;
const CJK_END = /[。！？]+/gu;
const HAS_CONTENT = /[\p{L}\p{N}]/u;

/** The sentences of `text`, in order, each an exact substring with its offsets. */
export function splitSentences(text: string): Sentence[] {
  const out: Sentence[] = [];
  for (const [start, end] of blocks(text)) splitBlock(text, start, end, out);
  return out;
}

/** [start, end) spans of the blocks: paragraphs (ended by blank lines) and list items (marker excluded). */
function blocks(text: string): [number, number][] {
  const spans: [number, number][] = [];
  let open: { start: number; end: number; item: boolean } | null = null;
  const close = () => {
    if (open) spans.push([open.start, open.end]);
    open = null;
  };
  const lineBreak = /\r\n|\r|\n/g;
  let lineStart = 0;
  while (lineStart <= text.length) {
    const m = lineBreak.exec(text);
    const lineEnd = m ? m.index : text.length;
    const line = text.slice(lineStart, lineEnd);
    if (line.trim() === '') {
      close();
    } else {
      const marker = LIST_MARKER.exec(line);
      if (marker) {
        close();
        open = { start: lineStart + marker[0].length, end: lineEnd, item: true };
      } else if (open && (!open.item || /^[ \t]/.test(line))) {
        open.end = lineEnd; // a wrapped line of the paragraph, or an indented continuation of the list item
      } else {
        close();
        open = { start: lineStart, end: lineEnd, item: false };
      }
    }
    if (!m) break;
    lineStart = m.index + m[0].length;
  }
  close();
  return spans;
}

interface Word {
  start: number;
  end: number;
  text: string;
}

/** Splits one block into sentences (appended to `out`). */
function splitBlock(text: string, start: number, end: number, out: Sentence[]): void {
  const block = text.slice(start, end);
  const words: Word[] = [];
  for (const m of block.matchAll(/\S+/gu)) words.push({ start: start + m.index, end: start + m.index + m[0].length, text: m[0] });
  let from = start;
  const cut = (to: number) => {
    pushSentence(text, from, to, out);
    from = to;
  };
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    // 。！？ end a sentence wherever they are (those scripts put no space between sentences)
    for (const m of w.text.matchAll(CJK_END)) {
      let to = m.index + m[0].length;
      while (to < w.text.length && CLOSERS.includes(w.text[to])) to++;
      if (to < w.text.length || i + 1 < words.length) cut(w.start + to);
    }
    if (i + 1 < words.length && endsSentence(w.text, words[i + 1].text)) cut(w.end);
  }
  cut(end);
}

/** Whether the word `w` ends a sentence, given the word after it. */
export function endsSentence(w: string, next: string): boolean {
  let core = w;
  while (core.length > 0 && CLOSERS.includes(core[core.length - 1])) core = core.slice(0, -1);
  const mark = core[core.length - 1];
  if (mark === undefined || !'.!?…。！？'.includes(mark)) return false;
  const nextBare = next.replace(OPENING, '');
  if (!startsSentence(nextBare)) return false;
  if (mark !== '.' || core.endsWith('..')) return true; // ! ? and ellipses: the capital decides
  const stem = core.slice(0, -1).replace(OPENING, '');
  const lower = stem.toLowerCase();
  if (TITLES.has(lower)) return false;
  if (BEFORE_NUMBER.has(lower) && /^\p{N}/u.test(nextBare)) return false;
  const initial = /^\p{L}$/u.test(stem);
  const acronym = /^(?:\p{L}{1,2}\.)+\p{L}{1,2}$/u.test(stem); // U.S, a.m, Ph.D
  if (initial || acronym || AMBIGUOUS.has(lower)) return OPENERS.has(nextBare.replace(/[^\p{L}'’]+$/u, '').toLowerCase());
  return true;
}

/** A capital, a digit, a letter of a script without case (CJK, Arabic, …), or an amount ($5, £330m). */
function startsSentence(word: string): boolean {
  return /^(?:\p{Sc}?[\p{Lu}\p{Lt}\p{N}\p{Lo}])/u.test(word);
}

function pushSentence(text: string, from: number, to: number, out: Sentence[]): void {
  while (from < to && /\s/.test(text[from])) from++;
  while (to > from && /\s/.test(text[to - 1])) to--;
  if (to <= from) return;
  const s = text.slice(from, to);
  if (HAS_CONTENT.test(s)) out.push({ text: s, start: from, end: to });
}
