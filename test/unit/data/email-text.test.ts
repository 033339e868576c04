import { contentType, decodeCharset, decodeQuotedPrintable, emailBodyText, multipartParts, splitMessage } from '../../../src/data/email-text.js';

/** A message as raw bytes; `\n` line ends unless the text has its own. */
const mail = (text: string, encoding: BufferEncoding = 'latin1') => Buffer.from(text, encoding);
const squash = (s: string) => s.replace(/\s+/g, ' ').trim();

describe('headers', () => {
  test('the mbox From line is skipped, folded lines joined, names lower-cased, the first repeat wins, CRLF read', () => {
    const { headers, body } = splitMessage('From someone@x  Tue Aug  6 11:51:02 2002\r\nSubject: Hello\r\n  world\r\nReceived: a\r\nReceived: b\r\n\r\nBody\r\nline\r\n');
    expect(Object.fromEntries(headers)).toEqual({ subject: 'Hello world', received: 'a' });
    expect(body).toBe('Body\nline\n');
  });

  test('a part without headers starts with its blank line; a message without a blank line is all headers', () => {
    expect(splitMessage('\nJust text\n\nmore')).toEqual({ headers: new Map(), body: 'Just text\n\nmore' });
    expect(splitMessage('Subject: x').body).toBe('');
  });

  test('content type: parameters quoted or not; absent or malformed means text/plain', () => {
    const h = (v: string) => new Map([['content-type', v]]);
    expect(contentType(h('Multipart/Alternative; boundary="--=_b 1"; CHARSET=utf-8'))).toEqual({ type: 'multipart/alternative', params: { boundary: '--=_b 1', charset: 'utf-8' } });
    expect(contentType(h('text/html;charset=iso-8859-1'))).toEqual({ type: 'text/html', params: { charset: 'iso-8859-1' } });
    expect(contentType(new Map()).type).toBe('text/plain');
    expect(contentType(h('text')).type).toBe('text/plain');
  });

  test('multipart parts: preamble and epilogue dropped, a missing close tolerated', () => {
    expect(multipartParts('preamble\n--b\nA\n--b \nB\n--b--\nepilogue\n', 'b')).toEqual(['A', 'B']);
    expect(multipartParts('--b\nA\n--b\nB\n', 'b')).toEqual(['A', 'B\n']);
    expect(multipartParts('no parts here', 'b')).toEqual([]);
  });
});

describe('transfer encodings and charsets', () => {
  test('quoted-printable: =XX bytes and soft line breaks', () => {
    expect(decodeQuotedPrintable('caf=E9 au lait=\nis hot =3D good=  \n!').toString('latin1')).toBe('café au laitis hot = good!');
  });

  test('declared charsets are decoded; iso-8859-1 as windows-1252, as browsers do', () => {
    expect(decodeCharset(Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x20, 0x96, 0x20, 0x93, 0x71, 0x94]), 'iso-8859-1')).toBe('café – “q”');
    expect(decodeCharset(Buffer.from('привет', 'utf8'), 'UTF-8')).toBe('привет');
    expect(decodeCharset(Buffer.from([0xd0, 0xd2, 0xc9, 0xd7, 0xc5, 0xd4]), 'koi8-r')).toBe('привет');
  });

  test('undeclared, us-ascii and unknown labels: UTF-8 when valid, else windows-1252', () => {
    expect(decodeCharset(Buffer.from('naïve', 'utf8'), undefined)).toBe('naïve');
    expect(decodeCharset(Buffer.from([0x6e, 0x61, 0xef, 0x76, 0x65]), 'us-ascii')).toBe('naïve');
    expect(decodeCharset(Buffer.from([0xa3, 0x35]), 'default_charset')).toBe('£5');
  });
});

describe('emailBodyText', () => {
  test('a plain message: the body only, headers gone', () => {
    expect(emailBodyText(mail('From: a@b\nSubject: Hi there\n\nSee you at 5.\n-- \nA\n'))).toBe('See you at 5.\n-- \nA\n');
  });

  test('multipart/alternative: the text/plain part is preferred over the HTML one', () => {
    const raw = [
      'Content-Type: multipart/alternative; boundary="XX"',
      '',
      'This is a multi-part message in MIME format.',
      '--XX',
      'Content-Type: text/html',
      '',
      '<p>HTML version</p>',
      '--XX',
      'Content-Type: text/plain; charset=utf-8',
      'Content-Transfer-Encoding: base64',
      '',
      Buffer.from('Plain version – ok', 'utf8').toString('base64'),
      '--XX--',
      '',
    ].join('\n');
    expect(squash(emailBodyText(mail(raw)))).toBe('Plain version – ok');
  });

  test('HTML only: visible text, with head, style, script and comments dropped and references decoded', () => {
    const raw = [
      'Content-Type: text/html; charset="iso-8859-1"',
      'Content-Transfer-Encoding: quoted-printable',
      '',
      '<html><head><title>Buy</title><style>p {color: red}</style></head><body><!-- hidden -->',
      '<table><tr><td>FREE</td><td>offer</td></tr></table><p>Only &pound;5 &amp; caf=E9 &#8212; <a href=3D"http://x">click=',
      ' here</a></p><script>alert(1)</script></body></html>',
    ].join('\n');
    // &pound; is outside the decoded named references and stays as written.
    expect(squash(emailBodyText(mail(raw)))).toBe('FREE offer Only &pound;5 & café — click here');
  });

  test('a text/plain body that is a whole HTML document is read as HTML; stray tags in plain text stay', () => {
    expect(squash(emailBodyText(mail('\n<HTML><BODY><b>Win</b> now</BODY></HTML>')))).toBe('Win now');
    expect(squash(emailBodyText(mail('\nUse <br> for a line break.')))).toBe('Use <br> for a line break.');
  });

  test('multipart/mixed: text parts in order, attachments and non-text parts skipped, nested parts walked', () => {
    const raw = [
      'Content-Type: multipart/mixed; boundary=outer',
      '',
      '--outer',
      'Content-Type: multipart/alternative; boundary=inner',
      '',
      '--inner',
      'Content-Type: text/plain',
      '',
      'First part.',
      '--inner',
      'Content-Type: text/html',
      '',
      '<p>First part.</p>',
      '--inner--',
      '--outer',
      'Content-Type: text/plain; name="log.txt"',
      'Content-Disposition: attachment; filename="log.txt"',
      '',
      'attached log',
      '--outer',
      'Content-Type: image/gif',
      'Content-Transfer-Encoding: base64',
      '',
      'R0lGODlhAQABAAAAACw=',
      '--outer',
      'Content-Type: message/rfc822',
      '',
      'From: c@d',
      'Subject: forwarded',
      '',
      'Forwarded body.',
      '--outer--',
    ].join('\n');
    expect(squash(emailBodyText(mail(raw)))).toBe('First part. Forwarded body.');
  });

  test('multipart with a boundary that never occurs: the body read as plain text', () => {
    expect(squash(emailBodyText(mail('Content-Type: multipart/mixed; boundary=nope\n\nJust some text.\n')))).toBe('Just some text.');
  });

  test('8-bit bytes survive parsing and are decoded with the part charset', () => {
    const raw = Buffer.concat([Buffer.from('Content-Type: text/plain; charset=windows-1252\n\nIt', 'latin1'), Buffer.from([0x92]), Buffer.from('s 100', 'latin1'), Buffer.from([0x80])]);
    expect(emailBodyText(raw)).toBe('It’s 100€');
  });
});
