import { decodeCp1252 } from './cp1252.js';
import { htmlToText } from './html-text.js';

/**
 * The readable body of an RFC 822 / MIME e-mail, from its raw bytes: headers dropped, multipart messages walked,
 * quoted-printable and base64 undone, the declared charset decoded, HTML turned into text. Enough MIME for a
 * corpus of real mail (the SpamAssassin public corpus), not a mail client: malformed structure degrades to
 * reading the body as plain text rather than failing.
 *
 * Work happens on "binary strings" (one char per byte, latin1) until a text part is decoded with its charset,
 * so 8-bit bytes survive the parsing untouched.
 */

export interface MailPart {
  /** Lower-cased header names; folded lines joined; the first of a repeated header wins. */
  headers: Map<string, string>;
  body: string;
}

/** Splits headers from the body at the first blank line. Lines that are not `Name: value` (mbox `From `) are skipped. */
export function splitMessage(raw: string): MailPart {
  const text = raw.replace(/\r\n/g, '\n');
  const end = text.startsWith('\n') ? 0 : text.indexOf('\n\n');
  const head = end < 0 ? text : text.slice(0, end);
  const body = end < 0 ? '' : text.slice(end + (end === 0 ? 1 : 2));
  const headers = new Map<string, string>();
  let last: string | undefined;
  for (const line of head.split('\n')) {
    if (/^[ \t]/.test(line)) {
      if (last !== undefined) headers.set(last, `${headers.get(last)} ${line.trim()}`);
      continue;
    }
    const m = /^([!-9;-~]+):[ \t]*(.*)$/.exec(line);
    last = m && !headers.has(m[1].toLowerCase()) ? m[1].toLowerCase() : undefined;
    if (m && last !== undefined) headers.set(last, m[2].trim());
  }
  return { headers, body };
}

/** `type/subtype` (lower case; text/plain when absent or malformed, as RFC 2045 says) and its parameters. */
export function contentType(headers: Map<string, string>): { type: string; params: Record<string, string> } {
  const value = headers.get('content-type') ?? '';
  const type = value.split(';')[0].trim().toLowerCase();
  const params: Record<string, string> = {};
  for (const m of value.matchAll(/;\s*([a-z0-9*_.-]+)\s*=\s*(?:"([^"]*)"|([^;\s]*))/gi)) params[m[1].toLowerCase()] = m[2] ?? m[3];
  return { type: type.includes('/') ? type : 'text/plain', params };
}

/** The parts between `--boundary` lines; the preamble and the epilogue are dropped; a missing close is tolerated. */
export function multipartParts(body: string, boundary: string): string[] {
  const open = `--${boundary}`;
  const parts: string[] = [];
  let current: string[] | undefined;
  for (const line of body.split('\n')) {
    const bare = line.trimEnd();
    if (bare === open || bare === `${open}--`) {
      if (current) parts.push(current.join('\n'));
      current = bare === open ? [] : undefined;
      if (current === undefined) return parts;
    } else if (current) {
      current.push(line);
    }
  }
  if (current) parts.push(current.join('\n'));
  return parts;
}

/** Undoes quoted-printable (soft line breaks, `=XX`), byte for byte. */
export function decodeQuotedPrintable(body: string): Buffer {
  const binary = body.replace(/=[ \t]*\n/g, '').replace(/=([0-9A-Fa-f]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
  return Buffer.from(binary, 'latin1');
}

function transferDecode(part: MailPart): Buffer {
  const encoding = (part.headers.get('content-transfer-encoding') ?? '').trim().toLowerCase();
  if (encoding === 'base64') return Buffer.from(part.body.replace(/[^A-Za-z0-9+/=]/g, ''), 'base64');
  if (encoding === 'quoted-printable') return decodeQuotedPrintable(part.body);
  return Buffer.from(part.body, 'latin1');
}

/**
 * Text of a part's bytes in its declared charset (TextDecoder knows the WHATWG labels: windows-125x, iso-8859-x,
 * koi8-r, gb2312, big5, euc-kr, ...; iso-8859-1 means windows-1252 there, as in browsers). Undeclared, us-ascii (which 8-bit bytes contradict) and labels TextDecoder
 * does not know (`default`, `unknown-8bit`) decode as UTF-8 when the bytes are valid UTF-8, else as
 * windows-1252, what 8-bit mail of the period mostly is.
 */
export function decodeCharset(bytes: Buffer, charset: string | undefined): string {
  const label = (charset ?? '').trim().toLowerCase();
  const decoder = label === '' || label === 'us-ascii' ? undefined : decoderFor(label);
  if (decoder) return decoder.encoding === 'windows-1252' ? decodeCp1252(bytes) : decoder.decode(bytes);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return decodeCp1252(bytes);
  }
}

/** A decoder for a charset label, or undefined when TextDecoder does not know the label. */
function decoderFor(label: string) {
  try {
    return new TextDecoder(label);
  } catch {
    return undefined;
  }
}

// A text/plain body that is really a whole HTML document (common in spam sent without MIME headers).
const HTML_DOCUMENT = /<(html|body)[\s>]/i;

/** Text of one part: multiparts walked, attachments and non-text parts skipped. */
function renderPart(part: MailPart): string {
  const { type, params } = contentType(part.headers);
  if (type.startsWith('multipart/')) {
    const subparts = params.boundary ? multipartParts(part.body, params.boundary).map(splitMessage) : [];
    if (subparts.length === 0) return renderText(part, 'text/plain', params.charset);
    const shown = subparts.filter((p) => !/^\s*attachment/i.test(p.headers.get('content-disposition') ?? ''));
    if (type === 'multipart/alternative') {
      // Alternatives of the same content: the plain one if there is one, else the first that has text.
      const plain = shown.find((p) => contentType(p.headers).type === 'text/plain');
      if (plain) return renderPart(plain);
      return shown.map(renderPart).find((text) => text.trim() !== '') ?? '';
    }
    return shown.map(renderPart).join('\n');
  }
  if (type === 'message/rfc822') return renderPart(splitMessage(part.body));
  if (type === 'text/plain' || type === 'text/html' || type === 'text/enriched') return renderText(part, type, params.charset);
  return ''; // images, applications, signatures, calendars, vcards: no prose
}

function renderText(part: MailPart, type: string, charset: string | undefined): string {
  const text = decodeCharset(transferDecode(part), charset);
  return type !== 'text/plain' || HTML_DOCUMENT.test(text) ? htmlToText(text) : text;
}

/** The body text of a raw message, whitespace as in the message (the caller collapses it). */
export function emailBodyText(raw: Buffer): string {
  return renderPart(splitMessage(raw.toString('latin1')));
}
