/**
 * The texts of `compactlm infer --input <file>` (or stdin): one text per line, or JSONL, decided line by line:
 *
 *   The capital of France is [MASK].           → that line, as is
 *   {"text": "Paris is the [MASK] of France."}  → its "text" (other keys are ignored)
 *
 * A line whose first non-blank character is `{` is JSON and must be an object with a string "text"; anything else
 * is plain text (a JSON string line such as `"a"` stays plain text, quotes included). Blank lines are skipped,
 * CRLF and a UTF-8 BOM are accepted, and line numbers count every line (blank ones too) so errors and warnings can
 * name `file:line`. Bytes are split at '\n' (never part of a multi-byte UTF-8 character) and each line decoded
 * strictly, so a non-UTF-8 line is an error that names it.
 */
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { atLine, UserError } from '../util/errors.js';

export interface InputText {
  /** 1-based line in the input. */
  line: number;
  text: string;
}

/** How stdin is named in messages. */
export const STDIN_NAME = '<stdin>';

/** The texts of a file, in order. */
export function readInputFile(file: string): AsyncGenerator<InputText> {
  return readInputTexts(createReadStream(file), file);
}

/** The texts of a byte stream named `name` in messages, in order. */
export async function* readInputTexts(stream: Readable, name: string): AsyncGenerator<InputText> {
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }); // BOM kept: stripped on line 1 only
  let line = 0;
  let pending: Buffer[] = [];
  const emit = (bytes: Buffer): InputText | null => {
    line++;
    let text: string;
    try {
      text = decoder.decode(bytes);
    } catch {
      throw atLine(name, line, 'not valid UTF-8');
    }
    if (line === 1 && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    if (text.endsWith('\r')) text = text.slice(0, -1);
    return parseInputLine(text, name, line);
  };
  try {
    for await (const chunk of stream) {
      let buf = chunk as Buffer;
      let nl: number;
      while ((nl = buf.indexOf(0x0a)) !== -1) {
        pending.push(buf.subarray(0, nl));
        const item = emit(Buffer.concat(pending));
        pending = [];
        if (item) yield item;
        buf = buf.subarray(nl + 1);
      }
      if (buf.length > 0) pending.push(buf);
    }
  } catch (e) {
    if (e instanceof UserError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UserError(`${name}: file not found`);
    if (code === 'EISDIR') throw new UserError(`${name}: is a folder, not a file`);
    throw new UserError(`${name}: cannot read (${code ?? (e as Error).message})`);
  }
  if (pending.length > 0) {
    const item = emit(Buffer.concat(pending));
    if (item) yield item;
  }
}

/** One input line → its text, or null for a blank line. */
export function parseInputLine(raw: string, name: string, line: number): InputText | null {
  const trimmed = raw.trim();
  if (trimmed === '') return null;
  if (!trimmed.startsWith('{')) return { line, text: raw };
  let obj: unknown;
  try {
    obj = JSON.parse(trimmed);
  } catch (e) {
    throw atLine(name, line, `not valid JSON (${(e as Error).message}); a line starting with { is read as JSONL {"text": ...}`);
  }
  const text = (obj as { text?: unknown } | null)?.text;
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj) || typeof text !== 'string') {
    throw atLine(name, line, 'a JSONL line must be an object with a string "text" field');
  }
  return { line, text };
}
