import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { dirname, join, posix, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import YAML from 'yaml';
import { writeFileAtomic } from '../util/atomic.js';
import { UserError } from '../util/errors.js';

/**
 * A small `dvc repro` for machines without DVC: reads dvc.yaml (DVC's schema: stages with cmd, deps, params,
 * outs), fills `${section.key}` from params.yaml, orders the stages so every stage runs after the stages whose
 * outputs it reads, and runs each command with the shell. A stage is skipped when the lock file
 * (runs/dvc.lock.json) shows the same command, the same param values, the same dependency hashes and outputs
 * still as they were written; --force runs everything. As with DVC, a command writes its outputs itself (the
 * runner only creates their parent folders) and must not rely on old outputs being deleted first.
 *
 * Code is a dependency like any other. dvc.yaml's `build` stage turns `src/` (with tsconfig.json, package.json
 * and package-lock.json) into `dist/`, and every stage that runs `compactlm` depends on the whole of `dist/`
 * (the code the launcher runs), so any change to any source file first rebuilds and then re-runs the stages, and
 * a `dist/` that no longer matches the sources (edited without building, or built from other sources) is rebuilt
 * before anything runs from it. loadPipeline refuses a stage that runs `compactlm` without depending on `dist`.
 * Dependencies are hashed before a command starts, so an edit made while a stage runs is not recorded as what ran.
 *
 * Usage: npm run pipeline -- [--dry] [--force] [--stage <name>] [--file dvc.yaml] [--params pipelines/<recipe>.yaml]
 */

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The repo's launcher: a leading `compactlm` in a command runs it, so no global install is needed. */
export const COMPACTLM_BIN = join(ROOT, 'bin', 'compactlm');
export const LOCK_FILE = join('runs', 'dvc.lock.json');
/** The built code `compactlm` runs (bin/compactlm → dist/cli/main.js); a stage that runs it must depend on it. */
export const CODE_DIR = 'dist';

const COMPACTLM_WORD = /^\s*compactlm(?=\s|$)/;
/** Whether a command starts with `compactlm` (and so runs the repo's launcher). */
export function runsCompactlm(cmd: string): boolean {
  return COMPACTLM_WORD.test(cmd);
}

export interface Stage {
  name: string;
  /** Commands with params substituted (DVC allows a list, run one after the other). */
  cmd: string[];
  deps: string[];
  /** Dotted keys into params.yaml. */
  params: string[];
  /** outs, metrics and plots: everything the stage writes. */
  outs: string[];
  /** The outs marked `persist: true`: kept when the stage reruns (DVC removes the others first). */
  persist: string[];
  alwaysChanged: boolean;
}

export interface Pipeline {
  /** Folder of dvc.yaml: every path is relative to it. */
  root: string;
  file: string;
  stages: Stage[];
  params: Record<string, unknown>;
}

const STAGE_KEYS = new Set(['cmd', 'deps', 'params', 'outs', 'metrics', 'plots', 'desc', 'meta', 'always_changed']);

function where(file: string, stage?: string): string {
  return stage === undefined ? file : `${file}: stage "${stage}"`;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function readYaml(file: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(code === 'ENOENT' ? `${file}: ${what} not found` : `${file}: cannot read (${code})`);
  }
  const lines = new YAML.LineCounter();
  const doc = YAML.parseDocument(text, { prettyErrors: false, lineCounter: lines });
  if (doc.errors.length > 0) {
    const err = doc.errors[0];
    throw new UserError(`${file}:${lines.linePos(err.pos[0]).line}: invalid YAML (${err.message.split('\n')[0]})`);
  }
  return doc.toJS();
}

/** Looks up `a.b.c` in the params tree; undefined when any part is missing. */
export function lookupParam(params: Record<string, unknown>, key: string): unknown {
  let v: unknown = params;
  for (const part of key.split('.')) {
    if (!isRecord(v) || !(part in v)) return undefined;
    v = v[part];
  }
  return v;
}

/** Replaces `${key}` with the scalar value of `key` in params.yaml, as DVC's templating does. */
export function interpolate(text: string, params: Record<string, unknown>, at: string): { text: string; keys: string[] } {
  const keys: string[] = [];
  const out = text.replace(/\$\{\s*([^{}]*?)\s*\}/g, (_m, key: string) => {
    const v = lookupParam(params, key);
    if (v === undefined) throw new UserError(`${at}: \${${key}} is not defined in params.yaml`);
    if (v === null || typeof v === 'object') throw new UserError(`${at}: \${${key}} is not a single value (a string, number or boolean)`);
    keys.push(key);
    return String(v);
  });
  return { text: out, keys };
}

/** Deep-merges a recipe (pipelines/*.yaml) over params.yaml; it may only change keys that exist there. */
export function overlayParams(base: Record<string, unknown>, overlay: Record<string, unknown>, file: string, prefix = ''): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(overlay)) {
    const key = prefix + k;
    if (!(k in base)) throw new UserError(`${file}: "${key}" is not a key of params.yaml (a recipe can only change existing params)`);
    out[k] = isRecord(v) && isRecord(base[k]) ? overlayParams(base[k] as Record<string, unknown>, v, file, `${key}.`) : v;
  }
  return out;
}

