/**
 * The character classes of Hugging Face `tokenizers`' BertNormalizer and BertPreTokenizer. HF takes categories
 * from the Rust crate unicode_categories 0.1.1, whose tables are Unicode 8.0 (2015); Node's regular expressions
 * know a current Unicode. To give HF's ids for any text, characters are classified as Unicode 8.0 did:
 *   - AFTER_8: characters that are nonspacing marks (Mn), control/format/private-use (Cc, Cf, Co) or punctuation
 *     (P*) now but were not assigned in Unicode 8.0: for HF they are ordinary characters (kept, inside words);
 *   - characters whose category changed since 8.0 are listed one by one below.
 * Whitespace is Rust's char::is_whitespace, the White_Space property, which has not changed.
 *
 * AFTER_8 was generated as: every code point matching /[\p{Mn}\p{Cf}\p{Co}\p{Cc}\p{P}]/u in Node v20.20.2 (Unicode 17.0)
 * that is outside Perl's `Unicode::UCD::prop_invlist("Present_In=8.0")`. A check of all 1,112,064 code points
 * (each in "a<c>b x<c> <c>") against tokenizers' own Rust build found exactly these 651 plus the 7 changes below,
 * and no other difference.
 */
const AFTER_8 =
  '\u{61D}\u{7FD}\u{890}-\u{891}\u{897}-\u{89F}\u{8CA}-\u{8E2}\u{9FD}-\u{9FE}\u{A76}\u{AFA}-\u{AFF}\u{B55}' +
  '\u{C04}\u{C3C}\u{C77}\u{C84}\u{D00}\u{D3B}-\u{D3C}\u{D81}\u{EBA}\u{ECE}\u{180F}\u{1ABF}-\u{1ADD}' +
  '\u{1AE0}-\u{1AEB}\u{1B4E}-\u{1B4F}\u{1B7D}-\u{1B7F}\u{1DF6}-\u{1DFB}\u{2E43}-\u{2E4F}\u{2E52}-\u{2E5D}' +
  '\u{A82C}\u{A8C5}\u{A8FF}\u{10D24}-\u{10D27}\u{10D69}-\u{10D6E}\u{10EAB}-\u{10EAD}\u{10ED0}' +
  '\u{10EFA}-\u{10EFF}\u{10F46}-\u{10F50}\u{10F55}-\u{10F59}\u{10F82}-\u{10F89}\u{11070}\u{11073}-\u{11074}' +
  '\u{110C2}\u{110CD}\u{111CF}\u{1123E}\u{11241}\u{1133B}\u{113BB}-\u{113C0}\u{113CE}\u{113D0}\u{113D2}' +
  '\u{113D4}-\u{113D5}\u{113D7}-\u{113D8}\u{113E1}-\u{113E2}\u{11438}-\u{1143F}\u{11442}-\u{11444}\u{11446}' +
  '\u{1144B}-\u{1144F}\u{1145A}-\u{1145B}\u{1145D}-\u{1145E}\u{11660}-\u{1166C}\u{116B9}\u{1182F}-\u{11837}' +
  '\u{11839}-\u{1183B}\u{1193B}-\u{1193C}\u{1193E}\u{11943}-\u{11946}\u{119D4}-\u{119D7}\u{119DA}-\u{119DB}' +
  '\u{119E0}\u{119E2}\u{11A01}-\u{11A0A}\u{11A33}-\u{11A38}\u{11A3B}-\u{11A47}\u{11A51}-\u{11A56}' +
  '\u{11A59}-\u{11A5B}\u{11A8A}-\u{11A96}\u{11A98}-\u{11A9C}\u{11A9E}-\u{11AA2}\u{11B00}-\u{11B09}\u{11B60}' +
  '\u{11B62}-\u{11B64}\u{11B66}\u{11BE1}\u{11C30}-\u{11C36}\u{11C38}-\u{11C3D}\u{11C3F}\u{11C41}-\u{11C45}' +
  '\u{11C70}-\u{11C71}\u{11C92}-\u{11CA7}\u{11CAA}-\u{11CB0}\u{11CB2}-\u{11CB3}\u{11CB5}-\u{11CB6}' +
  '\u{11D31}-\u{11D36}\u{11D3A}\u{11D3C}-\u{11D3D}\u{11D3F}-\u{11D45}\u{11D47}\u{11D90}-\u{11D91}\u{11D95}' +
  '\u{11D97}\u{11EF3}-\u{11EF4}\u{11EF7}-\u{11EF8}\u{11F00}-\u{11F01}\u{11F36}-\u{11F3A}\u{11F40}' +
  '\u{11F42}-\u{11F4F}\u{11F5A}\u{11FFF}\u{12FF1}-\u{12FF2}\u{13430}-\u{13440}\u{13447}-\u{13455}' +
  '\u{1611E}-\u{16129}\u{1612D}-\u{1612F}\u{16D6D}-\u{16D6F}\u{16E97}-\u{16E9A}\u{16F4F}\u{16FE2}\u{16FE4}' +
  '\u{1CF00}-\u{1CF2D}\u{1CF30}-\u{1CF46}\u{1E000}-\u{1E006}\u{1E008}-\u{1E018}\u{1E01B}-\u{1E021}' +
  '\u{1E023}-\u{1E024}\u{1E026}-\u{1E02A}\u{1E08F}\u{1E130}-\u{1E136}\u{1E2AE}\u{1E2EC}-\u{1E2EF}' +
  '\u{1E4EC}-\u{1E4EF}\u{1E5EE}-\u{1E5EF}\u{1E5FF}\u{1E6E3}\u{1E6E6}\u{1E6EE}-\u{1E6EF}\u{1E6F5}' +
  '\u{1E944}-\u{1E94A}\u{1E95E}-\u{1E95F}';

