/**
 * Compiled inference graphs of model folders, cached on disk so that the next start loads an ONNX file instead of
 * reading the weights into JavaScript and compiling the graph again (quicker, and ONNX Runtime then holds the only
 * copy of the weights):
 *
 *   const file = await cachedGraph({ dir, output: 'masked_logits' });        // a path, or null on a miss
 *   … compile … ; await storeGraph({ dir, output }, bytes);                  // best effort
 *
 * The key is the sha256 of the folder's config.json and weights (remembered by util/file-hash.ts), the output,
 * and the source of the graph compiler itself (model/ and onnx/ next to this file), so a changed model or a changed
 * compiler never meets an old graph.
 * `COMPACTLM_GRAPH_CACHE=0` turns the cache off. The newest KEEP graphs are kept.
 */
import { createHash } from 'node:crypto';
import { existsSync, promises as fsp, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeFileAtomic } from '../util/atomic.js';
import { cacheRoots } from '../util/cache-dir.js';
import { fileSha256 } from '../util/file-hash.js';
import { log } from '../util/log.js';

const KEEP = 8;

export interface GraphKey {
  /** The model folder. */
  dir: string;
  /** What the graph computes (its outputs). */
  output: string;
}

let compilerId: string | undefined;

/** sha256 of the compiler's own source files (model/**, onnx/**), read once per process. */
function compilerHash(): string {
  if (compilerId) return compilerId;
  const h = createHash('sha256');
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (/\.(js|ts)$/.test(name) && !name.endsWith('.d.ts')) h.update(name).update(readFileSync(p));
    }
  };
  for (const sub of ['../model/', '../onnx/']) walk(fileURLToPath(new URL(sub, import.meta.url)));
  return (compilerId = h.digest('hex'));
}

async function keyOf(k: GraphKey): Promise<string> {
  const h = createHash('sha256').update(compilerHash()).update(k.output);
  for (const f of ['config.json', 'model.safetensors']) h.update(f).update(await fileSha256(join(k.dir, f)));
  return h.digest('hex').slice(0, 32);
}

function enabled(): boolean {
  return process.env.COMPACTLM_GRAPH_CACHE !== '0';
}

const fileName = async (k: GraphKey) => `${await keyOf(k)}.onnx`;

/** The cached graph's path, or null (none yet, or the cache is off). */
export async function cachedGraph(k: GraphKey): Promise<string | null> {
  if (!enabled()) return null;
  const name = await fileName(k);
  for (const root of cacheRoots()) {
    const path = join(root, 'graphs', name);
    if (existsSync(path)) {
      await fsp.utimes(path, new Date(), new Date()).catch(() => {}); // recently used: kept by evict()
      return path;
    }
  }
  return null;
}

/** Stores a compiled graph under its key (best effort: a read-only disk only costs the next start its compile). */
export async function storeGraph(k: GraphKey, bytes: Uint8Array): Promise<void> {
  if (!enabled()) return;
  const name = await fileName(k);
  for (const root of cacheRoots()) {
    const dir = join(root, 'graphs');
    try {
      await fsp.mkdir(dir, { recursive: true });
      await writeFileAtomic(join(dir, name), bytes);
      await evict(dir);
      return;
    } catch (e) {
      log().debug({ dir, err: (e as Error).message }, 'graph cache: cannot write here');
    }
  }
}

async function evict(dir: string): Promise<void> {
  const files = readdirSync(dir).filter((f) => f.endsWith('.onnx')).map((f) => ({ f, t: statSync(join(dir, f)).mtimeMs }));
  files.sort((a, b) => b.t - a.t);
  for (const { f } of files.slice(KEEP)) await fsp.rm(join(dir, f), { force: true });
}
