/**
 * sha256 of a file, remembered across runs by the file's identity and change times, so a start-up that keys a
 * cache on a 20–45 MB weights file does not read and hash it every time:
 *
 *   const hex = await fileSha256('models/compactlm-mini/model.safetensors');
 *
 * The memo's key is (path, device, inode, size, mtime and ctime in ns). Writing a file changes its ctime, which no
 * tool can set back, so a changed file never meets its old hash. Memos live in the cache folders
 * (util/cache-dir.ts) as one small file each; a memo that cannot be read or written only costs a re-hash.
 */
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { join, resolve } from 'node:path';
import { writeFileAtomic } from './atomic.js';
import { cacheRoots } from './cache-dir.js';

const HEX = /^[0-9a-f]{64}$/;
const KEEP = 256;

export async function fileSha256(path: string): Promise<string> {
  const st = await fsp.stat(path, { bigint: true });
  const identity = [resolve(path), st.dev, st.ino, st.size, st.mtimeNs, st.ctimeNs].join('\0');
  const memo = `${createHash('sha256').update(identity).digest('hex').slice(0, 32)}.sha256`;
  for (const root of cacheRoots()) {
    const known = await fsp.readFile(join(root, 'hashes', memo), 'utf8').catch(() => '');
    if (HEX.test(known)) return known;
  }
  const hex = createHash('sha256').update(await fsp.readFile(path)).digest('hex');
  for (const root of cacheRoots()) {
    try {
      const dir = join(root, 'hashes');
      await fsp.mkdir(dir, { recursive: true });
      await writeFileAtomic(join(dir, memo), hex);
      await evict(dir);
      break;
    } catch {
      // read-only here: try the next root
    }
  }
  return hex;
}

/** The newest KEEP memos stay (files come and go: test folders, retrained models). */
async function evict(dir: string): Promise<void> {
  const names = (await fsp.readdir(dir)).filter((f) => f.endsWith('.sha256'));
  if (names.length <= KEEP) return;
  const dated = await Promise.all(names.map(async (f) => ({ f, t: (await fsp.stat(join(dir, f))).mtimeMs })));
  dated.sort((a, b) => b.t - a.t);
  for (const { f } of dated.slice(KEEP)) await fsp.rm(join(dir, f), { force: true });
}
