/**
 * Crash-safe training checkpoints in a run folder:
 *
 *   <run>/checkpoints/step-000100/   the trainer's files (weights, optimizer moments, state.json, …) plus
 *                                    checkpoint.json {step, score, files: {name: bytes}, sha256: {name: hex}} written last
 *   <run>/checkpoints/index.json     {latest, best, bestScore, checkpoints: [{name, step, score}]}
 *
 *   const ckpts = new Checkpoints(runDir, { keep: 3 });
 *   await ckpts.save(step, { 'model.safetensors': bytes, 'state.json': JSON.stringify(state) }, { score });
 *   const last = await latestCheckpoint(runDir);   // CheckpointInfo | null; read files from last.dir
 *
 * Why it survives `kill -9` (and power loss, thanks to fsync): a checkpoint is written into `.tmp-<name>-<pid>`,
 * every file is fsynced, the folder is renamed to `step-NNNNNN` (atomic) and the parent folder fsynced. So a
 * `step-*` folder is always complete; temp folders are ignored and removed by the next save. Old checkpoints are
 * renamed to `.trash-…` before being deleted, so a half-deleted folder never carries a checkpoint's name. The
 * folders themselves are the source of truth: latest/best are found by scanning them (and checking each file's
 * size against checkpoint.json); index.json is rewritten atomically after each save for people and tools. A resume
 * reads `resumable()`: the newest checkpoint whose files also match their recorded sha256, with the damaged newer
 * ones named (a disk error or a hand edit changes bytes without changing sizes).
 *
 * Each checkpoint records a selection `score`, lower is better: the validation loss, or e.g. −macro-F1 when the
 * trainer selects by a metric (trainer.ts `select`). Rotation keeps the last `keep` checkpoints plus the one with
 * the lowest score (ties: the earlier).
 * One trainer per run folder.
 */
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { dirname, join } from 'node:path';
import { fsyncDir, track, writeFileAtomic, writeSynced } from '../util/atomic.js';
import { fsError, UserError } from '../util/errors.js';

/** A checkpoint file's bytes, text, or a function that makes its bytes (or their consecutive parts) when written. */
export type CheckpointFile = Uint8Array | string | (() => Promise<Uint8Array | readonly Uint8Array[]>);

export interface CheckpointInfo {
  name: string;
  step: number;
  /** Absolute or run-relative path of the checkpoint folder (as the run folder was given). */
  dir: string;
  score: number | null;
  /** File name → size in bytes. */
  files: Record<string, number>;
}

export interface CheckpointIndex {
  latest: string | null;
  best: string | null;
  bestScore: number | null;
  checkpoints: { name: string; step: number; score: number | null }[];
}

const META = 'checkpoint.json';
const INDEX = 'index.json';
const NAME = /^step-(\d+)$/;

export function checkpointName(step: number): string {
  return `step-${String(step).padStart(6, '0')}`;
}

export class Checkpoints {
  readonly dir: string;
  readonly keep: number;

  constructor(runDir: string, opts: { keep?: number } = {}) {
    this.dir = join(runDir, 'checkpoints');
    this.keep = opts.keep ?? 3;
    if (!Number.isInteger(this.keep) || this.keep < 1) throw new UserError(`checkpoints to keep must be a positive integer, got ${this.keep}`);
  }

