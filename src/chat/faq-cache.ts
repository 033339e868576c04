/**
 * The FAQ's question vectors, cached beside the FAQ file so a chat starts without re-encoding every question:
 *
 *   const index = await loadFaqIndex(faq, embedder, await modelFingerprint('models/compactlm-mini', false));
 *   // reads (or writes) datasets/shop-faq.csv.compactlm-vectors.json
 *
 * The cache is one JSON file, written atomically, keyed by the sha256 of the FAQ file's bytes and by the model's
 * fingerprint (the sha256 of config.json, the weights file that runs — model.safetensors, onnx/model.onnx or, for
 * int8, onnx/model_quantized.onnx — and tokenizer.json when the folder has one). Either key differing means the
 * vectors are stale: they are recomputed and the file is replaced. A cache that cannot be read as one (bad JSON,
 * wrong shape, non-finite values) is ignored with a warning and rewritten; a folder that cannot be written to
 * (a read-only install) costs a warning and the vectors are recomputed at every start. Never an error.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ONNX_MODEL_FILE, ONNX_QUANTIZED_FILE } from '../export/export-folder.js';
import type { Embedder } from '../infer/embed.js';
import { isExportFolder } from '../infer/encoder-model.js';
import { CONFIG_FILE, WEIGHTS_FILE } from '../model/checkpoint-folder.js';
import { writeFileAtomic } from '../util/atomic.js';
import { log } from '../util/log.js';
import { progress } from '../util/progress.js';
import { embedAll, FaqIndex, type Faq } from './faq.js';

export const CACHE_SUFFIX = '.compactlm-vectors.json';
const FORMAT = 'compactlm-faq-vectors';
const VERSION = 1;

/** Where the vectors of `faqFile` are cached. */
export function cachePath(faqFile: string): string {
  return `${faqFile}${CACHE_SUFFIX}`;
}

interface CacheFile {
  format: typeof FORMAT;
  version: typeof VERSION;
  faq_sha256: string;
  model: string;
  pooling: 'mean, L2-normalised';
  rows: number;
  dim: number;
  dtype: 'float32-le';
  /** rows × dim float32 little-endian, base64. */
  vectors: string;
}

function sha256File(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(path).on('data', (c) => h.update(c)).on('error', reject).on('end', () => resolve(h.digest('hex')));
  });
}

/** The files that decide a model's vectors: config, the weights that run, the tokenizer. */
export function fingerprintFiles(dir: string, int8: boolean): string[] {
  const weights = isExportFolder(dir) ? (int8 ? ONNX_QUANTIZED_FILE : ONNX_MODEL_FILE) : WEIGHTS_FILE;
  return [CONFIG_FILE, weights, 'tokenizer.json'].filter((f) => existsSync(join(dir, f)));
}

/** sha256 over the names and sha256s of fingerprintFiles(dir, int8). */
export async function modelFingerprint(dir: string, int8: boolean): Promise<string> {
  const h = createHash('sha256');
  for (const f of fingerprintFiles(dir, int8)) h.update(`${f}\0${await sha256File(join(dir, f))}\n`);
  return h.digest('hex');
}

function encodeVectors(v: Float32Array): string {
  const buf = Buffer.alloc(v.length * 4);
  v.forEach((x, i) => buf.writeFloatLE(x, i * 4));
  return buf.toString('base64');
}

/** The vectors of a cache file, or why it is not usable: 'stale' (other FAQ or model) or a problem (broken). */
function parseCache(text: string, faq: Faq, model: string, dim: number): Float32Array | { stale: true } | { broken: string } {
  let c: Partial<CacheFile>;
  try {
    c = JSON.parse(text) as Partial<CacheFile>;
  } catch (e) {
    return { broken: `not valid JSON (${(e as Error).message})` };
  }
  if (typeof c !== 'object' || c === null || c.format !== FORMAT || c.version !== VERSION) return { broken: `not a ${FORMAT} v${VERSION} file` };
  if (c.faq_sha256 !== faq.sha256 || c.model !== model) return { stale: true };
  if (c.rows !== faq.rows.length || c.dim !== dim || typeof c.vectors !== 'string') return { broken: `shape ${c.rows}×${c.dim}, expected ${faq.rows.length}×${dim}` };
  const buf = Buffer.from(c.vectors, 'base64');
  if (buf.length !== c.rows * c.dim * 4) return { broken: `${buf.length} bytes of vectors, expected ${c.rows * c.dim * 4}` };
  const v = new Float32Array(c.rows * c.dim);
  for (let i = 0; i < v.length; i++) v[i] = buf.readFloatLE(i * 4);
  if (!v.every(Number.isFinite)) return { broken: 'non-finite values' };
  return v;
}

/** The FAQ's index: vectors from the cache when it matches the FAQ and the model, else encoded (and cached). */
export async function loadFaqIndex(faq: Faq, embedder: Embedder, model: string, o: { cache?: boolean } = {}): Promise<FaqIndex> {
  const path = cachePath(faq.file);
  const dim = embedder.config.hidden_size;
  if (o.cache !== false && existsSync(path)) {
    let text: string | undefined;
    try {
      text = await readFile(path, 'utf8');
    } catch (e) {
      log().warn(`${path}: cannot read the FAQ vector cache (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}): re-encoding`);
    }
    if (text !== undefined) {
      const got = parseCache(text, faq, model, dim);
      if (got instanceof Float32Array) {
        log().debug({ cache: path, rows: faq.rows.length }, 'FAQ vectors from the cache');
        return new FaqIndex(faq, got);
      }
      if ('broken' in got) log().warn(`${path}: broken FAQ vector cache (${got.broken}): ignored, re-encoding and rewriting it`);
      else log().info(`${path}: the FAQ or the model changed since the vectors were cached: re-encoding`);
    }
  }
  const t0 = performance.now();
  const bar = progress('encode FAQ', faq.rows.length, 'questions');
  const rows = await embedAll(embedder, faq.rows.map((r) => r.question), { onProgress: (n) => bar.update(n) });
  bar.stop();
  const vectors = new Float32Array(faq.rows.length * dim);
  rows.forEach((r, i) => vectors.set(r, i * dim));
  log().info({ rows: rows.length, ms: Math.round(performance.now() - t0) }, `encoded the ${rows.length} FAQ questions of ${faq.file}`);
  if (o.cache !== false) {
    const c: CacheFile = { format: FORMAT, version: VERSION, faq_sha256: faq.sha256, model, pooling: 'mean, L2-normalised', rows: faq.rows.length, dim, dtype: 'float32-le', vectors: encodeVectors(vectors) };
    try {
      await writeFileAtomic(path, `${JSON.stringify(c)}\n`);
    } catch (e) {
      log().warn(`${path}: cannot write the FAQ vector cache (${(e as Error).message}): the questions are encoded again at every start`);
    }
  }
  return new FaqIndex(faq, vectors);
}
