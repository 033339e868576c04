import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { applyCase, augmentCsv, Augmenter, casePattern, changeCount, rowRng } from '../../../src/data/augment.js';
import { englishStopwords } from '../../../src/data/stopwords.js';
import { wordnet } from '../../../src/data/wordnet.js';
import { Rng } from '../../../src/util/rng.js';

const wn = wordnet();
const words = (s: string) => s.split(/\s+/).filter((w) => w.length > 0);

describe('helpers', () => {
  test('changeCount follows nlpaug: ceil(p·n), at least 1, at most aug_max', () => {
    expect(changeCount(0.1, 30, 10)).toBe(3); // not 4, although 0.1·30 = 3.0000000000000004 in floats
    expect(changeCount(0.1, 31, 10)).toBe(4);
    expect(changeCount(0.1, 5, 10)).toBe(1);
    expect(changeCount(0.001, 1, 10)).toBe(1);
    expect(changeCount(1, 50, 10)).toBe(10);
    expect(changeCount(0, 50, 10)).toBe(0);
    expect(changeCount(0.5, 0, 10)).toBe(0);
  });

  test('capitalization patterns', () => {
    expect(casePattern('car')).toBe('lower');
    expect(casePattern('Car')).toBe('title');
    expect(casePattern('CAR')).toBe('upper');
    expect(casePattern('I')).toBe('title');
    expect(casePattern('iPhone')).toBe('other');
    expect(applyCase('Railway Car', 'lower')).toBe('railway car');
    expect(applyCase('railway car', 'title')).toBe('Railway car');
    expect(applyCase('railway car', 'upper')).toBe('RAILWAY CAR');
  });

  test('NLTK English stopwords', () => {
    const sw = englishStopwords();
    expect(sw.size).toBe(153);
    for (const w of ['i', 'the', 'and', 'will', 'do', 'can', 'don']) expect(sw.has(w)).toBe(true);
    expect(sw.has('')).toBe(false);
    expect(sw.has('car')).toBe(false);
  });

  test('row generators are reproducible and differ between rows and seeds', () => {
    expect(rowRng(42, 7).getState()).toEqual(rowRng(42, 7).getState());
    const firsts = new Set<number>();
    for (let row = 1; row <= 200; row++) firsts.add(rowRng(42, row).nextUint32());
    expect(firsts.size).toBe(200);
    expect(rowRng(42, 1).nextUint32()).not.toBe(rowRng(43, 1).nextUint32());
  });
});