  /** Writes a complete checkpoint for `step`, then rotates old ones and updates index.json. */
  async save(step: number, files: Record<string, CheckpointFile>, opts: { score?: number | null } = {}): Promise<CheckpointInfo> {
    if (!Number.isInteger(step) || step < 0) throw new RangeError(`checkpoint step must be a non-negative integer, got ${step}`);
    for (const f of Object.keys(files)) {
      if (f === META || f === '' || f.startsWith('.') || /[\\/]/.test(f)) throw new RangeError(`bad checkpoint file name "${f}"`);
    }
    const score = opts.score ?? null;
    if (await fsp.mkdir(this.dir, { recursive: true })) await fsyncDir(dirname(this.dir));
    await this.removeLeftovers();

    const name = checkpointName(step);
    const tmp = track(join(this.dir, `.tmp-${name}-${process.pid}`));
    const sizes: Record<string, number> = {};
    const sha256: Record<string, string> = {};
    try {
      await fsp.mkdir(tmp);
      for (const [f, file] of Object.entries(files)) {
        // A lazy file is made only now, so a big one is written and let go before the next is made.
        const data = typeof file === 'function' ? await file() : file;
        const parts = typeof data === 'string' ? [Buffer.from(data, 'utf8')] : data instanceof Uint8Array ? [data] : data;
        await writeSynced(join(tmp, f), parts);
        sizes[f] = parts.reduce((n, p) => n + p.byteLength, 0);
        const hash = createHash('sha256');
        for (const p of parts) hash.update(p);
        sha256[f] = hash.digest('hex');
      }
      await writeSynced(join(tmp, META), JSON.stringify({ step, score, files: sizes, sha256 }, null, 2) + '\n');
      await fsyncDir(tmp);
    } catch (e) {
      await fsp.rm(tmp, { recursive: true, force: true }); // e.g. a full disk: no half checkpoint stays behind
      throw fsError(e, join(this.dir, name), 'write');
    }

    const final = join(this.dir, name);
    if (await exists(final)) await fsp.rename(final, join(this.dir, `.trash-${name}-${process.pid}`)); // re-saving a step after resuming earlier
    await fsp.rename(tmp, final);
    await fsyncDir(this.dir);

    await this.rotate();
    await this.removeLeftovers();
    return { name, step, dir: final, score, files: sizes };
  }

