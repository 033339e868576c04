import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import {
  loadPipeline,
  orderStages,
  overlayParams,
  runPipeline,
  shellCommand,
  COMPACTLM_BIN,
} from '../../../src/pipeline/run-dvc.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const DVC_FILE = join(ROOT, 'dvc.yaml');

// ---------------------------------------------------------------------------------------------------------------
// The repo's dvc.yaml, read as plain YAML (independently of the runner) and checked against DVC's schema rules.

type Raw = Record<string, unknown>;
const dvc = YAML.parse(readFileSync(DVC_FILE, 'utf8')) as { stages: Record<string, Raw> };
const params = YAML.parse(readFileSync(join(ROOT, 'params.yaml'), 'utf8')) as Raw;
const stageNames = Object.keys(dvc.stages);

function lookup(tree: Raw, key: string): unknown {
  return key.split('.').reduce<unknown>((v, k) => (v && typeof v === 'object' && k in (v as Raw) ? (v as Raw)[k] : undefined), tree);
}

/** Paths of a list field; DVC allows `- path` or `- path: {options}` for outs, metrics and plots. */
function paths(stage: Raw, field: string): string[] {
  const v = stage[field];
  if (v === undefined) return [];
  return (v as unknown[]).map((x) => (typeof x === 'string' ? x : Object.keys(x as Raw)[0]));
}

/** `${key}` resolved from params.yaml, as DVC's templating does. */
function fill(s: string): string {
  return s.replace(/\$\{\s*([^}]*?)\s*\}/g, (_m, k: string) => String(lookup(params, k)));
}

