import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultTokenizerDir, tokenizerConfig, tokenizerJson, writeTokenizerFiles } from '../../../src/tokenizer/tokenizer-json.js';
import { loadVocab } from '../../../src/tokenizer/vocab.js';

const specials = [
  [0, '[PAD]'],
  [100, '[UNK]'],
  [101, '[CLS]'],
  [102, '[SEP]'],
  [103, '[MASK]'],
] as const;

describe('tokenizer.json', () => {
  const text = tokenizerJson();
  const doc = JSON.parse(text);

  test('has the Hugging Face BERT pipeline', () => {
    expect(doc.version).toBe('1.0');
    expect(doc.truncation).toBeNull();
    expect(doc.padding).toBeNull();
    expect(doc.normalizer).toEqual({
      type: 'BertNormalizer',
      clean_text: true,
      handle_chinese_chars: true,
      strip_accents: null,
      lowercase: true,
    });
    expect(doc.pre_tokenizer).toEqual({ type: 'BertPreTokenizer' });
    expect(doc.decoder).toEqual({ type: 'WordPiece', prefix: '##', cleanup: true });
    expect(doc.model.type).toBe('WordPiece');
    expect(doc.model.unk_token).toBe('[UNK]');
    expect(doc.model.continuing_subword_prefix).toBe('##');
    expect(doc.model.max_input_chars_per_word).toBe(100);
  });

  test('vocab maps every token to its vocab.txt line, written in id order', () => {
    const vocab = loadVocab();
    const entries = Object.entries(doc.model.vocab as Record<string, number>);
    expect(entries).toHaveLength(30522);
    for (let id = 0; id < vocab.length; id++) expect(doc.model.vocab[vocab[id]]).toBe(id);
    // JSON.parse reorders integer-like keys, so check the order in the text itself.
    const at = (t: string) => text.indexOf(`${JSON.stringify(t)}: `);
    expect(at('[PAD]')).toBeLessThan(at('[unused0]'));
    expect(at('!')).toBeLessThan(at('0'));
    expect(at('0')).toBeLessThan(at('the'));
  });

  test('post-processor: [CLS] $A [SEP] and [CLS] $A:0 [SEP]:0 $B:1 [SEP]:1', () => {
    const pp = doc.post_processor;
    expect(pp.type).toBe('TemplateProcessing');
    const show = (items: Array<Record<string, { id: string; type_id: number }>>) =>
      items.map((i) => {
        const [kind, v] = Object.entries(i)[0];
        return `${kind === 'Sequence' ? '$' : ''}${v.id}:${v.type_id}`;
      });
    expect(show(pp.single)).toEqual(['[CLS]:0', '$A:0', '[SEP]:0']);
    expect(show(pp.pair)).toEqual(['[CLS]:0', '$A:0', '[SEP]:0', '$B:1', '[SEP]:1']);
    expect(pp.special_tokens['[CLS]']).toEqual({ id: '[CLS]', ids: [101], tokens: ['[CLS]'] });
    expect(pp.special_tokens['[SEP]']).toEqual({ id: '[SEP]', ids: [102], tokens: ['[SEP]'] });
  });

  test('added_tokens: the five specials, special and not normalized', () => {
    expect(doc.added_tokens.map((t: { id: number; content: string }) => [t.id, t.content])).toEqual(specials);
    for (const t of doc.added_tokens) {
      expect(t).toMatchObject({ special: true, normalized: false, lstrip: false, rstrip: false, single_word: false });
    }
  });
});

test('tokenizer_config.json', () => {
  const c = tokenizerConfig();
  expect(c).toMatchObject({
    do_lower_case: true,
    model_max_length: 512,
    tokenizer_class: 'BertTokenizer',
    unk_token: '[UNK]',
    sep_token: '[SEP]',
    pad_token: '[PAD]',
    cls_token: '[CLS]',
    mask_token: '[MASK]',
  });
  const decoder = c.added_tokens_decoder as Record<string, { content: string; special: boolean }>;
  expect(Object.entries(decoder).map(([id, t]) => [Number(id), t.content])).toEqual(specials);
});

describe('writeTokenizerFiles', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'tok-files-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('writes the three files into a (new) folder', async () => {
    const target = join(dir, 'model');
    await writeTokenizerFiles(target);
    const vocabTxt = readFileSync(join(target, 'vocab.txt'));
    expect(createHash('sha256').update(vocabTxt).digest('hex')).toBe('07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3');
    expect(JSON.parse(readFileSync(join(target, 'tokenizer.json'), 'utf8')).model.vocab['[MASK]']).toBe(103);
    expect(JSON.parse(readFileSync(join(target, 'tokenizer_config.json'), 'utf8')).model_max_length).toBe(512);
  });

  test('the default folder is created once and reused', async () => {
    const a = await defaultTokenizerDir();
    const b = await defaultTokenizerDir();
    expect(a).toBe(b);
    for (const f of ['tokenizer.json', 'tokenizer_config.json', 'vocab.txt']) expect(existsSync(join(a, f))).toBe(true);
    expect(readFileSync(join(a, 'tokenizer.json'), 'utf8')).toBe(tokenizerJson());
  });
});
