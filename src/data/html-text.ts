/**
 * HTML to plain text for the dataset builders (the corpus' HTML manuals, the bodies of HTML e-mails): tags
 * removed, character references decoded. Not a full HTML parser: these inputs only need their text back.
 */

// Named references beyond these are left as written (the corpus build is pinned to this table: a new name would
// change its bytes).
const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ', mdash: '—', ndash: '–', hellip: '…', rsquo: '’', lsquo: '‘', rdquo: '”', ldquo: '“', copy: '©', reg: '®' };

/** `&#x..;`, `&#..;` and the named references above; a number beyond U+10FFFF stays as written. */
export function decodeEntities(text: string): string {
  const codePoint = (ref: string, n: number) => (n <= 0x10ffff ? String.fromCodePoint(n) : ref);
  return text
    .replace(/&#x([0-9a-f]+);/gi, (ref, h: string) => codePoint(ref, parseInt(h, 16)))
    .replace(/&#(\d+);/g, (ref, d: string) => codePoint(ref, Number(d)))
    .replace(/&([a-z]+);/gi, (ref, n: string) => ENTITIES[n.toLowerCase()] ?? ref);
}

/**
 * The visible text of an HTML document: comments and the content of <head>, <script> and <style> dropped, every
 * tag replaced by a space (so words in adjacent cells do not run together), references decoded. Whitespace is
 * left for the caller to collapse.
 */
export function htmlToText(html: string): string {
  return decodeEntities(
    html
      .replace(/<!--[\s\S]*?-->/g, ' ')
      .replace(/<(head|script|style)\b[\s\S]*?<\/\1\s*>/gi, ' ')
      .replace(/<\/?[a-z!][^>]*>/gi, ' '),
  );
}