describe('Augmenter', () => {
  const text = 'The happy dog was running to the old car and the children laughed loudly';

  test('p = 0 for both steps returns the text exactly, whitespace included', () => {
    const aug = new Augmenter({ synonymP: 0, insertP: 0 });
    for (const t of ['', '   ', text, '  Two\tspaces  and\nnewline ']) {
      expect(aug.augment(t, new Rng(1))).toEqual({ text: t, replaced: 0, inserted: 0 });
    }
  });

  test('same generator state gives the same output; other seeds give other outputs', () => {
    const aug = new Augmenter({ synonymP: 0.3, insertP: 0.2 });
    const a = aug.augment(text, new Rng(5));
    expect(aug.augment(text, new Rng(5))).toEqual(a);
    const outputs = new Set([1, 2, 3, 4, 6, 7, 8, 9].map((s) => aug.augment(text, new Rng(s)).text));
    expect(outputs.size).toBeGreaterThan(1);
  });

  test('a tiny p still replaces one word when a candidate exists, with one of its synonyms', () => {
    const aug = new Augmenter({ synonymP: 0.01, insertP: 0 });
    for (let seed = 0; seed < 20; seed++) {
      const r = aug.augment('the car', new Rng(seed));
      expect(r.replaced).toBe(1);
      const [the, ...rest] = words(r.text);
      expect(the).toBe('the');
      expect(wn.synonyms('car')).toContain(rest.join(' '));
    }
  });

  test('replacement changes exactly the counted words, each to a synonym in its case, and keeps the rest', () => {
    const aug = new Augmenter({ synonymP: 0.2, insertP: 0 });
    const original = words(text); // 14 words → ceil(2.8) = 3 replacements
    // fewest substitutions that turn `original` into `out` (Infinity if impossible)
    const substitutions = (out: string, i: number): number => {
      if (i === original.length) return out === '' ? 0 : Infinity;
      const rest = (w: string) => (out === w ? '' : out.startsWith(`${w} `) ? out.slice(w.length + 1) : undefined);
      let best = Infinity;
      const same = rest(original[i]);
      if (same !== undefined) best = substitutions(same, i + 1);
      const stop = englishStopwords().has(original[i].toLowerCase());
      for (const syn of stop ? [] : wn.synonyms(original[i])) {
        const r = rest(applyCase(syn, casePattern(original[i])));
        if (r !== undefined) best = Math.min(best, 1 + substitutions(r, i + 1));
      }
      return best;
    };
    for (let seed = 0; seed < 5; seed++) {
      const r = aug.augment(text, new Rng(seed));
      expect(r.replaced).toBe(changeCount(0.2, original.length, 10));
      expect(substitutions(r.text, 0)).toBe(r.replaced);
    }
  });

  test('stopwords are never replaced, even those WordNet knows (will, do, can)', () => {
    const aug = new Augmenter({ synonymP: 1, insertP: 0 });
    for (let seed = 0; seed < 10; seed++) {
      const r = aug.augment('I will do it if I can car', new Rng(seed));
      expect(r.replaced).toBe(1); // only "car" is a candidate
      expect(r.text.startsWith('I will do it if I can ')).toBe(true);
    }
  });

  test('tokens with punctuation attached and non-WordNet words are left intact; nothing to insert', () => {
    const aug = new Augmenter({ synonymP: 1, insertP: 1 });
    const t = 'car, car. "car" xyzzy 42 the';
    expect(aug.augment(t, new Rng(3))).toEqual({ text: t, replaced: 0, inserted: 0 });
  });

  test('capitalization of the replaced word is kept', () => {
    const aug = new Augmenter({ synonymP: 1, insertP: 0 });
    const syn = wn.synonyms('car');
    for (let seed = 0; seed < 10; seed++) {
      expect(syn.map((w) => w.toLowerCase())).toContain(aug.augment('car', new Rng(seed)).text);
      expect(syn.map((w) => w[0].toUpperCase() + w.slice(1).toLowerCase())).toContain(aug.augment('Car', new Rng(seed)).text);
      expect(syn.map((w) => w.toUpperCase())).toContain(aug.augment('CAR', new Rng(seed)).text);
    }
  });

  test('insertion adds synonyms of candidate words and keeps every original word in order', () => {
    const aug = new Augmenter({ synonymP: 0, insertP: 0.25 });
    const original = words(text);
    const candidates = original.filter((w) => /^[a-z]+$/i.test(w) && !englishStopwords().has(w.toLowerCase()));
    const allowed = new Set(candidates.flatMap((w) => wn.synonyms(w).map((s) => s.toLowerCase())));
    const r = aug.augment(text, new Rng(21));
    expect(r.inserted).toBe(changeCount(0.25, original.length, 10));
    expect(r.replaced).toBe(0);
    // remove the originals as a subsequence; what is left must be the inserted synonyms
    let out = ` ${r.text} `;
    for (const w of original) {
      const at = out.indexOf(` ${w} `);
      expect(at).toBeGreaterThanOrEqual(0);
      out = `${out.slice(0, at)} | ${out.slice(at + w.length + 2)}`;
    }
    const leftovers = out.split('|').map((s) => s.trim()).filter((s) => s.length > 0);
    expect(leftovers.join(' ').split(' ').length).toBeGreaterThanOrEqual(r.inserted);
    for (const chunk of leftovers) {
      // a chunk may hold several inserted phrases side by side: it must split into allowed phrases
      const ok = (s: string): boolean => s === '' || [...allowed].some((p) => (s === p || s.startsWith(`${p} `)) && ok(s.slice(p.length).trim()));
      expect(ok(chunk)).toBe(true);
    }
  });

  test('rejects p outside [0, 1]', () => {
    expect(() => new Augmenter({ synonymP: 1.5, insertP: 0 })).toThrow(/outside \[0, 1\]/);
    expect(() => new Augmenter({ synonymP: 0, insertP: -0.1 })).toThrow(/outside \[0, 1\]/);
    expect(() => new Augmenter({ synonymP: Number.NaN, insertP: 0 })).toThrow(/outside \[0, 1\]/);
  });
});

describe('augmentCsv', () => {
  test('each row is augmented with its own generator, so output does not depend on chunking', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aug-unit-'));
    const input = join(dir, 'in.csv');
    const texts = ['The happy dog ran home', 'An old car, a new car', '', 'Quickly the children laughed loudly'];
    writeFileSync(input, `id,cleaned_text\n${texts.map((t, i) => `${i},"${t}"`).join('\n')}\n`);
    const output = join(dir, 'out.csv');
    const opts = { input, output, textColumn: 'cleaned_text', synonymP: 0.3, insertP: 0.3, seed: 9 };
    const summary = await augmentCsv(opts);
    const rows = parse(readFileSync(output), { columns: true }) as Record<string, string>[];
    expect(Object.keys(rows[0])).toEqual(['id', 'cleaned_text', 'augmented_text']);
    const aug = new Augmenter(opts);
    let replaced = 0;
    let inserted = 0;
    texts.forEach((t, i) => {
      const expected = aug.augment(t, rowRng(9, i + 1));
      replaced += expected.replaced;
      inserted += expected.inserted;
      expect(rows[i]).toEqual({ id: String(i), cleaned_text: t, augmented_text: expected.text });
    });
    expect(summary).toMatchObject({ rows: 4, wordsReplaced: replaced, wordsInserted: inserted });
    expect(summary.rowsChanged).toBe(3);
  });
});
