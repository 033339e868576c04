/**
 * Windows-1252, the charset most 8-bit English text of the 1990s–2000s is really in, whatever it declares.
 * TextDecoder('windows-1252') is not enough on its own: Node 20 decodes that label as ISO-8859-1, so bytes
 * 0x80–0x9F come out as C1 control characters; this maps them to the characters they stand for.
 */

// Windows-1252 for bytes 0x80–0x9F (the five bytes it leaves undefined stay as they are).
const CP1252_C1 = '€\u0081‚ƒ„…†‡ˆ‰Š‹Œ\u008dŽ\u008f\u0090‘’“”•–—˜™š›œ\u009džŸ';

/** Replaces C1 control characters (U+0080–U+009F) with the Windows-1252 characters of the same byte value. */
export function repairCp1252(text: string): string {
  return text.replace(/[\u0080-\u009f]/g, (c) => CP1252_C1[c.charCodeAt(0) - 0x80]);
}

/** Windows-1252 bytes as text, the same on every Node version. */
export function decodeCp1252(bytes: Uint8Array): string {
  return repairCp1252(new TextDecoder('windows-1252').decode(bytes));
}
