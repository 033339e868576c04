/**
 * A problem with the user's input or settings. The CLI prints its message as one line (no stack trace unless
 * --verbose) and exits non-zero. Messages name the file, the row/line and what is wrong.
 */
export class UserError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
    this.name = 'UserError';
  }
}

/** `file:line: problem` — the shape every data error takes. */
export function atLine(file: string, line: number | undefined, problem: string): UserError {
  return new UserError(line === undefined ? `${file}: ${problem}` : `${file}:${line}: ${problem}`);
}

/** Words for the errno codes a user can meet when reading or writing files; the code follows in parentheses. */
const ERRNO_WORDS: Record<string, string> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EISDIR: 'is a folder, not a file',
  ENOTDIR: 'a part of this path is a file, not a folder',
  ENOENT: 'not found',
  EEXIST: 'already exists',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'the file system is read-only',
  ENOTEMPTY: 'folder is not empty',
  EMFILE: 'too many open files',
  ENAMETOOLONG: 'the name is too long',
  EXDEV: 'cannot move across file systems',
  EIO: 'input/output error on the device',
};

/**
 * An errno error from node:fs, re-worded as a UserError naming `path` (or the path the error names). Writing a
 * file that is "not found" means its folder is missing.
 */
export function fsError(e: unknown, path?: string, op: 'read' | 'write' = 'read'): unknown {
  const err = e as NodeJS.ErrnoException & { dest?: string };
  if (e instanceof UserError || !err?.code || !(err.code in ERRNO_WORDS)) return e;
  const where = path ?? err.dest ?? err.path;
  const words = err.code === 'ENOENT' && op === 'write' ? 'its folder does not exist' : ERRNO_WORDS[err.code];
  return new UserError(`${where ? `${where}: ` : ''}${words} (${err.code})`);
}
