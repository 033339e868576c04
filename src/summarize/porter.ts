/**
 * The Porter stemmer (M. F. Porter, "An algorithm for suffix stripping", Program 14(3), 1980) as NLTK implements
 * it in its default mode, NLTK_EXTENSIONS (nltk.stem.porter.PorterStemmer()): the stemmer Google's `rouge_score`
 * applies with use_stemmer=True, so ROUGE with --stem gives its numbers. NLTK's departures from the paper, kept
 * here: a table of irregular forms (dying → die, skies → sky, news → news), words of one or two letters left
 * alone, "ies"/"ied" of four letters → "ie", y → i only after a consonant that is not the first letter, ALLI → AL
 * tried before the other step-2 rules, BLI → BLE, FULLI → FUL, LOGI → LOG, and *o true for a two-letter
 * vowel-consonant stem. Input is lower-cased first, as NLTK does.
 *
 *   porterStem('running') → 'run'   porterStem('caresses') → 'caress'   porterStem('relational') → 'relat'
 */

const IRREGULAR: Record<string, string> = {
  sky: 'sky', skies: 'sky', dying: 'die', lying: 'lie', tying: 'tie', news: 'news', innings: 'inning',
  inning: 'inning', outings: 'outing', outing: 'outing', cannings: 'canning', canning: 'canning', howe: 'howe',
  proceed: 'proceed', exceed: 'exceed', succeed: 'succeed',
};

const VOWELS = 'aeiou';

/** consonant[i] for every letter: a, e, i, o, u are vowels; y is a vowel after a consonant, else a consonant. */
function consonants(w: string): boolean[] {
  const flags: boolean[] = [];
  for (let i = 0; i < w.length; i++) {
    const c = w[i];
    flags.push(VOWELS.includes(c) ? false : c === 'y' ? (i === 0 ? true : !flags[i - 1]) : true);
  }
  return flags;
}

function isConsonant(w: string, i: number): boolean {
  return consonants(w)[i];
}

/** m in [C](VC)^m[V]: the number of vowel→consonant transitions. */
export function measure(stem: string): number {
  const f = consonants(stem);
  let m = 0;
  for (let i = 1; i < f.length; i++) if (!f[i - 1] && f[i]) m++;
  return m;
}

const positive = (stem: string) => measure(stem) > 0;
const aboveOne = (stem: string) => measure(stem) > 1;

function containsVowel(stem: string): boolean {
  return consonants(stem).some((c) => !c);
}

/** *d: ends with a double consonant. */
function endsDouble(w: string): boolean {
  return w.length >= 2 && w[w.length - 1] === w[w.length - 2] && isConsonant(w, w.length - 1);
}

/** *o: ends consonant-vowel-consonant, the last not w, x or y (NLTK: or is a two-letter vowel-consonant stem). */
function endsCvc(w: string): boolean {
  const n = w.length;
  if (n >= 3 && isConsonant(w, n - 3) && !isConsonant(w, n - 2) && isConsonant(w, n - 1) && !'wxy'.includes(w[n - 1])) return true;
  return n === 2 && !isConsonant(w, 0) && isConsonant(w, 1);
}

/** [suffix, replacement, condition on the stem]; suffix '*d' is "any double consonant". */
type Rule = [suffix: string, replacement: string, condition: ((stem: string) => boolean) | null];

/** The first rule whose suffix matches decides: applied when its condition holds, else the word stays. */
function applyRules(word: string, rules: Rule[]): string {
  for (const [suffix, replacement, condition] of rules) {
    if (suffix === '*d') {
      if (!endsDouble(word)) continue;
      const stem = word.slice(0, -2);
      return condition === null || condition(stem) ? stem + replacement : word;
    }
    if (word.endsWith(suffix)) {
      const stem = word.slice(0, word.length - suffix.length);
      return condition === null || condition(stem) ? stem + replacement : word;
    }
  }
  return word;
}

function step1a(w: string): string {
  if (w.endsWith('ies') && w.length === 4) return `${w.slice(0, -3)}ie`;
  return applyRules(w, [['sses', 'ss', null], ['ies', 'i', null], ['ss', 'ss', null], ['s', '', null]]);
}

