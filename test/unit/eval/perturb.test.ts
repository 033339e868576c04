import { Augmenter, rowRng } from '../../../src/data/augment.js';
import { perturbTexts, SYNONYM_P, withTypos } from '../../../src/eval/perturb.js';
import { Rng } from '../../../src/util/rng.js';

/** Whether `b` is `a` after one swap of neighbours, one drop, one doubling or one replacement of a letter. */
function oneSlip(a: string, b: string): boolean {
  const x = Array.from(a);
  const y = Array.from(b);
  if (y.length === x.length - 1) return x.some((_, i) => [...x.slice(0, i), ...x.slice(i + 1)].join('') === b);
  if (y.length === x.length + 1) return x.some((c, i) => [...x.slice(0, i), c, ...x.slice(i)].join('') === b);
  if (y.length !== x.length) return false;
  const diff = x.map((c, i) => (c === y[i] ? -1 : i)).filter((i) => i >= 0);
  if (diff.length === 1) return /\p{L}/u.test(y[diff[0]]) && (x[diff[0]] === x[diff[0]].toLowerCase()) === (y[diff[0]] === y[diff[0]].toLowerCase());
  if (diff.length === 2) return diff[1] === diff[0] + 1 && x[diff[0]] === y[diff[1]] && x[diff[1]] === y[diff[0]];
  return diff.length === 0; // swapping two equal letters
}

describe('typos', () => {
  const text = 'The Quick brown fox, jumps over 12 lazy dogs! Ünïcode too.';

  test('p = 1: every word of 2+ letters has exactly one slip; spaces, digits and punctuation are kept', () => {
    for (let seed = 0; seed < 20; seed++) {
      const out = withTypos(text, new Rng(seed), 1);
      expect(out.replace(/\p{L}+/gu, '')).toBe(text.replace(/\p{L}+/gu, ''));
      const before = text.match(/\p{L}{2,}/gu)!;
      const after = out.split(/[^\p{L}]+/u).filter((w) => w.length > 0);
      expect(after).toHaveLength(before.length);
      before.forEach((w, i) => expect(oneSlip(w, after[i])).toBe(true));
    }
  });

  test('p = 0 leaves the text as it is; one-letter words are never touched', () => {
    expect(withTypos(text, new Rng(1), 0)).toBe(text);
    expect(withTypos('a I b c', new Rng(1), 1)).toBe('a I b c');
  });

  test('the default rate changes about one word in ten', () => {
    const words = Array.from({ length: 5000 }, (_, i) => `word${'abcdefghij'[i % 10]}x`).join(' ');
    const out = withTypos(words, new Rng(7));
    const changed = out.split(' ').filter((w, i) => w !== words.split(' ')[i]).length;
    // a swap of two equal letters would be a no-op; these words have none, so changed ≈ 0.1 · 5000
    expect(changed).toBeGreaterThan(420);
    expect(changed).toBeLessThan(580);
  });

  test('seeded per row: the same seed gives the same copies, pairs use the row\'s generator after the text', () => {
    const texts = ['first sentence here', 'second sentence here'];
    const pairs = ['pair one', 'pair two'];
    const a = perturbTexts('typos', texts, pairs, 5);
    expect(perturbTexts('typos', texts, pairs, 5)).toEqual(a);
    const rng = rowRng(5, 2);
    const t = withTypos(texts[1], rng);
    expect(a.texts[1]).toBe(t);
    expect(a.pairs![1]).toBe(withTypos(pairs[1], rng));
    expect(perturbTexts('typos', texts, undefined, 5)).toEqual({ texts: a.texts });
  });
});

describe('synonyms', () => {
  test('the copy of row r is `augment --synonym-p 0.1 --insert-p 0` of it with rowRng(seed, r)', () => {
    const texts = ['The movie was wonderful and the actors were brilliant', 'A terrible plot with boring dialogue'];
    const aug = new Augmenter({ synonymP: SYNONYM_P, insertP: 0 });
    const out = perturbTexts('synonyms', texts, undefined, 11, () => aug);
    texts.forEach((t, i) => expect(out.texts[i]).toBe(aug.augment(t, rowRng(11, i + 1)).text));
    expect(out.texts).not.toEqual(texts);
  });
});