describe('dvc.yaml follows DVC\'s schema', () => {
  test('top level is `stages` only, with at least the data stages', () => {
    expect(Object.keys(dvc)).toEqual(['stages']);
    for (const s of ['preprocess', 'split', 'preprocess_sentiment', 'augment', 'bias_report', 'plot', 'tokenize']) {
      expect(stageNames).toContain(s);
    }
  });

  test.each(stageNames)('stage %s: cmd, lists of strings, known keys only', (name) => {
    const stage = dvc.stages[name];
    const known = ['cmd', 'deps', 'params', 'outs', 'metrics', 'plots', 'desc', 'meta', 'always_changed', 'frozen', 'wdir', 'vars'];
    expect(Object.keys(stage).filter((k) => !known.includes(k))).toEqual([]);
    const cmd = stage.cmd;
    expect(typeof cmd === 'string' || (Array.isArray(cmd) && cmd.every((c) => typeof c === 'string'))).toBe(true);
    for (const field of ['deps', 'params']) {
      if (stage[field] === undefined) continue;
      expect(Array.isArray(stage[field])).toBe(true);
      expect((stage[field] as unknown[]).every((x) => typeof x === 'string' && x.length > 0)).toBe(true);
    }
    for (const field of ['outs', 'metrics', 'plots']) {
      if (stage[field] === undefined) continue;
      expect(Array.isArray(stage[field])).toBe(true);
      for (const x of stage[field] as unknown[]) {
        expect(typeof x === 'string' || (typeof x === 'object' && x !== null && Object.keys(x).length === 1)).toBe(true);
      }
    }
    expect(paths(stage, 'outs').length + paths(stage, 'metrics').length + paths(stage, 'plots').length).toBeGreaterThan(0);
  });

  test.each(stageNames)('stage %s: params exist in params.yaml and every ${} used is a listed param', (name) => {
    const stage = dvc.stages[name];
    const listed = (stage.params as string[] | undefined) ?? [];
    expect(listed.filter((k) => lookup(params, k) === undefined)).toEqual([]);
    const text = [stage.cmd, ...paths(stage, 'deps'), ...paths(stage, 'outs')].flat().join('\n');
    const used = [...text.matchAll(/\$\{\s*([^}]*?)\s*\}/g)].map((m) => m[1]);
    expect(used.filter((k) => !listed.includes(k))).toEqual([]);
    for (const k of used) expect(['string', 'number', 'boolean']).toContain(typeof lookup(params, k));
  });

  test('every params.yaml section is used by a stage', () => {
    const usedSections = new Set(stageNames.flatMap((n) => ((dvc.stages[n].params as string[] | undefined) ?? []).map((k) => k.split('.')[0])));
    expect(Object.keys(params).filter((s) => !usedSections.has(s))).toEqual([]);
  });

  test('outputs go under runs/ (git-ignored), except the build stage\'s dist/ (git-ignored too)', () => {
    const outs = stageNames.filter((n) => n !== 'build').flatMap((n) => ['outs', 'metrics', 'plots'].flatMap((f) => paths(dvc.stages[n], f)));
    expect(outs.filter((o) => !fill(o).startsWith('runs/'))).toEqual([]);
    expect(paths(dvc.stages.build, 'outs')).toEqual(['dist']);
    const ignored = readFileSync(join(ROOT, '.gitignore'), 'utf8');
    expect(ignored).toMatch(/^\/?runs\/?$/m);
    expect(ignored).toMatch(/^\/?dist\/?$/m);
  });

  test('the stages chain: every dep is a repo file or an output of an earlier stage', () => {
    const earlier: string[] = [];
    const problems: string[] = [];
    for (const name of stageNames) {
      const stage = dvc.stages[name];
      for (const dep of paths(stage, 'deps').map(fill)) {
        const produced = earlier.some((o) => dep === o || dep.startsWith(`${o}/`));
        if (!produced && !existsSync(join(ROOT, dep))) problems.push(`${name}: ${dep}`);
      }
      earlier.push(...['outs', 'metrics', 'plots'].flatMap((f) => paths(stage, f)).map(fill));
    }
    expect(problems).toEqual([]);
  });

  test('the runner orders the data stages preprocess → split → … → tokenize', () => {
    const order = orderStages(loadPipeline(DVC_FILE)).map((s) => s.name);
    const expected = ['preprocess', 'split', 'preprocess_sentiment', 'augment', 'bias_report', 'plot', 'tokenize'];
    const positions = expected.map((s) => order.indexOf(s));
    expect(positions.every((p) => p >= 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Every compactlm command in dvc.yaml exists in the built CLI with the flags it uses.

describe('dvc.yaml commands exist in the built CLI', () => {
  const main = join(ROOT, 'dist', 'cli', 'main.js');
  const helps = new Map<string, string>();
  const help = (...sub: string[]): string => {
    const key = sub.join(' ');
    if (!helps.has(key)) {
      const args = [main, ...sub, '--help'];
      helps.set(key, execFileSync(process.execPath, args, { encoding: 'utf8', cwd: ROOT }));
    }
    return helps.get(key)!;
  };
  const optionsOf = (text: string) => new Set([...text.matchAll(/(?:^|[\s,])(--?[A-Za-z][\w-]*)/gm)].map((m) => m[1]));
  const GLOBAL_WITH_VALUE = new Set(['--seed']);

  const commands = loadPipelineSafe().flatMap((s) => s.cmd.map((c) => ({ stage: s.name, cmd: c })));
  function loadPipelineSafe() {
    try {
      return loadPipeline(DVC_FILE).stages;
    } catch {
      return [];
    }
  }

  test('the CLI is built', () => {
    expect(existsSync(main)).toBe(true); // run `npm run build` first
  });

  test.each(commands.filter((c) => c.cmd.startsWith('compactlm ')))('$stage: $cmd', ({ cmd }) => {
    expect(cmd).not.toMatch(/["'\\]/); // plain words only, so splitting on spaces is exact
    const words = cmd.trim().split(/\s+/).slice(1);
    const globals = optionsOf(help());
    let i = 0;
    while (i < words.length && words[i].startsWith('-')) {
      expect(globals).toContain(words[i]);
      i += GLOBAL_WITH_VALUE.has(words[i]) ? 2 : 1;
    }
    const sub = words[i];
    const commandsSection = help().split(/^Commands:/m)[1] ?? '';
    expect(commandsSection).toMatch(new RegExp(`^\\s+${sub}\\b`, 'm'));
    // A command with subcommands of its own (`feedback import`): the flags are the nested one's.
    const nested = (help(sub).split(/^Commands:/m)[1] ?? '').match(new RegExp(`^\\s+${words[i + 1]}\\b`, 'm')) ? words[++i] : undefined;
    const own = optionsOf(nested ? help(sub, nested) : help(sub));
    const flags = words.slice(i + 1).filter((w) => /^--?[A-Za-z]/.test(w));
    expect(flags.filter((f) => !own.has(f) && !globals.has(f))).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// The runner on small pipelines in a temporary folder.

describe('run-dvc planner and runner', () => {
  let dir: string;
  const write = (name: string, text: string) => writeFileSync(join(dir, name), text);
  const file = () => join(dir, 'dvc.yaml');
  const collect = () => {
    const lines: string[] = [];
    return { lines, sink: (l: string) => lines.push(l) };
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'compactlm-dvc-'));
    write('input.txt', 'hello\n');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const chain = `stages:
  last:
    cmd: cat runs/b.txt runs/b.txt > runs/c.txt
    deps: [runs/b.txt]
    outs: [runs/c.txt]
  middle:
    cmd: cat runs/a.txt runs/a.txt > runs/b.txt
    deps: [runs/a.txt]
    outs: [runs/b.txt]
  free:
    cmd: echo \${free.word} > runs/free.txt
    params: [free.word]
    outs: [runs/free.txt]
  first:
    cmd: cp input.txt runs/a.txt
    deps: [input.txt]
    outs: [runs/a.txt]
`;

  test('topological order: dependencies first, otherwise the order of the file', () => {
    write('dvc.yaml', chain);
    write('params.yaml', 'free:\n  word: hi\n');
    expect(orderStages(loadPipeline(file())).map((s) => s.name)).toEqual(['free', 'first', 'middle', 'last']);
    expect(orderStages(loadPipeline(file()), 'middle').map((s) => s.name)).toEqual(['first', 'middle']);
    expect(() => orderStages(loadPipeline(file()), 'nope')).toThrow(/no stage "nope" \(stages: last, middle, free, first\)/);
  });

  test('a folder output feeds a dependency inside it', () => {
    write('dvc.yaml', `stages:
  use:
    cmd: cat runs/dir/x.txt > runs/y.txt
    deps: [runs/dir/x.txt]
    outs: [runs/y.txt]
  make:
    cmd: mkdir -p runs/dir && cp input.txt runs/dir/x.txt
    deps: [input.txt]
    outs: [runs/dir]
`);
    expect(orderStages(loadPipeline(file())).map((s) => s.name)).toEqual(['make', 'use']);
  });

  test('a cycle is a one-line error naming it', () => {
    write('dvc.yaml', `stages:
  a:
    cmd: cp runs/b.txt runs/a.txt
    deps: [runs/b.txt]
    outs: [runs/a.txt]
  b:
    cmd: cp runs/a.txt runs/b.txt
    deps: [runs/a.txt]
    outs: [runs/b.txt]
`);
    expect(() => orderStages(loadPipeline(file()))).toThrow(/the stages form a cycle: (a → b → a|b → a → b)$/);
  });

  test('a dependency that is neither a repo file nor an output is an error', () => {
    write('dvc.yaml', 'stages:\n  a:\n    cmd: cp missing.csv runs/a.csv\n    deps: [missing.csv]\n    outs: [runs/a.csv]\n');
    expect(() => orderStages(loadPipeline(file()))).toThrow(/stage "a": dependency "missing.csv" is neither a file in the repo nor an output of another stage/);
  });

  test('schema errors are one line: no cmd, a param not in params.yaml, an undefined ${}, two stages writing one file', () => {
    write('params.yaml', 'a:\n  n: 1\n');
    const cases: [string, RegExp][] = [
      ['stages:\n  a:\n    outs: [x]\n', /stage "a": "cmd" must be a command or a list of commands/],
      ['stages:\n  a:\n    cmd: echo\n    params: [a.m]\n    outs: [x]\n', /stage "a": param "a.m" is not in params.yaml/],
      ['stages:\n  a:\n    cmd: echo ${a.q}\n    outs: [x]\n', /stage "a": \$\{a.q\} is not defined in params.yaml/],
      ['stages:\n  a:\n    cmd: echo\n    deps: x\n', /stage "a": "deps" must be a list/],
      ['stages:\n  a:\n    cmd: echo\n    foreach: [1]\n', /"foreach" is not supported/],
      ['stages:\n  a:\n    cmd: echo\n    outs: [x]\n  b:\n    cmd: echo\n    outs: [x]\n', /stages "a" and "b" both write "x"/],
      ['stages:\n  a:\n    cmd: [echo\n', /dvc.yaml:\d+: invalid YAML/],
    ];
    for (const [yaml, message] of cases) {
      write('dvc.yaml', yaml);
      expect(() => orderStages(loadPipeline(file()))).toThrow(message);
    }
  });

  test('${} is filled from params.yaml, and a recipe may only change existing keys', () => {
    write('dvc.yaml', chain);
    write('params.yaml', 'free:\n  word: hi\n');
    write('tiny.yaml', 'free:\n  word: bye\n');
    const free = (p: ReturnType<typeof loadPipeline>) => p.stages.find((s) => s.name === 'free')!;
    expect(free(loadPipeline(file())).cmd).toEqual(['echo hi > runs/free.txt']);
    expect(free(loadPipeline(file(), { paramsOverlay: join(dir, 'tiny.yaml') })).cmd).toEqual(['echo bye > runs/free.txt']);
    expect(() => overlayParams({ a: { b: 1 } }, { a: { c: 2 } }, 'r.yaml')).toThrow(/r.yaml: "a.c" is not a key of params.yaml/);
  });

  test('--dry prints the plan and runs nothing', async () => {
    write('dvc.yaml', chain);
    write('params.yaml', 'free:\n  word: hi\n');
    const { lines, sink } = collect();
    expect(await runPipeline({ file: file(), dry: true, out: sink, err: sink })).toBe(0);
    expect(lines.filter((l) => /^(run |skip)/.test(l))).toEqual([
      'run  free (not run before)',
      'run  first (not run before)',
      'run  middle (after first)',
      'run  last (after middle)',
    ]);
    expect(lines).toContain('     $ cp input.txt runs/a.txt');
    expect(existsSync(join(dir, 'runs'))).toBe(false);
  });

  test('runs in order, then skips what is up to date, re-runs what changed, and --force runs all', async () => {
    write('dvc.yaml', chain);
    write('params.yaml', 'free:\n  word: hi\n');
    const quiet = () => {};
    expect(await runPipeline({ file: file(), out: quiet, err: quiet })).toBe(0);
    expect(readFileSync(join(dir, 'runs', 'c.txt'), 'utf8')).toBe('hello\n'.repeat(4));
    expect(readFileSync(join(dir, 'runs', 'free.txt'), 'utf8')).toBe('hi\n');
    const lock = JSON.parse(readFileSync(join(dir, 'runs', 'dvc.lock.json'), 'utf8'));
    expect(Object.keys(lock.stages).sort()).toEqual(['first', 'free', 'last', 'middle']);

    const plan = async (opts = {}) => {
      const { lines, sink } = collect();
      await runPipeline({ file: file(), dry: true, out: sink, err: sink, ...opts });
      return lines.filter((l) => /^(run |skip)/.test(l));
    };
    expect(await plan()).toEqual(['skip free (up to date)', 'skip first (up to date)', 'skip middle (up to date)', 'skip last (up to date)']);

    write('input.txt', 'changed\n');
    write('params.yaml', 'free:\n  word: ho\n');
    expect(await plan()).toEqual([
      'run  free (param free.word changed)',
      'run  first (dependency changed: input.txt)',
      'run  middle (after first)',
      'run  last (after middle)',
    ]);
    expect(await plan({ stage: 'first' })).toEqual(['run  first (dependency changed: input.txt)']);
    expect(await runPipeline({ file: file(), out: quiet, err: quiet })).toBe(0);
    expect(readFileSync(join(dir, 'runs', 'c.txt'), 'utf8')).toBe('changed\n'.repeat(4));

    rmSync(join(dir, 'runs', 'b.txt'));
    expect(await plan()).toEqual(['skip free (up to date)', 'skip first (up to date)', 'run  middle (output missing: runs/b.txt)', 'run  last (after middle)']);
    expect((await plan({ force: true })).every((l) => l.endsWith('(forced)'))).toBe(true);
  });

  test('stops at the first failing stage with its exit status', async () => {
    write('dvc.yaml', `stages:
  bad:
    cmd: cp input.txt runs/a.txt && exit 3
    deps: [input.txt]
    outs: [runs/a.txt]
  after:
    cmd: cp runs/a.txt runs/b.txt
    deps: [runs/a.txt]
    outs: [runs/b.txt]
  silent:
    cmd: echo nothing
    deps: [input.txt]
    outs: [runs/never.txt]
`);
    const { lines, sink } = collect();
    expect(await runPipeline({ file: file(), out: sink, err: sink })).toBe(3);
    expect(lines).toContain('pipeline: error: stage bad failed (exit 3): cp input.txt runs/a.txt && exit 3');
    expect(existsSync(join(dir, 'runs', 'b.txt'))).toBe(false);
    expect(existsSync(join(dir, 'runs', 'dvc.lock.json'))).toBe(false);

    const { lines: l2, sink: s2 } = collect();
    expect(await runPipeline({ file: file(), stage: 'silent', out: s2, err: s2 })).toBe(1);
    expect(l2).toContain('pipeline: error: stage silent did not write its output runs/never.txt');
  });

  test('a leading compactlm runs the repo launcher', () => {
    expect(shellCommand('compactlm split a.csv --out d', '/x/bin/compactlm')).toBe("'/x/bin/compactlm' split a.csv --out d");
    expect(shellCommand('echo compactlm', '/x/bin/compactlm')).toBe('echo compactlm');
    expect(shellCommand('compactlmx --help', '/x/bin/compactlm')).toBe('compactlmx --help');
    expect(COMPACTLM_BIN).toBe(join(ROOT, 'bin', 'compactlm'));
    expect(existsSync(COMPACTLM_BIN)).toBe(true);
  });
});
