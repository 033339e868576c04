/**
 * The small file that marks a folder CompactLM wrote, so that a later command knows what the folder is:
 *
 *   <out>/.compactlm-output.json   {"kind": "training run", "command": "pretrain", "status": "in progress", …}
 *
 * - `--overwrite` only replaces a folder whose manifest says it is that kind of output (never a user's folder).
 * - A training run is marked "in progress" before its first write and "complete" after its last: a folder left by a
 *   killed run is refused by every reader with "training did not finish: resume with --resume".
 * - A fresh run may reuse a folder only when it is missing, empty, or a run of the same command that was killed
 *   before its first checkpoint.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from './atomic.js';
import { UserError } from './errors.js';

export const MANIFEST_FILE = '.compactlm-output.json';

export type OutputKind = 'training run' | 'export';

export interface OutputManifest {
  kind: OutputKind;
  /** The subcommand that wrote it (pretrain, finetune, distill, export). */
  command: string;
  status: 'in progress' | 'complete';
  updated: string;
}

export async function writeManifest(dir: string, m: Omit<OutputManifest, 'updated'>): Promise<void> {
  await writeFileAtomic(join(dir, MANIFEST_FILE), `${JSON.stringify({ ...m, updated: new Date().toISOString() }, null, 2)}\n`, { durable: true });
}

/** The folder's manifest, or null when it has none (a folder CompactLM did not write, or an older one). */
export function readManifest(dir: string): OutputManifest | null {
  const path = join(dir, MANIFEST_FILE);
  if (!existsSync(path)) return null;
  try {
    const m = JSON.parse(readFileSync(path, 'utf8')) as OutputManifest;
    return typeof m.kind === 'string' && typeof m.status === 'string' ? m : null;
  } catch {
    return null;
  }
}

/** Readers of a model folder: one line when a training run left it unfinished. */
export function refuseUnfinished(dir: string): void {
  const m = readManifest(dir);
  if (m?.kind === 'training run' && m.status !== 'complete') {
    throw new UserError(`${dir}: training did not finish: resume with --resume (\`compactlm ${m.command} … --out ${dir} --resume\`)`);
  }
}

/**
 * A folder a new output of `kind` may be written into: missing, empty, or (`reusable`) one this kind of command
 * marked as its own. Otherwise one line saying what is there.
 */
export function checkOutputFolder(flag: string, dir: string, kind: OutputKind, reusable: (m: OutputManifest) => boolean, replace?: string): void {
  const st = statSync(dir, { throwIfNoEntry: false });
  if (!st) return;
  if (!st.isDirectory()) throw new UserError(`${flag} ${dir}: is a file, not a folder`, 2);
  if (readdirSync(dir).length === 0) return;
  const m = readManifest(dir);
  if (m && m.kind === kind && reusable(m)) return;
  const what = m ? `${describe(m)}` : 'not a folder CompactLM wrote';
  const next = m?.kind === kind && replace ? replace : 'choose another folder';
  throw new UserError(`${flag} ${dir}: exists and is not empty (${what}): ${next}`, 2);
}

/** `--overwrite` replaces only a folder CompactLM wrote as this kind of output. */
export function checkReplaceable(flag: string, dir: string, kind: OutputKind): void {
  const st = statSync(dir, { throwIfNoEntry: false });
  if (!st || (st.isDirectory() && readdirSync(dir).length === 0)) return;
  if (!st.isDirectory()) throw new UserError(`${flag} ${dir}: is a file, not a folder`, 2);
  const m = readManifest(dir);
  if (m?.kind !== kind) {
    const what = m ? describe(m) : `not one (it has no ${MANIFEST_FILE}, so CompactLM did not write it)`;
    throw new UserError(`${flag} ${dir}: --overwrite replaces only ${article(kind)} ${kind} folder, and this is ${what}: choose another folder or remove it yourself`, 2);
  }
}

const article = (kind: OutputKind) => (kind === 'export' ? 'an' : 'a');
const describe = (m: OutputManifest) => `${article(m.kind)} ${m.kind} folder of \`compactlm ${m.command}\``;
