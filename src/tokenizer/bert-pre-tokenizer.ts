import { PRE_TOKEN, PRE_TOKEN_ASCII } from './hf-unicode.js';

/**
 * BertPreTokenizer as Hugging Face `tokenizers` defines it (tokenizers/src/pre_tokenizers/bert.rs): split on
 * whitespace (dropped), then make every punctuation character a word of its own. transformers.js 2.17.2 does the
 * same with current Unicode categories; this one uses Unicode 8.0's, as HF does (hf-unicode.ts), so that e.g.
 * "⹃" (U+2E43, punctuation only since Unicode 9) stays inside its word.
 */
export function bertPreTokenize(text: string): string[] {
  // eslint-disable-next-line no-control-regex
  return text.match(/^[\x00-\x7f]*$/.test(text) ? PRE_TOKEN_ASCII : PRE_TOKEN) ?? [];
}
