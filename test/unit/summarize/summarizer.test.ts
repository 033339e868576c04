import { mkdtempSync, rmSync, writeFileSync, readFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadSummarizer, summaryLength } from '../../../src/summarize/summarizer.js';
import { sotuSpeeches } from '../../../src/summarize/sotu-speeches.js';

const TINY = fileURLToPath(new URL('../../../models/compactlm-tiny', import.meta.url));

describe('summaryLength', () => {
  test('sentences (default 3) or a rounded ratio, at least 1, never more than the document has', () => {
    expect(summaryLength(10, {})).toBe(3);
    expect(summaryLength(2, {})).toBe(2);
    expect(summaryLength(10, { sentences: 5 })).toBe(5);
    expect(summaryLength(10, { ratio: 0.25 })).toBe(3); // round(2.5) = 3
    expect(summaryLength(10, { ratio: 0.01 })).toBe(1);
    expect(summaryLength(7, { ratio: 1 })).toBe(7);
  });

  test('bad lengths are one-line errors', () => {
    expect(() => summaryLength(5, { sentences: 2, ratio: 0.5 })).toThrow('give either sentences or ratio, not both');
    expect(() => summaryLength(5, { sentences: 0 })).toThrow('sentences must be a whole number ≥ 1 (got 0)');
    expect(() => summaryLength(5, { sentences: 1.5 })).toThrow('sentences must be a whole number ≥ 1 (got 1.5)');
    expect(() => summaryLength(5, { ratio: 0 })).toThrow('ratio must be in (0, 1] (got 0)');
    expect(() => summaryLength(5, { ratio: 1.2 })).toThrow('ratio must be in (0, 1] (got 1.2)');
  });
});

describe('loadSummarizer', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'summarizer-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('lead needs no encoder; the result is in document order with exact offsets', async () => {
    const s = await loadSummarizer(TINY);
    try {
      expect(s.methods).toEqual(['centroid', 'lead']);
      expect(s.defaultMethod).toBe('centroid');
      const text = '  First one. Second one!\n\n- third item\n';
      const r = await s.summarize(text, { method: 'lead', sentences: 2 });
      expect(r).toEqual({
        summary: 'First one.\nSecond one!', method: 'lead', num_sentences: 3,
        sentences: [{ index: 0, text: 'First one.', start: 2, end: 12, score: 1 }, { index: 1, text: 'Second one!', start: 13, end: 24, score: 1 - 1 / 3 }],
      });
      await expect(s.summarize(' \n', { method: 'lead' })).rejects.toThrow('the text is empty');
      await expect(s.summarize('---', { method: 'lead' })).rejects.toThrow('the text has no sentences');
      await expect(s.summarize('A b.', { method: 'trained' })).rejects.toThrow(/--method trained needs a folder from `compactlm finetune --task extractive`/);
    } finally {
      await s.close();
    }
  });

  test('a folder whose config.json says task: extractive offers trained first', async () => {
    const folder = join(dir, 'extractive');
    mkdirSync(folder);
    const config = JSON.parse(readFileSync(join(TINY, 'config.json'), 'utf8'));
    writeFileSync(join(folder, 'config.json'), JSON.stringify({ ...config, task: 'extractive' }));
    const s = await loadSummarizer(folder);
    expect(s.methods).toEqual(['trained', 'centroid', 'lead']);
    expect(s.defaultMethod).toBe('trained');
    await s.close();
  });

  test('folder errors are one line', async () => {
    await expect(loadSummarizer(join(dir, 'missing'))).rejects.toThrow(/missing: model folder not found/);
    await expect(loadSummarizer(TINY, { int8: true })).rejects.toThrow(/--int8 needs an export folder/);
  });
});

describe('sotuSpeeches', () => {
  test('whole addresses of the given years; an unknown year is a one-line error', () => {
    const [fdr] = sotuSpeeches([1941]);
    expect(fdr).toMatchObject({ id: 'sotu-1941-franklin-d-roosevelt', year: 1941, president: 'Franklin D Roosevelt' });
    expect(fdr.text.split(/\s+/).length).toBeGreaterThan(3000);
    expect(sotuSpeeches([1961]).map((r) => r.president)).toEqual(['Dwight D Eisenhower', 'John F Kennedy']);
    expect(() => sotuSpeeches([1933])).toThrow('no State of the Union address of 1933');
  });
});
