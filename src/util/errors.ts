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
