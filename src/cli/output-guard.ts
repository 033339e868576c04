/**
 * No command destroys one of its inputs: every output path is checked against every input path before any work.
 *
 *   refuseOverwritingInputs([{ what: '-o', path: 'out.csv' }], [{ what: 'the input', path: 'raw.csv' }]);
 *
 * An output is refused when it is an input (the same file, also through a symbolic or hard link), contains one
 * (an output folder around an input: it would be replaced or written into), or lies inside an input folder
 * (writing there changes the input). Paths are compared after resolving `..` and symbolic links, also for outputs
 * that do not exist yet (their nearest existing folder is resolved).
 */
import { existsSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { UserError } from '../util/errors.js';

export interface NamedPath {
  /** How the user gave it: '-o raw.csv', 'the input', '--train'. */
  what: string;
  path: string;
}

/** The canonical absolute path: symbolic links resolved up to the nearest part that exists. */
export function canonicalPath(p: string): string {
  let head = resolve(p);
  const tail: string[] = [];
  for (;;) {
    try {
      return join(realpathSync(head), ...tail);
    } catch {
      const up = dirname(head);
      if (up === head) return resolve(p);
      tail.unshift(basename(head));
      head = up;
    }
  }
}

/** The same file or folder (also through a symbolic or hard link). */
export function samePath(a: string, b: string): boolean {
  if (canonicalPath(a) === canonicalPath(b)) return true;
  const sa = statSync(a, { throwIfNoEntry: false });
  const sb = statSync(b, { throwIfNoEntry: false });
  return !!sa && !!sb && sa.dev === sb.dev && sa.ino === sb.ino;
}

/** `inner` is `outer` or inside it. */
export function isWithin(inner: string, outer: string): boolean {
  const i = canonicalPath(inner);
  const o = canonicalPath(outer);
  return i === o || i.startsWith(o.endsWith(sep) ? o : o + sep);
}

/** How `out` would touch `input`, or null when it cannot. */
export function overlap(out: string, input: string): 'is' | 'contains' | 'lies inside' | null {
  if (!existsSync(input)) return null;
  if (samePath(out, input)) return 'is';
  if (isWithin(input, out)) return 'contains';
  if (statSync(input).isDirectory() && isWithin(out, input)) return 'lies inside';
  return null;
}

/** Refuses (exit 2) an output that is, contains or lies inside one of the inputs, in one line naming both. */
export function refuseOverwritingInputs(outputs: NamedPath[], inputs: NamedPath[]): void {
  for (const out of outputs) {
    for (const input of inputs) {
      const how = overlap(out.path, input.path);
      if (how) {
        throw new UserError(`${out.what} ${out.path} ${how} ${input.what} ${input.path}: choose another output (a command never overwrites its input)`, 2);
      }
    }
  }
}
