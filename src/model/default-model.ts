import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The model CompactLM uses when a command is not given one (`compactlm infer "text"`, later `serve`, `summarize`):
 * `models/compactlm-mini` at the package root, a model or export folder shipped with CompactLM. One constant, so
 * every command agrees on it.
 */

/** The package root (this file is src/model/default-model.ts, or dist/model/default-model.js once built). */
export const PACKAGE_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Where the default model lives, relative to the package root (as messages show it). */
export const DEFAULT_MODEL_NAME = 'models/compactlm-mini';

/** Absolute path of the default model folder. */
export const DEFAULT_MODEL_DIR = join(PACKAGE_ROOT, DEFAULT_MODEL_NAME);

/** The default model's folder when it is installed (it has a config.json), else null. */
export function installedDefaultModel(dir: string = DEFAULT_MODEL_DIR): string | null {
  return existsSync(join(dir, 'config.json')) ? dir : null;
}

/** A path under the package root as the user should read it (relative when inside the package). */
export function packagePath(path: string): string {
  const rel = relative(PACKAGE_ROOT, path);
  return rel && !rel.startsWith('..') ? rel : path;
}