function stringList(v: unknown, at: string, field: string): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new UserError(`${at}: "${field}" must be a list`);
  return v.map((item) => {
    if (typeof item === 'string' && item.trim() !== '') return item;
    // DVC also allows `- path: {cache: false}` for outs, metrics and plots.
    if (field !== 'deps' && field !== 'params' && isRecord(item) && Object.keys(item).length === 1) return Object.keys(item)[0];
    throw new UserError(`${at}: every entry of "${field}" must be a path${field === 'params' ? ' (a key of params.yaml)' : ''}, got ${JSON.stringify(item)}`);
  });
}

/** The paths of `- path: {persist: true}` entries of an outs list (already checked by stringList). */
function persistent(v: unknown): string[] {
  if (!Array.isArray(v)) return [];
  return v.flatMap((item) => {
    if (!isRecord(item)) return [];
    const [path, opts] = Object.entries(item)[0];
    return isRecord(opts) && opts.persist === true ? [path] : [];
  });
}

function normalizePath(p: string, at: string): string {
  if (p.startsWith('/')) throw new UserError(`${at}: "${p}" must be relative to dvc.yaml`);
  return posix.normalize(p).replace(/\/+$/, '');
}

/** Reads and checks dvc.yaml and params.yaml (and an optional recipe laid over the params). */
export function loadPipeline(path: string, opts: { paramsOverlay?: string } = {}): Pipeline {
  const root = dirname(resolve(path));
  const file = relative(process.cwd(), resolve(path)) || path; // as messages show it
  const doc = readYaml(file, 'pipeline file');
  if (!isRecord(doc)) throw new UserError(`${file}: expected a mapping with "stages"`);
  for (const k of Object.keys(doc)) {
    if (k !== 'stages') throw new UserError(`${file}: top-level "${k}" is not supported by this runner (only "stages"; use dvc itself for more)`);
  }
  if (!isRecord(doc.stages) || Object.keys(doc.stages).length === 0) throw new UserError(`${file}: "stages" must be a non-empty mapping`);

  const paramsFile = join(dirname(file), 'params.yaml');
  let params: Record<string, unknown> = {};
  if (existsSync(paramsFile)) {
    const p = readYaml(paramsFile, 'params file');
    if (p !== null && !isRecord(p)) throw new UserError(`${paramsFile}: expected a mapping`);
    params = (p ?? {}) as Record<string, unknown>;
  }
  if (opts.paramsOverlay) {
    const o = readYaml(opts.paramsOverlay, 'params recipe');
    if (!isRecord(o)) throw new UserError(`${opts.paramsOverlay}: expected a mapping`);
    params = overlayParams(params, o, opts.paramsOverlay);
  }

  const stages: Stage[] = [];
  for (const [name, raw] of Object.entries(doc.stages)) {
    const at = where(file, name);
    if (!/^[A-Za-z0-9_-]+$/.test(name)) throw new UserError(`${at}: stage names use letters, digits, - and _`);
    if (!isRecord(raw)) throw new UserError(`${at}: expected a mapping with "cmd"`);
    for (const k of Object.keys(raw)) {
      if (!STAGE_KEYS.has(k)) throw new UserError(`${at}: "${k}" is not supported by this runner (supported: ${[...STAGE_KEYS].join(', ')})`);
    }
    const cmds = typeof raw.cmd === 'string' ? [raw.cmd] : raw.cmd;
    if (!Array.isArray(cmds) || cmds.length === 0 || !cmds.every((c) => typeof c === 'string' && c.trim() !== '')) {
      throw new UserError(`${at}: "cmd" must be a command or a list of commands`);
    }
    const paramKeys = stringList(raw.params, at, 'params');
    for (const k of paramKeys) {
      if (lookupParam(params, k) === undefined) throw new UserError(`${at}: param "${k}" is not in params.yaml`);
    }
    const used = new Set<string>();
    const fill = (s: string) => {
      const r = interpolate(s, params, at);
      r.keys.forEach((k) => used.add(k));
      return r.text;
    };
    const stage: Stage = {
      name,
      cmd: (cmds as string[]).map(fill),
      deps: stringList(raw.deps, at, 'deps').map((d) => normalizePath(fill(d), at)),
      params: paramKeys,
      outs: ['outs', 'metrics', 'plots'].flatMap((f) => stringList(raw[f], at, f)).map((o) => normalizePath(fill(o), at)),
      persist: ['outs', 'metrics', 'plots'].flatMap((f) => persistent(raw[f])).map((o) => normalizePath(fill(o), at)),
      alwaysChanged: raw.always_changed === true,
    };
    // A value used in the command is a parameter of the stage even if the author forgot to list it.
    for (const k of used) if (!stage.params.includes(k)) stage.params.push(k);
    // The launcher runs dist/cli/main.js and everything it imports: only the whole folder is an honest dependency.
    if (stage.cmd.some(runsCompactlm) && !stage.deps.some((d) => d === CODE_DIR || d === '.')) {
      throw new UserError(`${at}: runs compactlm but does not depend on "${CODE_DIR}" (the built code it runs), so a code change would not re-run it`);
    }
    stages.push(stage);
  }
  return { root, file, stages, params };
}

