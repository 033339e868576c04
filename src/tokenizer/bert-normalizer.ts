import { NONSPACING_MARK, REMOVED, WHITESPACE } from './hf-unicode.js';

/**
 * BertNormalizer {clean_text, handle_chinese_chars, strip_accents: null, lowercase: true} with the semantics of
 * Hugging Face `tokenizers` (Rust; tokenizers/src/normalizers/bert.rs), which is what "bert-base-uncased ids" mean
 * for anyone loading tokenizer.json. transformers.js 2.17.2's BertNormalizer differs from it in four ways, each of
 * which changes ids, so CompactLM installs this one in its place:
 *   1. accents: HF drops every nonspacing mark (category Mn) after NFD; transformers.js only U+0300–U+036F, so it
 *      keeps e.g. the Japanese voicing mark in "ガ" (→ カ + U+3099) and Arabic/Hebrew/Indic vowel signs;
 *   2. CJK ideographs outside the BMP (U+20000…): transformers.js tests UTF-16 code units, so never sees them;
 *      the ranges are HF's (its extension-C range starts at U+2B920, not U+2B820);
 *   3. lowercase: HF maps each character on its own, so a word-final "Σ" becomes "σ"; JS toLowerCase() makes "ς";
 *   4. order: HF strips accents, then lowercases (transformers.js the reverse).
 * Character categories are Unicode 8.0's, as in HF (see hf-unicode.ts).
 */

/** HF's "Chinese character" ranges (CJK Unified Ideographs and extensions, compatibility ideographs). */
const CJK =
  /[\u{4E00}-\u{9FFF}\u{3400}-\u{4DBF}\u{20000}-\u{2A6DF}\u{2A700}-\u{2B73F}\u{2B740}-\u{2B81F}\u{2B920}-\u{2CEAF}\u{F900}-\u{FAFF}\u{2F800}-\u{2FA1F}]/gu;
/** Text that every step below leaves unchanged except lowercasing (the common case, kept fast). */
const PLAIN_ASCII = /^[\x20-\x7e]*$/;

export interface BertNormalizerConfig {
  clean_text?: boolean;
  handle_chinese_chars?: boolean;
  strip_accents?: boolean | null;
  lowercase?: boolean;
}

/** A normalizer for a tokenizer.json `BertNormalizer` entry (defaults as HF's). */
export function bertNormalizer(config: BertNormalizerConfig = {}): (text: string) => string {
  const clean = config.clean_text ?? true;
  const chinese = config.handle_chinese_chars ?? true;
  const lowercase = config.lowercase ?? true;
  const strip = config.strip_accents ?? lowercase; // HF: null/absent follows lowercase
  return (text) => {
    if (PLAIN_ASCII.test(text)) return lowercase ? text.toLowerCase() : text;
    let s = text;
    if (clean) s = s.replace(REMOVED, '').replace(WHITESPACE, ' ');
    if (chinese) s = s.replace(CJK, (c) => ` ${c} `);
    if (strip) s = s.normalize('NFD').replace(NONSPACING_MARK, '');
    // Per-character lowercase: Σ is the only letter whose JS toLowerCase() depends on context (final sigma).
    if (lowercase) s = s.replace(/\u03A3/g, '\u03C3').toLowerCase();
    return s;
  };
}

/** bert-base-uncased's normalizer: clean_text, handle_chinese_chars, strip_accents null, lowercase. */
export const bertNormalize = bertNormalizer();
