import { endsSentence, splitSentences, type Sentence } from '../../../src/summarize/sentences.js';

/** The sentence texts, after checking that each is the exact substring its offsets name, in order. */
function split(text: string): string[] {
  const out = splitSentences(text);
  let last = 0;
  for (const s of out) {
    expect(text.slice(s.start, s.end)).toBe(s.text);
    expect(s.start).toBeGreaterThanOrEqual(last);
    expect(s.text).toBe(s.text.trim());
    last = s.end;
  }
  return out.map((s: Sentence) => s.text);
}

describe('splitSentences: where sentences end', () => {
  test.each<[string, string, string[]]>([
    ['plain sentences', 'The cat sat. The dog ran! Did it rain? Yes.', ['The cat sat.', 'The dog ran!', 'Did it rain?', 'Yes.']],
    ['titles', 'Mr. Smith met Dr. Jones and Mrs. Brown. Prof. Lee was late.', ['Mr. Smith met Dr. Jones and Mrs. Brown.', 'Prof. Lee was late.']],
    ['more titles', 'Gen. Grant and Sen. Sumner spoke. St. Louis cheered.', ['Gen. Grant and Sen. Sumner spoke.', 'St. Louis cheered.']],
    ['U.S. inside a sentence', 'The U.S. Army arrived at dawn. It rained.', ['The U.S. Army arrived at dawn.', 'It rained.']],
    ['U.S. closing a sentence', 'They moved to the U.S. They never came back.', ['They moved to the U.S.', 'They never came back.']],
    ['a.m. / p.m.', 'We met at 9 a.m. The talks ended at 5 p.m. on Friday.', ['We met at 9 a.m.', 'The talks ended at 5 p.m. on Friday.']],
    ['e.g. and i.e.', 'Some fruit, e.g. Apples and pears, i.e. The cheap ones. Fine.', ['Some fruit, e.g. Apples and pears, i.e. The cheap ones.', 'Fine.']],
    ['etc. before a lower-case word', 'Bring pens, paper, etc. and a ruler. Then sit.', ['Bring pens, paper, etc. and a ruler.', 'Then sit.']],
    ['etc. closing a sentence', 'Bring pens, paper, etc. The rest is provided.', ['Bring pens, paper, etc.', 'The rest is provided.']],
    ['No. before a number', 'He lives at No. 10 Downing Street. It is old.', ['He lives at No. 10 Downing Street.', 'It is old.']],
    ['month abbreviations before a date', 'It opened on Jan. 12 and closed on Sept. 3. Nobody came.', ['It opened on Jan. 12 and closed on Sept. 3.', 'Nobody came.']],
    ['initials', 'J. K. Rowling wrote it. George W. Bush read it.', ['J. K. Rowling wrote it.', 'George W. Bush read it.']],
    ['a letter closing a sentence', 'He got a grade B. The teacher was pleased.', ['He got a grade B.', 'The teacher was pleased.']],
    ['Inc. closing a sentence', 'She works at Apple Inc. The company is large.', ['She works at Apple Inc.', 'The company is large.']],
    ['Inc. inside a sentence', 'Acme Inc. Chairman Bob Smith resigned.', ['Acme Inc. Chairman Bob Smith resigned.']],
    ['decimals and amounts', 'Prices rose 3.5 percent to $1.25 each. Then 2.0 was out.', ['Prices rose 3.5 percent to $1.25 each.', 'Then 2.0 was out.']],
    ['a number after the full stop', 'He was born in 1961. 1962 was a hard year.', ['He was born in 1961.', '1962 was a hard year.']],
    ['an amount starts a sentence', 'He paid. $5 was enough.', ['He paid.', '$5 was enough.']],
    ['URLs and e-mail', 'See www.example.com/a.b for more. Write to a.b@c.org today.', ['See www.example.com/a.b for more.', 'Write to a.b@c.org today.']],
    ['ellipsis before a capital', 'He paused... Then he left.', ['He paused...', 'Then he left.']],
    ['ellipsis before a lower-case word', 'I think... maybe not. Sure.', ['I think... maybe not.', 'Sure.']],
    ['unicode ellipsis', 'Wait… Now go.', ['Wait…', 'Now go.']],
    ['quote after the full stop', 'He said "Stop." Then he ran.', ['He said "Stop."', 'Then he ran.']],
    ['curly quotes', 'She wrote “It is done.” Nobody replied.', ['She wrote “It is done.”', 'Nobody replied.']],
    ['question in a quote, then the speaker', '"Why?" she asked. "Because," he said.', ['"Why?" she asked.', '"Because," he said.']],
    ['bracket after the full stop', 'It failed. (See the appendix.) We tried again.', ['It failed.', '(See the appendix.)', 'We tried again.']],
    ['opening quote on the next sentence', 'He left. "Goodbye," she said.', ['He left.', '"Goodbye," she said.']],
    ['lower case after a full stop does not split', 'the version 2. then it broke.', ['the version 2. then it broke.']],
    ['no final punctuation', 'A headline without a full stop', ['A headline without a full stop']],
    ['CJK full stops', '你好。我是学生。Hello there.', ['你好。', '我是学生。', 'Hello there.']],
    ['several marks', 'Really?! Yes!!! Good.', ['Really?!', 'Yes!!!', 'Good.']],
  ])('%s', (_name, text, expected) => {
    expect(split(text)).toEqual(expected);
  });
});