/** Two paths overlap when they are equal or one is a folder holding the other. */
export function overlaps(a: string, b: string): boolean {
  return a === b || a.startsWith(`${b}/`) || b.startsWith(`${a}/`);
}

/**
 * Stages in the order they must run: a stage comes after every stage whose outputs it depends on; otherwise
 * the order of dvc.yaml. With `target`, only that stage and the stages it needs. Every dependency must be a
 * file in the repo or another stage's output; a cycle is an error naming it.
 */
export function orderStages(p: Pipeline, target?: string): Stage[] {
  const byName = new Map(p.stages.map((s) => [s.name, s]));
  if (target !== undefined && !byName.has(target)) {
    throw new UserError(`${p.file}: no stage "${target}" (stages: ${p.stages.map((s) => s.name).join(', ')})`);
  }
  for (const [i, a] of p.stages.entries()) {
    for (const b of p.stages.slice(i + 1)) {
      for (const o of a.outs) {
        const clash = b.outs.find((x) => overlaps(o, x));
        if (clash) throw new UserError(`${p.file}: stages "${a.name}" and "${b.name}" both write "${clash === o ? o : `${o}" / "${clash}`}"`);
      }
    }
  }
  const needs = new Map<string, Set<string>>();
  for (const s of p.stages) {
    const up = new Set<string>();
    for (const d of s.deps) {
      if (s.outs.some((o) => overlaps(o, d))) throw new UserError(`${where(p.file, s.name)}: "${d}" is both a dependency and an output`);
      const producers = p.stages.filter((q) => q !== s && q.outs.some((o) => overlaps(o, d)));
      if (producers.length === 0 && !existsSync(join(p.root, d))) {
        throw new UserError(`${where(p.file, s.name)}: dependency "${d}" is neither a file in the repo nor an output of another stage`);
      }
      producers.forEach((q) => up.add(q.name));
    }
    needs.set(s.name, up);
  }

  let wanted = new Set(p.stages.map((s) => s.name));
  if (target !== undefined) {
    wanted = new Set();
    const visit = (n: string) => {
      if (wanted.has(n)) return;
      wanted.add(n);
      needs.get(n)!.forEach(visit);
    };
    visit(target);
  }

  // Kahn's algorithm, always taking the earliest ready stage in file order.
  const order: Stage[] = [];
  const done = new Set<string>();
  const pending = p.stages.filter((s) => wanted.has(s.name));
  while (pending.length > 0) {
    const i = pending.findIndex((s) => [...needs.get(s.name)!].every((n) => done.has(n)));
    if (i < 0) throw new UserError(`${p.file}: the stages form a cycle: ${findCycle(pending.map((s) => s.name), needs).join(' → ')}`);
    const [s] = pending.splice(i, 1);
    order.push(s);
    done.add(s.name);
  }
  return order;
}

