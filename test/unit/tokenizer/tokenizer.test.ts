import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeTokenizerFiles } from '../../../src/tokenizer/tokenizer-json.js';
import { loadTokenizer, type Tokenizer } from '../../../src/tokenizer/tokenizer.js';

// Expected tokens are derived by hand from Hugging Face tokenizers' BERT rules (clean text, isolate CJK ideographs,
// NFD + drop nonspacing marks, lowercase, split on whitespace and punctuation, greedy longest-match WordPiece
// with "##", [UNK] for a word with no split or over 100 characters) and looked up in vocab.txt; a few ids are
// also given literally, from the published bert-base-uncased vocabulary.
let tok: Tokenizer;
let vocab: Map<string, number>;

beforeAll(async () => {
  tok = await loadTokenizer();
  const lines = readFileSync(join(tok.dir, 'vocab.txt'), 'utf8').split('\n');
  vocab = new Map(lines.slice(0, -1).map((t, i) => [t, i]));
});

function idsOf(tokens: string[]): number[] {
  return tokens.map((t) => {
    const id = vocab.get(t);
    if (id === undefined) throw new Error(`expected token "${t}" is not in vocab.txt`);
    return id;
  });
}

const cases: Array<[string, string[]]> = [
  ['Héllo, wörld!', ['hello', ',', 'world', '!']], // accents stripped although strip_accents is null
  ['naïve café', ['naive', 'cafe']],
  ['日本語テキスト', ['日', '本', '語', 'テ', '##キ', '##ス', '##ト']], // ideographs split, katakana is one word
  ['http://a.b/c?d=e', ['http', ':', '/', '/', 'a', '.', 'b', '/', 'c', '?', 'd', '=', 'e']],
  ["don't", ['don', "'", 't']],
  ['tab\there', ['tab', 'here']],
  ['line\r\nbreak\u2028x', ['line', 'break', 'x']],
  ['\u00a0nbsp', ['n', '##bs', '##p']], // no-break space is whitespace; "nb" and "nbs" are not in the vocab
  ['unaffable', ['una', '##ffa', '##ble']], // greedy longest match ("un ##aff ##able" is another vocab's example)
  ['Paris is the [MASK] of France.', ['paris', 'is', 'the', '[MASK]', 'of', 'france', '.']],
  ['[mask]', ['[', 'mask', ']']], // special tokens match case-sensitively, before normalization
  ['I love 🥰 it', ['i', 'love', '[UNK]', 'it']],
  ['foo\u200bbar', ['foo', '##bar']], // zero-width space is a format character: removed, so the word joins
  ['a\u0000b\u0007c', ['abc']], // NUL and BEL removed
  ['co\u00adoperate', ['cooperate']], // soft hyphen (format character) removed
  ['ΟΔΟΣ', ['ο', '##δ', '##ο', '##σ']], // HF lowercases per character: no final sigma
  ['ガ', ['カ']], // NFD gives カ + U+3099, a nonspacing mark (transformers.js alone keeps it)
  ['안녕', ['ᄋ', '##ᅡ', '##ᆫ', '##ᄂ', '##ᅧ', '##ᆼ']], // NFD splits Hangul syllables into jamo
  ['a\u{20000}b', ['a', '[UNK]', 'b']], // an ideograph outside the BMP is isolated too
  ['a\u2E43b', ['[UNK]']], // U+2E43 is punctuation only since Unicode 9: HF (Unicode 8.0 tables) keeps the word whole
  ['¿Qué?', ['¿', 'que', '?']],
  ['Ça va… «oui»', ['ca', 'va', '…', '«', 'ou', '##i', '»']],
  [`x${'a'.repeat(99)}`, ['x', ...new Array<string>(49).fill('##aa'), '##a']], // 100 characters: still split
  ['a'.repeat(101), ['[UNK]']], // over max_input_chars_per_word (100)
  ['b'.repeat(150), ['[UNK]']],
];