  /** Complete checkpoints, by ascending step. */
  async list(): Promise<CheckpointInfo[]> {
    let entries: string[];
    try {
      entries = await fsp.readdir(this.dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
    const found: CheckpointInfo[] = [];
    for (const name of entries) {
      if (!NAME.test(name)) continue;
      const info = await readInfo(join(this.dir, name), name);
      if (info) found.push(info);
    }
    return found.sort((a, b) => a.step - b.step);
  }

  /**
   * The newest checkpoint whose files are all there with their recorded sizes and sha256 (checkpoints written
   * before checksums were recorded are checked by size), and the newer ones that are damaged, newest first.
   */
  async resumable(): Promise<{ checkpoint: CheckpointInfo | null; damaged: { dir: string; problem: string }[] }> {
    let entries: string[];
    try {
      entries = (await fsp.readdir(this.dir)).filter((n) => NAME.test(n)).sort().reverse();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { checkpoint: null, damaged: [] };
      throw e;
    }
    const damaged: { dir: string; problem: string }[] = [];
    for (const name of entries) {
      const dir = join(this.dir, name);
      const problem = await checkFiles(dir, name);
      if (problem === null) return { checkpoint: (await readInfo(dir, name))!, damaged };
      damaged.push({ dir, problem });
    }
    return { checkpoint: null, damaged };
  }

  async latest(): Promise<CheckpointInfo | null> {
    const all = await this.list();
    return all.length ? all[all.length - 1] : null;
  }

  async best(): Promise<CheckpointInfo | null> {
    return pickBest(await this.list());
  }

  /** index.json as last written (null if none yet). The folders remain the truth; see latest()/best(). */
  async index(): Promise<CheckpointIndex | null> {
    try {
      return JSON.parse(await fsp.readFile(join(this.dir, INDEX), 'utf8')) as CheckpointIndex;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
  }

  private async rotate(): Promise<void> {
    const all = await this.list();
    const best = pickBest(all);
    const keep = new Set(all.slice(-this.keep).map((c) => c.name));
    if (best) keep.add(best.name);
    let removed = false;
    for (const c of all) {
      if (keep.has(c.name)) continue;
      await fsp.rename(c.dir, join(this.dir, `.trash-${c.name}-${process.pid}`));
      removed = true;
    }
    if (removed) await fsyncDir(this.dir);
    const kept = all.filter((c) => keep.has(c.name));
    const index: CheckpointIndex = {
      latest: kept.length ? kept[kept.length - 1].name : null,
      best: best?.name ?? null,
      bestScore: best?.score ?? null,
      checkpoints: kept.map((c) => ({ name: c.name, step: c.step, score: c.score })),
    };
    await writeFileDurable(join(this.dir, INDEX), JSON.stringify(index, null, 2) + '\n');
  }

  /** Removes temp folders of interrupted saves and trash of interrupted deletions. */
  private async removeLeftovers(): Promise<void> {
    for (const name of await fsp.readdir(this.dir)) {
      if (name.startsWith('.tmp-') || name.startsWith('.trash-')) await fsp.rm(join(this.dir, name), { recursive: true, force: true });
    }
  }
}

/** The error of a resume that finds no whole checkpoint (none at all, or every one damaged). */
export function nothingToResume(runDir: string, damaged: { dir: string; problem: string }[]): UserError {
  return new UserError(damaged.length
    ? `${runDir}: no whole checkpoint to resume from (${damaged.length} damaged, the newest ${damaged[0].dir}: ${damaged[0].problem})`
    : `${runDir}: nothing to resume (no checkpoint in ${join(runDir, 'checkpoints')}; start without --resume)`);
}

/** The newest complete checkpoint of a run folder, or null. */
export async function latestCheckpoint(runDir: string): Promise<CheckpointInfo | null> {
  return new Checkpoints(runDir).latest();
}

function pickBest(all: CheckpointInfo[]): CheckpointInfo | null {
  let best: CheckpointInfo | null = null;
  for (const c of all) {
    if (c.score === null || !Number.isFinite(c.score)) continue;
    if (!best || c.score < best.score!) best = c;
  }
  return best;
}

/** Reads checkpoint.json and checks that every listed file is there with its size; null if not complete. */
async function readInfo(dir: string, name: string): Promise<CheckpointInfo | null> {
  let meta: { step: number; score: number | null; files: Record<string, number> };
  try {
    meta = JSON.parse(await fsp.readFile(join(dir, META), 'utf8'));
  } catch {
    return null;
  }
  if (meta.step !== Number(NAME.exec(name)![1]) || typeof meta.files !== 'object' || meta.files === null) return null;
  for (const [f, size] of Object.entries(meta.files)) {
    try {
      if ((await fsp.stat(join(dir, f))).size !== size) return null;
    } catch {
      return null;
    }
  }
  return { name, step: meta.step, dir, score: meta.score ?? null, files: meta.files };
}

/** What is wrong with a checkpoint folder (unreadable checkpoint.json, a missing, short or changed file), or null. */
async function checkFiles(dir: string, name: string): Promise<string | null> {
  let meta: { step: number; files: Record<string, number>; sha256?: Record<string, string> };
  try {
    meta = JSON.parse(await fsp.readFile(join(dir, META), 'utf8'));
  } catch {
    return `${META} is missing or not JSON`;
  }
  if (meta.step !== Number(NAME.exec(name)![1]) || typeof meta.files !== 'object' || meta.files === null) return `${META} does not describe ${name}`;
  for (const [f, size] of Object.entries(meta.files)) {
    let bytes: Buffer;
    try {
      bytes = await fsp.readFile(join(dir, f));
    } catch {
      return `${f} is missing`;
    }
    if (bytes.byteLength !== size) return `${f} has ${bytes.byteLength} bytes, ${size} were written`;
    const want = meta.sha256?.[f];
    if (want !== undefined && createHash('sha256').update(bytes).digest('hex') !== want) return `${f} does not match its sha256`;
  }
  return null;
}

async function exists(path: string): Promise<boolean> {
  try {
    await fsp.stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Atomic and durable file replacement: temp file in the same folder, fsync, rename, fsync the folder. */
export const writeFileDurable = (path: string, data: Uint8Array | string): Promise<void> => writeFileAtomic(path, data, { durable: true });
