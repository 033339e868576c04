import { existsSync, promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { tempSibling, writeFileAtomic } from '../util/atomic.js';
import { cacheRoots } from '../util/cache-dir.js';
import { loadVocab, SPECIAL_IDS, SPECIAL_TOKENS, vocabText, VOCAB_SHA256 } from './vocab.js';

/**
 * The Hugging Face tokenizer files for bert-base-uncased, as the hub's own folder has them, built from the vocab:
 * `tokenizer.json` (the `tokenizers` library's format, read by transformers.js and by PyTorch transformers' fast
 * tokenizer), `tokenizer_config.json` and `vocab.txt` (read by the slow BertTokenizer). No package ships a
 * tokenizer.json, so CompactLM writes one into every model and export folder.
 */

export const TOKENIZER_FILES = ['tokenizer.json', 'tokenizer_config.json', 'vocab.txt'] as const;

/** A special token as `added_tokens` lists it: matched in raw text before normalization, never split. */
function addedToken(content: string, id: number) {
  return { id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true };
}

function specials() {
  return [
    addedToken(SPECIAL_TOKENS.pad, SPECIAL_IDS.pad),
    addedToken(SPECIAL_TOKENS.unk, SPECIAL_IDS.unk),
    addedToken(SPECIAL_TOKENS.cls, SPECIAL_IDS.cls),
    addedToken(SPECIAL_TOKENS.sep, SPECIAL_IDS.sep),
    addedToken(SPECIAL_TOKENS.mask, SPECIAL_IDS.mask),
  ];
}

/** tokenizer.json text. The vocab object is written in id order (JSON.stringify would move "0", "1", … first). */
export function tokenizerJson(vocab: readonly string[] = loadVocab()): string {
  const cls = SPECIAL_TOKENS.cls;
  const sep = SPECIAL_TOKENS.sep;
  const doc = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: specials(),
    // strip_accents null: HF then strips accents because lowercase is true (the uncased model's training text).
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [
        { SpecialToken: { id: cls, type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: sep, type_id: 0 } },
      ],
      pair: [
        { SpecialToken: { id: cls, type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: sep, type_id: 0 } },
        { Sequence: { id: 'B', type_id: 1 } },
        { SpecialToken: { id: sep, type_id: 1 } },
      ],
      special_tokens: {
        [cls]: { id: cls, ids: [SPECIAL_IDS.cls], tokens: [cls] },
        [sep]: { id: sep, ids: [SPECIAL_IDS.sep], tokens: [sep] },
      },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: {
      type: 'WordPiece',
      unk_token: SPECIAL_TOKENS.unk,
      continuing_subword_prefix: '##',
      max_input_chars_per_word: 100,
      vocab: '__VOCAB__',
    },
  };
  const entries = vocab.map((token, id) => `      ${JSON.stringify(token)}: ${id}`).join(',\n');
  return `${JSON.stringify(doc, null, 2).replace('"__VOCAB__"', `{\n${entries}\n    }`)}\n`;
}

/** tokenizer_config.json: what transformers (Python and JS) need besides tokenizer.json. */
export function tokenizerConfig(): Record<string, unknown> {
  const decoder: Record<string, unknown> = {};
  for (const t of specials()) {
    const { id, ...rest } = t;
    decoder[String(id)] = rest;
  }
  return {
    added_tokens_decoder: decoder,
    clean_up_tokenization_spaces: true,
    cls_token: SPECIAL_TOKENS.cls,
    do_lower_case: true,
    mask_token: SPECIAL_TOKENS.mask,
    model_max_length: 512,
    pad_token: SPECIAL_TOKENS.pad,
    sep_token: SPECIAL_TOKENS.sep,
    strip_accents: null,
    tokenize_chinese_chars: true,
    tokenizer_class: 'BertTokenizer',
    unk_token: SPECIAL_TOKENS.unk,
  };
}

/** Writes tokenizer.json, tokenizer_config.json and vocab.txt into `dir` (created if needed), each atomically. */
export async function writeTokenizerFiles(dir: string): Promise<void> {
  const vocab = loadVocab();
  await fsp.mkdir(dir, { recursive: true });
  await writeFileAtomic(join(dir, 'tokenizer.json'), tokenizerJson(vocab));
  await writeFileAtomic(join(dir, 'tokenizer_config.json'), `${JSON.stringify(tokenizerConfig(), null, 2)}\n`);
  await writeFileAtomic(join(dir, 'vocab.txt'), vocabText(vocab));
}

/** Bumped whenever the files written above change, so that an old cached folder is not reused. */
const FILES_VERSION = 1;

let defaultDir: Promise<string> | undefined;

/**
 * A folder with the default tokenizer files, created on first use. It is built in a temporary sibling and renamed
 * into place, so a concurrent or interrupted first use never leaves a half-written folder.
 */
export function defaultTokenizerDir(): Promise<string> {
  defaultDir ??= createDefaultDir().catch((e) => {
    defaultDir = undefined;
    throw e;
  });
  return defaultDir;
}

async function createDefaultDir(): Promise<string> {
  const name = `bert-base-uncased-v${FILES_VERSION}-${VOCAB_SHA256.slice(0, 12)}`;
  let lastError: unknown;
  for (const root of cacheRoots()) {
    const dir = join(root, name);
    if (TOKENIZER_FILES.every((f) => existsSync(join(dir, f)))) return dir;
    const tmp = tempSibling(dir);
    try {
      await fsp.mkdir(root, { recursive: true });
      await writeTokenizerFiles(tmp);
      try {
        await fsp.rename(tmp, dir);
      } catch (e) {
        // Another process finished first: use its folder.
        if (!TOKENIZER_FILES.every((f) => existsSync(join(dir, f)))) throw e;
      }
      return dir;
    } catch (e) {
      lastError = e;
    } finally {
      await fsp.rm(tmp, { recursive: true, force: true });
    }
  }
  throw new Error(`cannot create the tokenizer cache folder: ${(lastError as Error)?.message ?? lastError}`);
}
