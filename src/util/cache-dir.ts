import { dirname, join } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';

/**
 * Where CompactLM keeps caches, in order of preference: <package>/node_modules/.cache/compactlm (where build tools
 * keep theirs), then the temp folder when the package folder is read-only (a global install). COMPACTLM_CACHE_DIR
 * names one folder instead (a test's own, or a shared disk).
 */
export function cacheRoots(): string[] {
  if (process.env.COMPACTLM_CACHE_DIR) return [process.env.COMPACTLM_CACHE_DIR];
  const pkgRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
  const uid = typeof process.getuid === 'function' ? process.getuid() : 'user';
  return [join(pkgRoot, 'node_modules', '.cache', 'compactlm'), join(tmpdir(), `compactlm-${uid}`)];
}
