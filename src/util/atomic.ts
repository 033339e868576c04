/**
 * Writing outputs so that an error or a kill never leaves a partial file: everything is written to a temporary
 * sibling (same folder, so the rename is atomic) and renamed into place at the end. One writer for the project.
 *
 *   await writeFileAtomic(path, bytes);                     // file: temp + rename
 *   await writeFileAtomic(path, bytes, { durable: true });  // + fsync of the file and its folder (checkpoints)
 *   const tmp = tempSibling(dir);                           // folder: build in tmp, then commitFolder(tmp, dir)
 *
 * Temporaries are named `.<name>.tmp-<pid>[-<hex>]`. Each one this process makes is remembered, so a SIGINT or
 * SIGTERM can remove them (removeTempsSync, called by the CLI's signal handler); those of an earlier process that
 * was killed (its pid no longer runs) are removed by the next write of the same output (removeStaleTemps).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, promises as fsp, readdirSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fsError } from './errors.js';

const inFlight = new Set<string>();

/** Temporary sibling of `path` (same folder, so the final rename is atomic). */
export function tempPath(path: string): string {
  removeStaleTemps(path);
  return track(join(dirname(path), `.${basename(path)}.tmp-${process.pid}`));
}

/** A unique temporary sibling name for a folder `dir` (several may be in flight in one process). */
export function tempSibling(dir: string): string {
  removeStaleTemps(dir);
  return track(join(dirname(dir), `.${basename(dir)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`));
}

/** Remembers a temporary path of this process (for removeTempsSync). */
export function track(path: string): string {
  inFlight.add(path);
  return path;
}

/** Removes every temporary this process made that is still there (on SIGINT/SIGTERM, before exiting). */
export function removeTempsSync(): void {
  for (const p of inFlight) rmSync(p, { recursive: true, force: true });
  inFlight.clear();
}

/**
 * Removes the temporaries of `path` left by processes that no longer run (a kill -9, a power cut). A folder that
 * commitFolder had moved aside (`.<name>.old.tmp-…`) is put back when `path` itself is missing: it is the last
 * complete version.
 */
export function removeStaleTemps(path: string): void {
  const dir = dirname(path);
  const name = basename(path);
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return;
  }
  for (const entry of entries) {
    const m = /^\.(.+)\.tmp-(\d+)(?:-[0-9a-f]+)?$/.exec(entry);
    if (!m || (m[1] !== name && m[1] !== `${name}.old`) || pidRuns(Number(m[2]))) continue;
    const stale = join(dir, entry);
    if (m[1] !== name && !existsSync(path)) renameSync(stale, path);
    else rmSync(stale, { recursive: true, force: true });
  }
}

function pidRuns(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Writes a whole file atomically; `durable` also fsyncs the file before the rename and the folder after it. */
export async function writeFileAtomic(path: string, data: string | Uint8Array, o: { durable?: boolean } = {}): Promise<void> {
  const tmp = tempPath(path);
  try {
    if (o.durable) await writeSynced(tmp, data);
    else await fsp.writeFile(tmp, data);
    await fsp.rename(tmp, path);
  } catch (e) {
    await fsp.rm(tmp, { force: true });
    throw fsError(e, path, 'write');
  }
  if (o.durable) await fsyncDir(dirname(path));
}

/** Writes a file (its bytes, or its consecutive parts) and fsyncs it (no rename: for files inside a temporary folder). */
export async function writeSynced(path: string, data: Uint8Array | string | readonly Uint8Array[]): Promise<void> {
  const fh = await fsp.open(path, 'w');
  try {
    // Each writeFile on a handle continues where the last one ended.
    for (const part of typeof data === 'string' || data instanceof Uint8Array ? [data] : data) await fh.writeFile(part);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** fsync of a folder, so renames and new entries in it are durable. Some platforms cannot; then it is skipped. */
export async function fsyncDir(dir: string): Promise<void> {
  let fh;
  try {
    fh = await fsp.open(dir, 'r');
    await fh.sync();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EISDIR' && code !== 'EPERM' && code !== 'EINVAL' && code !== 'EBADF') throw e;
  } finally {
    await fh?.close();
  }
}

/**
 * Moves a finished temporary folder `tmp` to `dir`. An existing `dir` is first moved aside and removed only after
 * the rename succeeded, so at every moment one complete version exists: in place, or moved aside for the instant
 * between the renames (where removeStaleTemps puts it back if the process dies there).
 */
export async function commitFolder(tmp: string, dir: string): Promise<void> {
  let old: string | null = null;
  try {
    await fsp.access(dir);
    // Not tracked: if a signal comes between the two renames, this is the complete version removeStaleTemps restores.
    old = join(dirname(dir), `.${basename(dir)}.old.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
    await fsp.rename(dir, old);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  try {
    await fsp.rename(tmp, dir);
  } catch (e) {
    if (old) await fsp.rename(old, dir);
    throw e;
  }
  if (old) await fsp.rm(old, { recursive: true, force: true });
}
