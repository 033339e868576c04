/** The pretraining corpus's cleaners: each markup is reduced to its prose, and the hold-out is a fixed function of the text. */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { dictdEntries, dictParagraphs, htmlParagraphs, infoParagraphs, isProse, isValidation, packParagraphs, podParagraphs, rstParagraphs, stripRst, VAL_MODULUS } from '../../../src/data/corpus.js';

describe('corpus cleaners', () => {
  test('isProse keeps sentences, drops code, tables and fragments', () => {
    expect(isProse('The kernel schedules each process in turn, giving every task a fair share of the processor.')).toBe(true);
    expect(isProse('for (i = 0; i < n; i++) { x[i] = y[i] * 2; } return x;')).toBe(false);
    expect(isProse('Installation guide')).toBe(false);
    expect(isProse('| col | col | col | col | col | col | col | col |')).toBe(false);
  });

  test('reStructuredText: roles, links, literals and emphasis unwrapped; directives, underlines and literal blocks dropped', () => {
    expect(stripRst('Use :func:`open` or :ref:`the guide <guide>`, see `Python <https://python.org>`_ and ``len()``; it is *fast* and **safe**.'))
      .toBe('Use open or the guide, see Python and len(); it is fast and safe.');
    const rst = ['Title', '=====', '', '.. note::', '', '   A directive body.', '', 'An example follows::', '', '    x = 1', '    y = 2', '', 'After the example, plain prose resumes here.'].join('\n');
    expect(rstParagraphs(rst)).toEqual(['Title', 'An example follows:', 'After the example, plain prose resumes here.']); // isProse drops the title
  });

  test('HTML: the text of <p> and DocBook <div class="para">, entities decoded, <pre> and scripts ignored', () => {
    const html = '<html><script>var a = "<p>no</p>";</script><p>Caf&eacute; &amp; <b>bar</b> &#8212; fine&#x21;</p><pre><p>code</p></pre><div class="para">Handbook text.</div></html>';
    expect(htmlParagraphs(html)).toEqual(['Caf&eacute; & bar — fine!', 'Handbook text.']);
  });

  test('POD: ordinary paragraphs with formatting codes unwrapped; commands and verbatim blocks dropped', () => {
    const pod = ['=head1 NAME', '', 'The B<print> function writes C<< $x > 1 >> to L<perlfunc/print> and E<lt>STDOUTE<gt>.', '', '    print "verbatim";', '', '=cut'].join('\n');
    expect(podParagraphs(pod)).toEqual(['The print function writes $x > 1 to perlfunc and <STDOUT>.']);
  });

  test('GNU info: menus, node headers and examples dropped', () => {
    const info = ['\x1f', 'File: grep.info,  Node: Usage,  Next: Regexps', '', '* Menu:', '* Intro::', '', 'The grep command searches files for lines that match a pattern (*note Regexps::).', '', '     grep -i hello file.txt'].join('\n');
    expect(infoParagraphs(info)).toEqual(['The grep command searches files for lines that match a pattern (see Regexps).']); // as Info renders @pxref
  });

  test('dictd databases: entries by the base64 index, headers, pronunciations and source tags removed', () => {
    const dir = mkdtempSync(join(tmpdir(), 'compactlm-dictd-'));
    try {
      const entry = 'Affect \\Af*fect"\\, v. t. [L. affectus.]\n   1. To act upon; to produce an effect or change upon.\n      [1913 Webster]\n';
      writeFileSync(join(dir, 'toy.dict.dz'), gzipSync(Buffer.from(entry)));
      const b64 = (n: number) => { const A = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'; let s = ''; do { s = A[n % 64] + s; n = Math.floor(n / 64); } while (n > 0); return s; };
      writeFileSync(join(dir, 'toy.index'), `00-database-info\tA\tB\naffect\t${b64(0)}\t${b64(Buffer.byteLength(entry))}\n`);
      const [e] = dictdEntries(dir, 'toy');
      expect(e.headword).toBe('affect');
      expect(dictParagraphs(e.body).map((p) => p.replace(/\s+/g, ' ').trim())).toEqual(['To act upon; to produce an effect or change upon.']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('passages pack whole paragraphs up to the word budget; the hold-out is 1 in 100 by sha256', () => {
    expect(packParagraphs(['one two three', 'four five', 'six seven eight nine'], 5)).toEqual(['one two three four five', 'six seven eight nine']);
    const texts = Array.from({ length: 20000 }, (_, i) => `passage number ${i}`);
    const held = texts.filter(isValidation);
    expect(held.every((t) => createHash('sha256').update(t).digest().readUInt32BE(0) % VAL_MODULUS === 0)).toBe(true);
    expect(held.length).toBeGreaterThan(150);
    expect(held.length).toBeLessThan(250);
  });
});