describe('splitSentences: newlines and lists', () => {
  test('a blank line ends a sentence; a single newline is a space (wrapped text stays whole)', () => {
    expect(split('A title line\n\nThe first paragraph is\nwrapped here. Second one.\n\n\nLast')).toEqual(
      ['A title line', 'The first paragraph is\nwrapped here.', 'Second one.', 'Last']);
  });

  test('bullet items are sentences of their own, without the marker', () => {
    expect(split('Shopping:\n- milk\n* bread. Fresh bread\n• eggs\n')).toEqual(['Shopping:', 'milk', 'bread.', 'Fresh bread', 'eggs']);
  });

  test('numbered and lettered items; an indented line continues its item', () => {
    expect(split('Steps\n1. Open the lid\n   and wait\n2) Pour\n(a) stir\nb) serve\nDone now.')).toEqual(
      ['Steps', 'Open the lid\n   and wait', 'Pour', 'stir', 'serve', 'Done now.']);
  });

  test('CRLF line ends', () => {
    expect(split('One line\r\n\r\nTwo. Three.\r\n- four')).toEqual(['One line', 'Two.', 'Three.', 'four']);
  });

  test('a dash inside a line is not a bullet; "-5" at a line start is not one either', () => {
    expect(split('Temperatures fell - fast.\n-5 degrees was the low.')).toEqual(['Temperatures fell - fast.\n-5 degrees was the low.']);
  });
});

describe('splitSentences: edge cases', () => {
  test('empty and blank text have no sentences; spans without letters or digits are dropped', () => {
    expect(splitSentences('')).toEqual([]);
    expect(splitSentences(' \n\t ')).toEqual([]);
    expect(split('***\n\nReal text. ...')).toEqual(['Real text. ...']);
    expect(split('—\n\nOK.')).toEqual(['OK.']);
  });

  test('offsets are exact with surrounding whitespace and astral characters', () => {
    const text = '  🍕 Pizza is good.   It is 3.5 € now!  ';
    const s = splitSentences(text);
    expect(s).toEqual([{ text: '🍕 Pizza is good.', start: 2, end: 19 }, { text: 'It is 3.5 € now!', start: 22, end: 38 }]);
  });

  test('a news article in document order', () => {
    const article = '(CNN)They may not be "Star Trek"-type extraterrestrials, but we may be close, a NASA scientist says. ' +
      '"We know where to look. We know how to look," she said. Ellen Stofan, NASA\'s chief scientist, spoke Tuesday.';
    expect(split(article)).toEqual([
      '(CNN)They may not be "Star Trek"-type extraterrestrials, but we may be close, a NASA scientist says.',
      '"We know where to look.',
      'We know how to look," she said.',
      'Ellen Stofan, NASA\'s chief scientist, spoke Tuesday.',
    ]);
  });
});

describe('endsSentence', () => {
  test('the word and the next one decide', () => {
    expect(endsSentence('done.', 'The')).toBe(true);
    expect(endsSentence('done.', 'the')).toBe(false);
    expect(endsSentence('Mr.', 'Smith')).toBe(false);
    expect(endsSentence('U.S.', 'Army')).toBe(false);
    expect(endsSentence('U.S.', 'The')).toBe(true);
    expect(endsSentence('No.', '5')).toBe(false);
    expect(endsSentence('3.5', 'The')).toBe(false);
    expect(endsSentence('"Stop!"', 'He')).toBe(true);
    expect(endsSentence('word', 'The')).toBe(false);
  });
});
