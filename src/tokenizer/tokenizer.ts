import { isAbsolute, parse, relative, resolve } from 'node:path';
import { bertNormalizer, type BertNormalizerConfig } from './bert-normalizer.js';
import { bertPreTokenize } from './bert-pre-tokenizer.js';
import { defaultTokenizerDir } from './tokenizer-json.js';
import { checkMaxLength, MODEL_MAX_LENGTH, truncateContent } from './truncate.js';
import { SPECIAL_IDS } from './vocab.js';

/**
 * The bert-base-uncased WordPiece tokenizer: a tokenizer folder (tokenizer.json + tokenizer_config.json) loaded by
 * transformers.js, with two corrections so that ids equal Hugging Face `tokenizers`' for any text:
 *   - its BertNormalizer and BertPreTokenizer are replaced by HF's semantics (bert-normalizer.ts and
 *     bert-pre-tokenizer.ts say what differs);
 *   - specials and truncation are done here (truncate.ts), so a truncated sequence still ends with [SEP].
 * Special-token matching and greedy longest-match WordPiece are transformers.js's own and agree with HF.
 */

export interface Encoding {
  input_ids: number[];
  attention_mask: number[];
  token_type_ids: number[];
  tokens: string[];
}

/** The part of transformers.js's PreTrainedTokenizer used here. */
interface TransformersTokenizer {
  normalizer: (((text: string) => string) & { config?: { type?: string } & BertNormalizerConfig }) | null;
  pre_tokenizer: ((text: string) => string[]) | null;
  encode(text: string, pair: string | null, opts: { add_special_tokens: boolean }): number[];
  model: { vocab: string[] };
}

export class Tokenizer {
  readonly vocabSize: number;
  readonly clsId = SPECIAL_IDS.cls;
  readonly sepId = SPECIAL_IDS.sep;
  readonly padId = SPECIAL_IDS.pad;
  readonly unkId = SPECIAL_IDS.unk;
  readonly maskId = SPECIAL_IDS.mask;

  constructor(private inner: TransformersTokenizer, readonly dir: string) {
    this.vocabSize = inner.model.vocab.length;
  }

  /** Content token ids of `text`, without specials and without truncation. */
  ids(text: string): number[] {
    return this.inner.encode(text, null, { add_special_tokens: false });
  }

  idsToTokens(ids: ArrayLike<number>): string[] {
    const vocab = this.inner.model.vocab;
    return Array.from(ids, (id) => vocab[id] ?? '[UNK]');
  }

  /**
   * `[CLS] text [SEP]` or `[CLS] text [SEP] pair [SEP]` truncated to `maxLength` (content first, longest-first for
   * pairs), with attention mask and token type ids as BERT expects.
   */
  encode(text: string, pair: string | null = null, maxLength = MODEL_MAX_LENGTH): Encoding & { truncated: boolean } {
    checkMaxLength(maxLength, pair !== null);
    const cut = truncateContent(this.ids(text), pair === null ? null : this.ids(pair), maxLength);
    const input_ids = [this.clsId, ...cut.a, this.sepId];
    const token_type_ids = new Array<number>(input_ids.length).fill(0);
    if (cut.b !== null) {
      input_ids.push(...cut.b, this.sepId);
      token_type_ids.push(...new Array<number>(cut.b.length + 1).fill(1));
    }
    return {
      input_ids,
      attention_mask: new Array<number>(input_ids.length).fill(1),
      token_type_ids,
      tokens: this.idsToTokens(input_ids),
      truncated: cut.truncated,
    };
  }

  /** `[CLS] text [SEP]` as uint16 ids (the training shards' form), truncated to `maxLength`. */
  encodeUint16(text: string, maxLength = MODEL_MAX_LENGTH): { ids: Uint16Array; truncated: boolean; content: number } {
    const content = this.ids(text);
    const cut = truncateContent(content, null, maxLength);
    const ids = new Uint16Array(cut.a.length + 2);
    ids[0] = this.clsId;
    ids.set(cut.a, 1);
    ids[ids.length - 1] = this.sepId;
    return { ids, truncated: cut.truncated, content: content.length };
  }
}

const loaded = new Map<string, Promise<Tokenizer>>();

/**
 * Loads the tokenizer of a folder (a model or export folder, or by default CompactLM's cached bert-base-uncased
 * folder) through transformers.js, local files only. Loaded once per folder and process.
 */
export function loadTokenizer(dir?: string): Promise<Tokenizer> {
  const key = dir === undefined ? '' : resolve(dir);
  let p = loaded.get(key);
  if (!p) {
    p = (async () => fromFolder(dir === undefined ? await defaultTokenizerDir() : resolve(dir)))();
    p.catch(() => loaded.delete(key));
    loaded.set(key, p);
  }
  return p;
}

async function fromFolder(dir: string): Promise<Tokenizer> {
  // Its tokenizer and env modules, not the package entry, which also loads the model, pipeline and image code (sharp
  // among them): start-up time that a tokenizer does not need (bench/startup.mjs). Those modules still import
  // its ONNX backends; package.json overrides the browser one (onnxruntime-web) with onnxruntime-common for that reason.
  const { AutoTokenizer } = await import('@xenova/transformers/src/tokenizers.js');
  const { env } = await import('@xenova/transformers/src/env.js'); // loaded by the first already
  // transformers.js looks for `<env.localModelPath>/<name>/<file>` (utils/hub.js getModelFile) and, before that, in
  // its own file cache under the name. Giving the path from the filesystem root as the name keeps both lookups
  // unambiguous; nothing is fetched or cached because remote models are off.
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  if (!isAbsolute(dir)) dir = resolve(dir);
  const root = parse(dir).root;
  env.localModelPath = root;
  const name = relative(root, dir).split('\\').join('/');
  // It console.warn()s about every file it cannot find before failing: held back, so an error stays one line.
  const warnings: unknown[][] = [];
  const warn = console.warn;
  console.warn = (...args: unknown[]) => void warnings.push(args);
  let inner: TransformersTokenizer;
  try {
    inner = (await AutoTokenizer.from_pretrained(name, { local_files_only: true })) as unknown as TransformersTokenizer;
  } catch (e) {
    throw new Error(`${dir}: cannot load the tokenizer (${(e as Error).message.split('\n')[0]})`);
  } finally {
    console.warn = warn;
  }
  for (const w of warnings) console.warn(...w);
  if (inner.normalizer?.config?.type === 'BertNormalizer') inner.normalizer = bertNormalizer(inner.normalizer.config);
  // transformers.js's BertPreTokenizer keeps no config; its class tells what tokenizer.json asked for.
  if (inner.pre_tokenizer?.constructor.name === 'BertPreTokenizer') inner.pre_tokenizer = bertPreTokenize;
  return new Tokenizer(inner, dir);
}
