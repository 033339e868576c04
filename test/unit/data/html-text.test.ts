import { decodeEntities, htmlToText } from '../../../src/data/html-text.js';

describe('decodeEntities', () => {
  test('numeric (decimal, hex) and the common named references; others stay as written', () => {
    expect(decodeEntities('&#65;&#x42;&#X43; &amp;&lt;&GT; &nbsp;&mdash;&copy; &eacute; &bogus;')).toBe('ABC &<>  —© &eacute; &bogus;');
  });

  test('decoding happens once: an escaped reference stays a reference', () => {
    expect(decodeEntities('&amp;lt; &amp;#65;')).toBe('&lt; &#65;');
  });

  test('a number beyond U+10FFFF stays as written instead of throwing', () => {
    expect(decodeEntities('&#1114112; &#x110000; &#x1F600;')).toBe('&#1114112; &#x110000; 😀');
  });
});

describe('htmlToText', () => {
  test('tags become spaces, so adjacent cells do not run together', () => {
    expect(htmlToText('<td>one</td><td>two</td>').replace(/\s+/g, ' ').trim()).toBe('one two');
  });

  test('head, script, style and comments are dropped; a lone < is text', () => {
    const html = '<HTML><HEAD><TITLE>t</TITLE></HEAD><BODY><!-- x <p>y</p> -->a < b<SCRIPT>s()</SCRIPT><style type="text/css">p{}</style>!</BODY></HTML>';
    expect(htmlToText(html).replace(/\s+/g, ' ').trim()).toBe('a < b !');
  });
});
