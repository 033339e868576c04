import { checkMaxLength, longestFirst, truncateContent } from '../../../src/tokenizer/truncate.js';

describe('longestFirst', () => {
  // The table of Hugging Face tokenizers' own test (tokenizers/src/utils/truncation.rs,
  // truncate_encodings_longest_first): max_length 7, sequences of 0, 2, 4 and 8 tokens.
  const table: Array<[number, number, number, number]> = [
    [0, 0, 0, 0], [0, 2, 0, 2], [0, 4, 0, 4], [0, 8, 0, 7],
    [2, 0, 2, 0], [2, 2, 2, 2], [2, 4, 2, 4], [2, 8, 2, 5],
    [4, 0, 4, 0], [4, 2, 4, 2], [4, 4, 3, 4], [4, 8, 3, 4],
    [8, 0, 7, 0], [8, 2, 5, 2], [8, 4, 4, 3], [8, 8, 3, 4],
  ];
  test.each(table)('%i + %i tokens into 7 → %i + %i', (a, b, na, nb) => {
    expect(longestFirst(a, b, 7)).toEqual([na, nb]);
  });

  test('matches removing one token at a time from the longer sequence, except for who gets the odd token', () => {
    for (let a = 0; a <= 12; a++) {
      for (let b = 0; b <= 12; b++) {
        for (let budget = 0; budget <= 14; budget++) {
          let x = a;
          let y = b;
          while (x + y > budget) {
            if (x > y) x--;
            else y--;
          }
          const [na, nb] = longestFirst(a, b, budget);
          expect(na + nb).toBe(Math.min(a + b, budget));
          expect(na).toBeLessThanOrEqual(a);
          expect(nb).toBeLessThanOrEqual(b);
          // One-at-a-time removal reaches the same split, or its mirror when both ended tied within one token.
          if (!(Math.abs(x - y) === 1 && na === y && nb === x)) expect([na, nb]).toEqual([x, y]);
        }
      }
    }
  });
});

describe('truncateContent', () => {
  test('single: keeps max_length - 2 content tokens', () => {
    const ids = Array.from({ length: 20 }, (_, i) => i);
    expect(truncateContent(ids, null, 12)).toEqual({ a: ids.slice(0, 10), b: null, truncated: true });
    expect(truncateContent(ids, null, 22)).toEqual({ a: ids, b: null, truncated: false });
    expect(truncateContent(ids, null, 2).a).toEqual([]);
  });

  test('pair: keeps max_length - 3 content tokens, longest first', () => {
    const a = Array.from({ length: 9 }, (_, i) => i);
    const b = [100, 101];
    expect(truncateContent(a, b, 10)).toEqual({ a: a.slice(0, 5), b, truncated: true });
    expect(truncateContent(b, a, 10)).toEqual({ a: b, b: a.slice(0, 5), truncated: true });
    expect(truncateContent(a, b, 14)).toEqual({ a, b, truncated: false });
  });

  test('works on typed arrays', () => {
    const r = truncateContent(Uint16Array.from([5, 6, 7, 8]), null, 4);
    expect(Array.from(r.a)).toEqual([5, 6]);
  });
});

test('checkMaxLength', () => {
  expect(() => checkMaxLength(2, false)).not.toThrow();
  expect(() => checkMaxLength(512, true)).not.toThrow();
  expect(() => checkMaxLength(1, false)).toThrow('sequence length 1: must be a whole number from 2 to 512');
  expect(() => checkMaxLength(2, true)).toThrow(/from 3 to 512 with --pair/);
  expect(() => checkMaxLength(513, false)).toThrow(/from 2 to 512/);
  expect(() => checkMaxLength(2.5, false)).toThrow(/whole number/);
});
