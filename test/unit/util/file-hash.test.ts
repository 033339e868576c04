/**
 * fileSha256: the sha256 of the bytes (checked against node:crypto on the file read whole), remembered for an
 * unchanged file, and never the old hash once the file is rewritten, even with the same size and mtime restored.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cacheRoots } from '../../../src/util/cache-dir.js';
import { fileSha256 } from '../../../src/util/file-hash.js';

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'file-hash-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');
const memos = () => cacheRoots().flatMap((r) => {
  try {
    return readdirSync(join(r, 'hashes'));
  } catch {
    return [];
  }
});

test('the hash of the bytes, remembered while the file is unchanged', async () => {
  const f = join(root, 'weights.bin');
  writeFileSync(f, Buffer.alloc(1 << 20, 7));
  const before = new Set(memos());
  expect(await fileSha256(f)).toBe(sha(f));
  expect(memos().filter((m) => !before.has(m))).toHaveLength(1);
  expect(await fileSha256(f)).toBe(sha(f));
  expect(memos().filter((m) => !before.has(m))).toHaveLength(1);
});

test('a rewritten file of the same size, with its old mtime put back, gets its new hash', async () => {
  const f = join(root, 'same-size.bin');
  writeFileSync(f, Buffer.alloc(4096, 1));
  const { atime, mtime } = statSync(f);
  const old = await fileSha256(f);
  writeFileSync(f, Buffer.alloc(4096, 2));
  utimesSync(f, atime, mtime);
  const now = await fileSha256(f);
  expect(now).toBe(sha(f));
  expect(now).not.toBe(old);
});