function findCycle(names: string[], needs: Map<string, Set<string>>): string[] {
  const left = new Set(names);
  const path: string[] = [];
  let n = names[0];
  while (!path.includes(n)) {
    path.push(n);
    n = [...needs.get(n)!].find((m) => left.has(m))!;
  }
  return [...path.slice(path.indexOf(n)), n].reverse();
}

// ---------------------------------------------------------------------------------------------------------------
// Hashes and the lock file.

/** Hashes already computed in one planning pass; clear it when something may have written files. */
export type HashCache = Map<string, string | null>;

/** sha256 of a file, or of a folder as the hash of its sorted `path hash` lines; null when missing. */
export function hashPath(path: string, cache?: HashCache): string | null {
  if (cache?.has(path)) return cache.get(path)!;
  const h = hashUncached(path);
  cache?.set(path, h);
  return h;
}

function hashUncached(path: string): string | null {
  let st;
  try {
    st = statSync(path);
  } catch {
    return null;
  }
  if (!st.isDirectory()) return createHash('sha256').update(readFileSync(path)).digest('hex');
  const lines: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const full = join(dir, e.name);
      if (e.isDirectory()) walk(full);
      else lines.push(`${relative(path, full)} ${hashPath(full)}`);
    }
  };
  walk(path);
  return createHash('sha256').update(lines.join('\n')).digest('hex');
}

export interface LockEntry {
  cmd: string[];
  params: Record<string, unknown>;
  deps: Record<string, string | null>;
  outs: Record<string, string | null>;
}

export interface Lock {
  version: 1;
  stages: Record<string, LockEntry>;
}

export function readLock(root: string): Lock {
  const file = join(root, LOCK_FILE);
  if (!existsSync(file)) return { version: 1, stages: {} };
  try {
    const lock = JSON.parse(readFileSync(file, 'utf8')) as Lock;
    if (lock.version === 1 && isRecord(lock.stages)) return lock;
  } catch {
    // an unreadable lock only means every stage runs again
  }
  return { version: 1, stages: {} };
}

/** The lock entry of a stage as the files are now: command, param values, dependency hashes and (with `outs`) output hashes. */
export function stageEntry(p: Pipeline, s: Stage, opts: { outs: boolean; cache?: HashCache }): LockEntry {
  const hashes = (paths: string[]) => Object.fromEntries(paths.map((x) => [x, hashPath(join(p.root, x), opts.cache)]));
  return {
    cmd: s.cmd,
    params: Object.fromEntries(s.params.map((k) => [k, lookupParam(p.params, k)])),
    deps: hashes(s.deps),
    outs: opts.outs ? hashes(s.outs) : {},
  };
}