/**
 * Characters HF treats as ordinary (not removed, not stripped, not split): AFTER_8, and four that are Mn now but were
 * a letter (U+1885, U+1886), a spacing mark (U+A9BD) or punctuation (U+111C9, see P_IN_8) in Unicode 8.0.
 */
const ORDINARY = `${AFTER_8}\u{1885}\u{1886}\u{A9BD}\u{111C9}`;
/** Nonspacing marks in Unicode 8.0 that are spacing marks (Mc) now. */
const MN_IN_8 = '\u{1734}\u{1171E}';
/** Punctuation in Unicode 8.0 that is not now (U+166D is So, U+111C9 Mn). */
const P_IN_8 = '\u{166D}\u{111C9}';
const ASCII_PUNCT = '!-\\/:-@\\[-`{-~';

/** clean_text removes NUL, U+FFFD and "other" characters (Cc, Cf, Co) except tab, newline and return. */
export const REMOVED = new RegExp(`[\\0\\uFFFD]|(?![\\t\\n\\r${ORDINARY}])[\\p{Cc}\\p{Cf}\\p{Co}]`, 'gu');
/** strip_accents removes these after NFD. */
export const NONSPACING_MARK = new RegExp(`[${MN_IN_8}]|(?![${ORDINARY}])\\p{Mn}`, 'gu');
export const WHITESPACE = /\p{White_Space}/gu;
/** HF's is_bert_punc: ASCII punctuation or a Unicode 8.0 punctuation character; each becomes its own word. */
const PUNCT = `[${ASCII_PUNCT}${P_IN_8}]|(?![${ORDINARY}])\\p{P}`;
/** A word for BertPreTokenizer: one punctuation character, or a run of characters that are neither that nor space. */
export const PRE_TOKEN = new RegExp(`${PUNCT}|(?:(?!${PUNCT}|\\p{White_Space})[^])+`, 'gu');
/** The same for printable ASCII text, which needs none of the above (the common case, kept fast). */
export const PRE_TOKEN_ASCII = /[!-/:-@[-`{-~]|[^\s!-/:-@[-`{-~]+/g;
