/**
 * Hugging Face Hub model ids (`bert-base-uncased`, `google/bert_uncased_L-4_H-256_A-4`) as local folders, the way
 * huggingface_hub lays out its cache, so a model that PyTorch transformers already downloaded is found here:
 *
 *   <cache>/models--<org>--<name>/refs/main            the commit id that `main` pointed to
 *                                 /snapshots/<commit>/  config.json, model.safetensors, vocab.txt, … (symlinks)
 *                                 /blobs/<etag>          the file contents
 *
 *   const dir = await resolveHubModel('bert-base-uncased');   // cached snapshot, else downloaded into the cache
 *
 * <cache> is $HF_HUB_CACHE, else $HF_HOME/hub, else $XDG_CACHE_HOME/huggingface/hub, else ~/.cache/huggingface/hub
 * (huggingface_hub's order). When the model is not cached and the network is there, config.json,
 * model.safetensors and vocab.txt (and tokenizer.json when the repo has one) are fetched from
 * $HF_ENDPOINT (default https://huggingface.co)/<id>/resolve/main/<file> into the same layout; each request must
 * answer within HUB_TIMEOUT_MS (env COMPACTLM_HUB_TIMEOUT_MS) or we treat the hub as unreachable. HF_HUB_OFFLINE=1
 * never touches the network. Offline and uncached → one line saying where we looked and how to provide a folder.
 */
import { createWriteStream, existsSync, promises as fsp, readdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, relative } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { track } from '../util/atomic.js';
import { UserError } from '../util/errors.js';
import { log } from '../util/log.js';

export const HUB_TIMEOUT_MS = 10_000;
const REQUIRED = ['config.json', 'model.safetensors'];
const OPTIONAL = ['vocab.txt', 'tokenizer.json'];

/** huggingface_hub's cache folder for this environment. */
export function hubCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.HF_HUB_CACHE) return env.HF_HUB_CACHE;
  if (env.HF_HOME) return join(env.HF_HOME, 'hub');
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'huggingface', 'hub');
}

/** `name` or `org/name` with the characters the Hub allows (not a path: no `..`, no leading `.` or `/`). */
export function isHubId(s: string): boolean {
  return /^[A-Za-z0-9][\w.-]*(\/[A-Za-z0-9][\w.-]*)?$/.test(s) && !s.includes('..');
}

export function repoFolder(id: string, cache = hubCacheDir()): string {
  return join(cache, `models--${id.replace('/', '--')}`);
}

/** The cached snapshot folder of `id` at refs/main (or the only snapshot when refs/main is absent), if complete. */
export function cachedSnapshot(id: string, cache = hubCacheDir()): string | null {
  const repo = repoFolder(id, cache);
  const ref = join(repo, 'refs', 'main');
  let commit: string | undefined;
  if (existsSync(ref)) commit = readFileSync(ref, 'utf8').trim();
  else if (existsSync(join(repo, 'snapshots'))) {
    const all = readdirSync(join(repo, 'snapshots'));
    if (all.length === 1) commit = all[0];
  }
  if (!commit) return null;
  const dir = join(repo, 'snapshots', commit);
  const hasWeights = ['model.safetensors', 'model.safetensors.index.json', 'onnx/model.onnx'].some((f) => existsSync(join(dir, f)));
  return existsSync(join(dir, 'config.json')) && hasWeights ? dir : null;
}

export interface ResolveOptions {
  cache?: string;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
  /** Called with (file, bytes so far, total bytes or NaN) while downloading. */
  onProgress?: (file: string, done: number, total: number) => void;
}

/** The local folder of hub model `id`: the cached snapshot, else a fresh download into the cache. */
export async function resolveHubModel(id: string, o: ResolveOptions = {}): Promise<string> {
  const env = o.env ?? process.env;
  const cache = o.cache ?? hubCacheDir(env);
  const cached = cachedSnapshot(id, cache);
  if (cached) {
    log().info({ id, dir: cached }, `teacher ${id}: using the cached snapshot ${cached}`);
    return cached;
  }
  const where = repoFolder(id, cache);
  const howTo = `download it where there is internet (\`huggingface-cli download ${id}\`, or save_pretrained(dir, safe_serialization=True)) ` +
    `and pass that folder (config.json + model.safetensors) as --teacher`;
  if (isTrue(env.HF_HUB_OFFLINE)) {
    throw new UserError(`--teacher ${id}: no such folder, and not in the Hugging Face cache (looked in ${where}); HF_HUB_OFFLINE is set, so nothing was downloaded; ${howTo}`);
  }
  try {
    return await downloadSnapshot(id, cache, { ...o, env });
  } catch (e) {
    if (e instanceof UserError) throw e;
    const why = (e as Error).name === 'TimeoutError' || (e as Error).name === 'AbortError' ? 'no answer in time' : causeOf(e);
    throw new UserError(`--teacher ${id}: no such folder, not in the Hugging Face cache (looked in ${where}), and the hub is unreachable (${why}); ${howTo}`);
  }
}

