import { bertNormalize, bertNormalizer } from '../../../src/tokenizer/bert-normalizer.js';
import { bertPreTokenize } from '../../../src/tokenizer/bert-pre-tokenizer.js';

// Expected strings follow Hugging Face tokenizers' BertNormalizer (normalizers/bert.rs): clean text (drop NUL,
// U+FFFD and Cc/Cf/Co except \t\n\r; whitespace → " "), spaces around CJK ideographs, NFD + drop Mn, lowercase.
describe('bertNormalize (bert-base-uncased settings)', () => {
  test.each([
    ['Hello World', 'hello world'],
    ['Héllo\tWörld\n', 'hello world '],
    ['A\u030A', 'a'], // combining ring above
    ['Ångström', 'angstrom'],
    ['日本', ' 日  本 '],
    ['a\u{2A700}b', 'a \u{2A700} b'], // CJK extension C, outside the BMP
    ['a\u{2B820}b', 'a\u{2B820}b'], // HF's extension-E range starts at U+2B920
    ['ΟΔΟΣ', 'οδοσ'], // no final sigma
    ['İ', 'i'],
    ['x\uE001y\u{F0001}z', 'xyz'], // private use
    ['a\u200Db\uFEFFc', 'abc'], // format characters
    ['a\u0890b', 'a\u0890b'], // a format character only since Unicode 14: HF keeps it
    ['\u0645\u064E', '\u0645'], // Arabic fatha (Mn) dropped
    ['a\u00A0b\u3000c\u2029d', 'a b c d'],
    ['a\u0085b\u000Bc', 'abc'], // NEL and VT are controls before they are whitespace
    ['\uFFFDok\u0000', 'ok'],
  ])('%j → %j', (input, expected) => {
    expect(bertNormalize(input)).toBe(expected);
  });

  test('strip_accents null follows lowercase; explicit values win', () => {
    expect(bertNormalizer({ lowercase: false })('Héllo')).toBe('Héllo'.normalize('NFC'));
    expect(bertNormalizer({ lowercase: false, strip_accents: true })('Héllo')).toBe('Hello');
    expect(bertNormalizer({ lowercase: true, strip_accents: false })('Héllo')).toBe('héllo'.normalize('NFC'));
    expect(bertNormalizer({ handle_chinese_chars: false })('日本')).toBe('日本');
    expect(bertNormalizer({ clean_text: false })('a\u200Db')).toBe('a\u200Db');
  });
});

describe('bertPreTokenize', () => {
  test('whitespace removed, each punctuation character its own word (HF bert.rs test)', () => {
    expect(bertPreTokenize('Hey friend!     How are you?!?')).toEqual(['Hey', 'friend', '!', 'How', 'are', 'you', '?', '!', '?']);
  });

  test('ASCII symbols that are not Unicode punctuation still split ($, +, <, ^, `, |, ~)', () => {
    expect(bertPreTokenize('a$b+c<d^e`f|g~h')).toEqual(['a', '$', 'b', '+', 'c', '<', 'd', '^', 'e', '`', 'f', '|', 'g', '~', 'h']);
  });

  test('Unicode 8.0 punctuation splits; newer punctuation and non-punctuation symbols do not', () => {
    expect(bertPreTokenize('«a»—b…c')).toEqual(['«', 'a', '»', '—', 'b', '…', 'c']);
    expect(bertPreTokenize('a\u2E43b')).toEqual(['a\u2E43b']); // punctuation since Unicode 9
    expect(bertPreTokenize('a\u166Db')).toEqual(['a', '\u166D', 'b']); // punctuation in 8.0, a symbol now
    expect(bertPreTokenize('a€b©c')).toEqual(['a€b©c']);
  });

  test('empty and blank text', () => {
    expect(bertPreTokenize('')).toEqual([]);
    expect(bertPreTokenize('   ')).toEqual([]);
  });
});
