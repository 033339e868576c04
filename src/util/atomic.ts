/**
 * Writing outputs so that an error or a kill never leaves a partial file: everything is written to a temporary
 * sibling (same folder, so the rename is atomic) and renamed into place at the end. One writer for the project.
 *
 *   await writeFileAtomic(path, bytes);                     // file: temp + rename
 *   await writeFileAtomic(path, bytes, { durable: true });  // + fsync of the file and its folder (checkpoints)
 *   const tmp = tempSibling(dir);                           // folder: build in tmp, then commitFolder(tmp, dir)
 */
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** Temporary sibling of `path` (same folder, so the final rename is atomic). */
export function tempPath(path: string): string {
  return join(dirname(path), `.${basename(path)}.tmp-${process.pid}`);
}

/** A unique temporary sibling name for a folder `dir` (several may be in flight in one process). */
export function tempSibling(dir: string): string {
  return join(dirname(dir), `.${basename(dir)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
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
    throw e;
  }
  if (o.durable) await fsyncDir(dirname(path));
}

/** Writes a file and fsyncs it (no rename: for files inside a temporary folder). */
export async function writeSynced(path: string, data: Uint8Array | string): Promise<void> {
  const fh = await fsp.open(path, 'w');
  try {
    await fh.writeFile(data);
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
 * the rename succeeded, so at every moment one complete version is in place.
 */
export async function commitFolder(tmp: string, dir: string): Promise<void> {
  let old: string | null = null;
  try {
    await fsp.access(dir);
    old = tempSibling(`${dir}.old`);
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