const isTrue = (v: string | undefined) => v !== undefined && /^(1|true|yes|on)$/i.test(v.trim());

function causeOf(e: unknown): string {
  const err = e as Error & { cause?: { code?: string; message?: string } };
  return err.cause?.code ?? err.cause?.message ?? err.message ?? String(e);
}

/**
 * Fetches the files of `id` at `main` into the cache layout: blobs/<etag>, snapshots/<commit>/<file> → blob
 * symlink (a copy where symlinks are not allowed), then refs/main. A file is written to `<blob>.incomplete` first
 * and renamed when complete, so an interrupted download leaves no snapshot behind.
 */
export async function downloadSnapshot(id: string, cache: string, o: ResolveOptions = {}): Promise<string> {
  const env = o.env ?? process.env;
  const endpoint = (env.HF_ENDPOINT || 'https://huggingface.co').replace(/\/+$/, '');
  const timeoutMs = o.timeoutMs ?? (Number(env.COMPACTLM_HUB_TIMEOUT_MS) || HUB_TIMEOUT_MS);
  const repo = repoFolder(id, cache);
  let commit: string | undefined;
  const fetched: { file: string; blob: string }[] = [];
  for (const file of [...REQUIRED, ...OPTIONAL]) {
    const url = `${endpoint}/${id}/resolve/main/${file}`;
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'follow' });
    if (res.status === 404 || res.status === 401) {
      await res.body?.cancel();
      if (!REQUIRED.includes(file)) continue;
      if (file === 'config.json') throw new UserError(`--teacher ${id}: no such model on ${endpoint} (or it is gated/private)`);
      throw new UserError(`--teacher ${id}: the model has no ${file} on ${endpoint} (CompactLM reads safetensors weights); convert it with transformers: model.save_pretrained(dir, safe_serialization=True), then pass the folder`);
    }
    if (!res.ok || !res.body) throw new Error(`${url}: HTTP ${res.status}`);
    commit ??= res.headers.get('x-repo-commit') ?? undefined;
    const etag = (res.headers.get('x-linked-etag') ?? res.headers.get('etag') ?? '').replace(/^W\//, '').replace(/"/g, '');
    const blob = join(repo, 'blobs', etag || `${file.replace(/\W/g, '_')}-${Date.now()}`);
    await fsp.mkdir(join(repo, 'blobs'), { recursive: true });
    if (!existsSync(blob)) {
      const total = Number(res.headers.get('content-length'));
      let done = 0;
      const body = Readable.fromWeb(res.body as unknown as WebReadableStream<Uint8Array>);
      body.on('data', (chunk: Buffer) => {
        done += chunk.length;
        o.onProgress?.(file, done, total);
      });
      const tmp = track(`${blob}.incomplete`); // HF's own name for a partial download; removed on SIGINT too
      try {
        await pipeline(body, createWriteStream(tmp));
        await fsp.rename(tmp, blob);
      } catch (e) {
        await fsp.rm(tmp, { force: true });
        throw e;
      }
    } else {
      await res.body.cancel();
    }
    fetched.push({ file, blob });
    log().info({ id, file }, `teacher ${id}: downloaded ${file}`);
  }
  commit ??= 'main';
  const snapshot = join(repo, 'snapshots', commit);
  await fsp.mkdir(snapshot, { recursive: true });
  for (const { file, blob } of fetched) {
    const link = join(snapshot, file);
    await fsp.rm(link, { force: true });
    try {
      await fsp.symlink(relative(snapshot, blob), link);
    } catch {
      await fsp.copyFile(blob, link);
    }
  }
  await fsp.mkdir(join(repo, 'refs'), { recursive: true });
  await fsp.writeFile(join(repo, 'refs', 'main'), commit);
  return snapshot;
}