/** Why a stage must run, or null when the lock shows it up to date (like `dvc status` for one stage). */
export function staleReason(p: Pipeline, s: Stage, lock: Lock, cache?: HashCache): string | null {
  if (s.alwaysChanged) return 'always_changed';
  const old = lock.stages[s.name];
  if (!old) return 'not run before';
  const now = stageEntry(p, s, { outs: true, cache });
  const param = s.params.find((k) => JSON.stringify(old.params?.[k]) !== JSON.stringify(now.params[k]));
  if (param) return `param ${param} changed`;
  if (JSON.stringify(old.cmd) !== JSON.stringify(now.cmd)) return 'command changed';
  const dep = s.deps.find((d) => old.deps?.[d] !== now.deps[d]);
  if (dep) {
    const why = now.deps[dep] === null ? 'dependency missing' : old.deps?.[dep] === undefined ? 'new dependency' : 'dependency changed';
    return `${why}: ${dep}`;
  }
  const out = s.outs.find((o) => old.outs?.[o] !== now.outs[o] || now.outs[o] === null);
  if (out) return `${now.outs[out] === null ? 'output missing' : 'output changed'}: ${out}`;
  return null;
}

// ---------------------------------------------------------------------------------------------------------------
// Running.

/** The command as the shell runs it: a leading `compactlm` becomes the repo's launcher. */
export function shellCommand(cmd: string, bin = COMPACTLM_BIN): string {
  return cmd.replace(COMPACTLM_WORD, `'${bin.replace(/'/g, `'\\''`)}'`);
}

function runShell(cmd: string, cwd: string): Promise<number> {
  return new Promise((resolvePromise) => {
    const child = spawn(cmd, { cwd, shell: true, stdio: 'inherit' });
    child.on('error', () => resolvePromise(127));
    child.on('close', (code, signal) => resolvePromise(code ?? (signal ? 128 : 1)));
  });
}

export interface RunOptions {
  file: string;
  stage?: string;
  force?: boolean;
  dry?: boolean;
  paramsOverlay?: string;
  /** Plan lines (--dry) go here; default stdout. */
  out?: (line: string) => void;
  /** Progress lines; default stderr. */
  err?: (line: string) => void;
}

export interface PlannedStage {
  stage: Stage;
  /** Why it runs (`forced`, `after <stage>`, what changed), or null when it is up to date and skipped. */
  reason: string | null;
}

/**
 * What `--dry` prints, as data (like `dvc status`): every stage in run order with the reason it would run. A
 * stage downstream of one that runs is planned to run too (`after <stage>`), since its inputs are about to
 * change; when the real run gets there it checks the hashes again and skips it if they came out the same.
 */
export function planStages(o: { file: string; stage?: string; force?: boolean; paramsOverlay?: string }): { pipeline: Pipeline; plan: PlannedStage[] } {
  const p = loadPipeline(o.file, { paramsOverlay: o.paramsOverlay });
  const order = orderStages(p, o.stage);
  const lock = readLock(p.root);
  const cache: HashCache = new Map();
  const willRun = new Set<string>();
  const plan = order.map((s) => {
    const upstream = order.find((u) => willRun.has(u.name) && s.deps.some((d) => u.outs.some((x) => overlaps(x, d))));
    const reason = o.force ? 'forced' : upstream ? `after ${upstream.name}` : staleReason(p, s, lock, cache);
    if (reason !== null) willRun.add(s.name);
    return { stage: s, reason };
  });
  return { pipeline: p, plan };
}

/** Runs (or with `dry` only plans) the pipeline; resolves to the exit status. */
export async function runPipeline(o: RunOptions): Promise<number> {
  const out = o.out ?? ((l: string) => process.stdout.write(`${l}\n`));
  const err = o.err ?? ((l: string) => process.stderr.write(`${l}\n`));

  if (o.dry) {
    const { pipeline: p, plan } = planStages(o);
    out(`plan: ${plan.length} stage${plan.length === 1 ? '' : 's'} from ${p.file}`);
    for (const { stage: s, reason } of plan) {
      out(`${reason === null ? 'skip' : 'run '} ${s.name}${reason === null ? ' (up to date)' : ` (${reason})`}`);
      if (reason !== null) for (const c of s.cmd) out(`     $ ${c}`);
    }
    return 0;
  }

  const p = loadPipeline(o.file, { paramsOverlay: o.paramsOverlay });
  const order = orderStages(p, o.stage);
  const lock = readLock(p.root);
  for (const s of order) {
    // Hashed afresh for every stage: the stages before it (the build among them) have just written files.
    const cache: HashCache = new Map();
    const reason = o.force ? 'forced' : staleReason(p, s, lock, cache);
    if (reason === null) {
      err(`pipeline: stage ${s.name} is up to date, skipped`);
      continue;
    }
    err(`pipeline: running stage ${s.name} (${reason})`);
    // What the command is about to read; hashed now, so a file edited while it runs does not pass as what ran.
    const before = stageEntry(p, s, { outs: false, cache });
    // As DVC does: a stage's outputs (but those marked persist) are removed before it runs, so a rerun starts
    // from nothing (a training run would otherwise find its old checkpoints).
    for (const x of s.outs) {
      if (!s.persist.includes(x)) rmSync(join(p.root, x), { recursive: true, force: true });
      mkdirSync(dirname(join(p.root, x)), { recursive: true });
    }
    for (const c of s.cmd) {
      err(`$ ${c}`);
      const code = await runShell(shellCommand(c), p.root);
      if (code !== 0) {
        err(`pipeline: error: stage ${s.name} failed (exit ${code}): ${c}`);
        return code;
      }
    }
    const after = stageEntry(p, s, { outs: true });
    const missing = s.outs.find((x) => after.outs[x] === null);
    if (missing) {
      err(`pipeline: error: stage ${s.name} did not write its output ${missing}`);
      return 1;
    }
    lock.stages[s.name] = { ...before, outs: after.outs };
    mkdirSync(join(p.root, dirname(LOCK_FILE)), { recursive: true });
    await writeFileAtomic(join(p.root, LOCK_FILE), `${JSON.stringify(lock, null, 2)}\n`);
  }
  err(`pipeline: done (${order.length} stage${order.length === 1 ? '' : 's'})`);
  return 0;
}

const HELP = `Usage: npm run pipeline -- [options]

Runs the stages of dvc.yaml in dependency order, like \`dvc repro\`, without DVC. A stage runs when its command,
params, dependencies (code included: the \`build\` stage rebuilds dist/ from src/ first) or outputs changed.

Options:
  --dry              print the plan (which stages would run and why, with their commands) and exit
  --force            run every stage even if it is up to date
  --stage <name>     run only this stage and the stages it depends on
  --file <path>      pipeline file (default: dvc.yaml in the repo)
  --params <file>    a recipe (e.g. pipelines/tiny.yaml) whose values replace those of params.yaml
  -h, --help         this help
`;

async function main(): Promise<void> {
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0); // the plan piped into `head`
    throw e;
  });
  let values;
  try {
    values = parseArgs({
      options: {
        dry: { type: 'boolean', default: false },
        force: { type: 'boolean', default: false },
        stage: { type: 'string' },
        file: { type: 'string', default: join(ROOT, 'dvc.yaml') },
        params: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }).values;
  } catch (e) {
    throw new UserError(`${(e as Error).message.split('\n')[0]} (see --help)`);
  }
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  process.exitCode = await runPipeline({
    file: values.file,
    stage: values.stage,
    force: values.force,
    dry: values.dry,
    paramsOverlay: values.params,
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main().catch((e: Error) => {
    process.stderr.write(`pipeline: error: ${e instanceof UserError ? e.message : (e.stack ?? e.message)}\n`);
    process.exit(1);
  });
}