function step1b(w: string): string {
  if (w.endsWith('ied')) return w.length === 4 ? `${w.slice(0, -3)}ie` : `${w.slice(0, -3)}i`;
  if (w.endsWith('eed')) {
    const stem = w.slice(0, -3);
    return measure(stem) > 0 ? `${stem}ee` : w;
  }
  let stem: string | null = null;
  for (const suffix of ['ed', 'ing']) {
    if (w.endsWith(suffix)) {
      const s = w.slice(0, w.length - suffix.length);
      if (containsVowel(s)) {
        stem = s;
        break;
      }
    }
  }
  if (stem === null) return w;
  const last = stem[stem.length - 1];
  return applyRules(stem, [
    ['at', 'ate', null],
    ['bl', 'ble', null],
    ['iz', 'ize', null],
    ['*d', last, () => !'lsz'.includes(last)],
    ['', 'e', (s) => measure(s) === 1 && endsCvc(s)],
  ]);
}

function step1c(w: string): string {
  return applyRules(w, [['y', 'i', (s) => s.length > 1 && isConsonant(s, s.length - 1)]]);
}

function step2(w: string): string {
  if (w.endsWith('alli') && positive(w.slice(0, -4))) return step2(`${w.slice(0, -4)}al`);
  return applyRules(w, [
    ['ational', 'ate', positive], ['tional', 'tion', positive], ['enci', 'ence', positive], ['anci', 'ance', positive],
    ['izer', 'ize', positive], ['bli', 'ble', positive], ['alli', 'al', positive], ['entli', 'ent', positive],
    ['eli', 'e', positive], ['ousli', 'ous', positive], ['ization', 'ize', positive], ['ation', 'ate', positive],
    ['ator', 'ate', positive], ['alism', 'al', positive], ['iveness', 'ive', positive], ['fulness', 'ful', positive],
    ['ousness', 'ous', positive], ['aliti', 'al', positive], ['iviti', 'ive', positive], ['biliti', 'ble', positive],
    ['fulli', 'ful', positive],
    // the l of "logi" stays with the stem, so short stems (geo-, theo-) qualify
    ['logi', 'log', () => positive(w.slice(0, -3))],
  ]);
}

function step3(w: string): string {
  return applyRules(w, [
    ['icate', 'ic', positive], ['ative', '', positive], ['alize', 'al', positive], ['iciti', 'ic', positive],
    ['ical', 'ic', positive], ['ful', '', positive], ['ness', '', positive],
  ]);
}

function step4(w: string): string {
  return applyRules(w, [
    ['al', '', aboveOne], ['ance', '', aboveOne], ['ence', '', aboveOne], ['er', '', aboveOne], ['ic', '', aboveOne],
    ['able', '', aboveOne], ['ible', '', aboveOne], ['ant', '', aboveOne], ['ement', '', aboveOne],
    ['ment', '', aboveOne], ['ent', '', aboveOne],
    ['ion', '', (s) => measure(s) > 1 && (s.endsWith('s') || s.endsWith('t'))],
    ['ou', '', aboveOne], ['ism', '', aboveOne], ['ate', '', aboveOne], ['iti', '', aboveOne], ['ous', '', aboveOne],
    ['ive', '', aboveOne], ['ize', '', aboveOne],
  ]);
}

function step5a(w: string): string {
  if (!w.endsWith('e')) return w;
  const stem = w.slice(0, -1);
  const m = measure(stem);
  return m > 1 || (m === 1 && !endsCvc(stem)) ? stem : w;
}

function step5b(w: string): string {
  return applyRules(w, [['ll', 'l', () => measure(w.slice(0, -1)) > 1]]);
}

/** The Porter stem of `word` (lower-cased first), as nltk's PorterStemmer().stem(word). */
export function porterStem(word: string): string {
  const w = word.toLowerCase();
  if (Object.hasOwn(IRREGULAR, w)) return IRREGULAR[w];
  if (word.length <= 2) return w;
  return step5b(step5a(step4(step3(step2(step1c(step1b(step1a(w))))))));
}