describe('Tokenizer ids equal bert-base-uncased (HF tokenizers) ids', () => {
  const labelled = cases.map(([text, tokens]) => [JSON.stringify(text).slice(0, 40), text, tokens] as const);
  test.each(labelled)('%s', (_label, text, tokens) => {
    const e = tok.encode(text);
    expect(e.tokens).toEqual(['[CLS]', ...tokens, '[SEP]']);
    expect(e.input_ids).toEqual([101, ...idsOf(tokens), 102]);
    expect(e.attention_mask).toEqual(new Array(tokens.length + 2).fill(1));
    expect(e.token_type_ids).toEqual(new Array(tokens.length + 2).fill(0));
  });

  test('a few ids from the published vocabulary', () => {
    expect(tok.encode('Hello world').input_ids).toEqual([101, 7592, 2088, 102]);
    expect(tok.ids('the [MASK] [UNK] [PAD]')).toEqual([1996, 103, 100, 0]);
    expect(tok.vocabSize).toBe(30522);
  });

  test('empty and whitespace-only text give only the specials', () => {
    expect(tok.encode('').input_ids).toEqual([101, 102]);
    expect(tok.ids(' \t\u3000\u200b ')).toEqual([]);
  });

  test('pair: [CLS] A [SEP] B [SEP] with type ids 0 then 1', () => {
    const e = tok.encode('Is it sunny?', 'No.');
    expect(e.tokens).toEqual(['[CLS]', 'is', 'it', 'sunny', '?', '[SEP]', 'no', '.', '[SEP]']);
    expect(e.token_type_ids).toEqual([0, 0, 0, 0, 0, 0, 1, 1, 1]);
    expect(e.attention_mask).toEqual(new Array(9).fill(1));
  });
});

describe('truncation keeps [CLS] first and [SEP] last', () => {
  const long = 'word '.repeat(600);

  test('a long text gives exactly max_length ids', () => {
    const e = tok.encode(long);
    expect(e.input_ids).toHaveLength(512);
    expect(e.input_ids[0]).toBe(101);
    expect(e.input_ids[511]).toBe(102);
    expect(e.input_ids.slice(1, 511).every((id) => id === vocab.get('word'))).toBe(true);
    expect(e.truncated).toBe(true);
    expect(tok.encode(long, null, 16).input_ids).toHaveLength(16);
    expect(tok.encode('word '.repeat(510)).truncated).toBe(false);
    expect(tok.encode('word '.repeat(511)).truncated).toBe(true);
  });

  test('max_length 2 keeps only the specials', () => {
    expect(tok.encode(long, null, 2).input_ids).toEqual([101, 102]);
  });

  test('pair: longest first, both sequences end with [SEP]', () => {
    // 10 + 3 content tokens into 10 - 3 = 7: the short one (3) fits in half, the long one gets 4.
    const e = tok.encode('a b c d e f g h i j', 'x y z', 10);
    expect(e.tokens).toEqual(['[CLS]', 'a', 'b', 'c', 'd', '[SEP]', 'x', 'y', 'z', '[SEP]']);
    expect(e.token_type_ids).toEqual([0, 0, 0, 0, 0, 0, 1, 1, 1, 1]);
    const p = tok.encode(long, long);
    expect(p.input_ids).toHaveLength(512);
    expect(p.input_ids.filter((id) => id === 102)).toHaveLength(2);
    // 509 content tokens split 254 / 255: the odd one goes to the second of two equally long sequences (HF).
    expect(p.token_type_ids.filter((t) => t === 0)).toHaveLength(1 + 254 + 1);
    expect(p.input_ids[511]).toBe(102);
  });

  test('max_length outside [2, 512] (or [3, 512] for a pair) is an error', () => {
    expect(() => tok.encode('x', null, 1)).toThrow(/sequence length 1: must be a whole number from 2 to 512/);
    expect(() => tok.encode('x', null, 513)).toThrow(/from 2 to 512/);
    expect(() => tok.encode('x', 'y', 2)).toThrow(/from 3 to 512 with --pair/);
    expect(tok.encode('x', 'y', 3).input_ids).toEqual([101, 102, 102]);
  });
});

describe('loading a tokenizer folder', () => {
  test('a folder written by writeTokenizerFiles (as model folders are) gives the same ids', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tok-folder-'));
    try {
      await writeTokenizerFiles(join(dir, 'my model'));
      const other = await loadTokenizer(join(dir, 'my model'));
      expect(other).not.toBe(tok);
      for (const [text] of cases) expect(other.encode(text).input_ids).toEqual(tok.encode(text).input_ids);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a folder without tokenizer files is a one-line error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tok-empty-'));
    const warn = console.warn;
    const warned: unknown[] = [];
    console.warn = (...args: unknown[]) => void warned.push(args);
    try {
      await expect(loadTokenizer(dir)).rejects.toThrow(/tok-empty-.*: cannot load the tokenizer/);
      expect(warned).toEqual([]); // transformers.js's own warnings about missing files are held back
    } finally {
      console.warn = warn;
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
