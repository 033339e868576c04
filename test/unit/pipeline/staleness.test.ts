import { appendFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import {
  CODE_DIR,
  LOCK_FILE,
  loadPipeline,
  planStages,
  readLock,
  runPipeline,
  stageEntry,
  staleReason,
  type Lock,
} from '../../../src/pipeline/run-dvc.js';

// A stage re-runs whenever any code it runs changes, and nothing runs from a dist/ that does not match src/.
// None of these tests trains anything: the repo's pipeline is only planned (on a copy), and the runs use shell
// one-liners.

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
type Raw = Record<string, unknown>;

/** `- path` or `- path: {options}` → path. */
const names = (list: unknown): string[] => ((list as unknown[] | undefined) ?? []).map((x) => (typeof x === 'string' ? x : Object.keys(x as Raw)[0]));
const plainPlan = (lines: string[]) => lines.filter((l) => /^(run |skip)/.test(l));

// ---------------------------------------------------------------------------------------------------------------
// The repo's dvc.yaml, read as plain YAML: code dependencies are whole folders, never a hand-picked list of files.

describe('dvc.yaml: code is a dependency of every stage that runs it', () => {
  const dvc = YAML.parse(readFileSync(join(ROOT, 'dvc.yaml'), 'utf8')) as { stages: Record<string, Raw> };
  const stages = Object.entries(dvc.stages);
  const runsCli = (s: Raw) => [s.cmd].flat().some((c) => /^\s*compactlm\s/.test(String(c)));

  test('the launcher runs dist/, which tsc builds from the whole of src/', () => {
    expect(readFileSync(join(ROOT, 'bin', 'compactlm'), 'utf8')).toMatch(/dist\/cli\/main\.js/);
    const ts = JSON.parse(readFileSync(join(ROOT, 'tsconfig.json'), 'utf8'));
    expect(ts.compilerOptions.outDir).toBe(CODE_DIR);
    expect(ts.compilerOptions.rootDir).toBe('src');
  });

  test('the build stage comes first, reads src/ and what tsc reads, and writes dist/ (kept, not cached, for DVC)', () => {
    const [name, build] = stages[0];
    expect(name).toBe('build');
    expect(build.cmd).toBe('npm run build');
    expect(names(build.deps)).toEqual(expect.arrayContaining(['src', 'tsconfig.json', 'package.json', 'package-lock.json']));
    expect(build.outs).toEqual([{ dist: { cache: false, persist: true } }]);
  });

  test.each(stages.filter(([, s]) => runsCli(s)).map(([n]) => n))('stage %s depends on dist, bin/compactlm and package-lock.json', (name) => {
    expect(names(dvc.stages[name].deps)).toEqual(expect.arrayContaining(['dist', 'bin/compactlm', 'package-lock.json']));
  });

  test('no stage lists single source or built files (a partial list is what let a code change pass unseen)', () => {
    const partial = stages.flatMap(([n, s]) => names(s.deps).filter((d) => /^(src|dist)\/./.test(d)).map((d) => `${n}: ${d}`));
    expect(partial).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// The repo's pipeline on a copy of its inputs: touching src/onnx/vjp.ts makes pretrain out of date.

describe('a copy of the repo pipeline, planned only', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'compactlm-stale-'));
    cpSync(join(ROOT, 'dvc.yaml'), join(dir, 'dvc.yaml'));
    cpSync(join(ROOT, 'params.yaml'), join(dir, 'params.yaml'));
    const p = loadPipeline(join(dir, 'dvc.yaml'));
    const outs = p.stages.flatMap((s) => s.outs);
    // Every input that no stage writes (src/, package files, datasets, …) comes from the repo as it is.
    for (const dep of new Set(p.stages.flatMap((s) => s.deps))) {
      if (outs.some((o) => dep === o || dep.startsWith(`${o}/`))) continue;
      mkdirSync(dirname(join(dir, dep)), { recursive: true });
      cpSync(join(ROOT, dep), join(dir, dep), { recursive: true });
    }
    // Stand-ins for what the stages write, the build's dist/ among them; then a lock as if all of it had just run.
    for (const o of outs) {
      // A folder out (a model folder) that other outs lie in (its metrics.jsonl) gets a stand-in file inside.
      const folder = o === CODE_DIR || outs.some((x) => x.startsWith(`${o}/`));
      const path = o === CODE_DIR ? join(dir, o, 'cli', 'main.js') : folder ? join(dir, o, 'stand-in') : join(dir, o);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, `stand-in for ${o}\n`);
    }
    const lock: Lock = { version: 1, stages: {} };
    for (const s of p.stages) lock.stages[s.name] = stageEntry(p, s, { outs: true });
    mkdirSync(join(dir, dirname(LOCK_FILE)), { recursive: true });
    writeFileSync(join(dir, LOCK_FILE), JSON.stringify(lock));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const reasons = (opts: { stage?: string } = {}) =>
    Object.fromEntries(planStages({ file: join(dir, 'dvc.yaml'), ...opts }).plan.map((x) => [x.stage.name, x.reason]));

  test('an unchanged tree skips every stage', () => {
    const r = reasons();
    expect(Object.keys(r)[0]).toBe('build');
    expect(Object.entries(r).filter(([, x]) => x !== null)).toEqual([]);
  });

  test('changing src/onnx/vjp.ts rebuilds dist/ and re-runs pretrain', async () => {
    const vjp = join(dir, 'src', 'onnx', 'vjp.ts');
    expect(statSync(vjp).isFile()).toBe(true); // the file the issue names is in the copy
    appendFileSync(vjp, '\n// touched by the staleness test\n');

    const r = reasons({ stage: 'pretrain' });
    expect(r.build).toBe('dependency changed: src');
    expect(r.pretrain).toBe('after build');
    const { lines, sink } = (() => {
      const l: string[] = [];
      return { lines: l, sink: (x: string) => l.push(x) };
    })();
    expect(await runPipeline({ file: join(dir, 'dvc.yaml'), stage: 'pretrain', dry: true, out: sink, err: sink })).toBe(0);
    expect(plainPlan(lines)[0]).toBe('run  build (dependency changed: src)');
    expect(plainPlan(lines)).toContain('run  pretrain (after build)');
    expect(lines).toContain('     $ npm run build');

    // Once the build has written the new code, pretrain is out of date on its own account.
    writeFileSync(join(dir, CODE_DIR, 'cli', 'main.js'), 'stand-in for dist, rebuilt with the new vjp\n');
    const p = loadPipeline(join(dir, 'dvc.yaml'));
    const lock = readLock(dir);
    lock.stages.build = stageEntry(p, p.stages.find((s) => s.name === 'build')!, { outs: true });
    expect(staleReason(p, p.stages.find((s) => s.name === 'pretrain')!, lock)).toBe(`dependency changed: ${CODE_DIR}`);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Runs with a one-line "build": the code that runs is always the code of src/.

describe('the build stage keeps dist/ in step with src/', () => {
  let dir: string;
  const file = () => join(dir, 'dvc.yaml');
  const write = (name: string, text: string) => {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  };
  const read = (name: string) => readFileSync(join(dir, name), 'utf8');
  const quiet = () => {};
  const plan = async () => {
    const lines: string[] = [];
    await runPipeline({ file: file(), dry: true, out: (l) => lines.push(l), err: (l) => lines.push(l) });
    return plainPlan(lines);
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'compactlm-build-'));
    // The "compiler" refuses a source with BROKEN in it, as tsc refuses one with a type error.
    write('dvc.yaml', `stages:
  build:
    cmd: "! grep -q BROKEN src/greet.js && mkdir -p dist && cp src/greet.js dist/greet.js"
    deps: [src]
    outs:
      - dist:
          cache: false
          persist: true
  greet:
    cmd: node dist/greet.js > runs/greeting.txt
    deps: [dist]
    outs: [runs/greeting.txt]
`);
    write('src/greet.js', "console.log('hello');\n");
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test('a source edited without building is built before anything runs from it', async () => {
    expect(await runPipeline({ file: file(), out: quiet, err: quiet })).toBe(0);
    expect(read('runs/greeting.txt')).toBe('hello\n');
    expect(await plan()).toEqual(['skip build (up to date)', 'skip greet (up to date)']);

    write('src/greet.js', "console.log('bonjour');\n"); // dist/ is now older than src/
    expect(await plan()).toEqual(['run  build (dependency changed: src)', 'run  greet (after build)']);
    const lines: string[] = [];
    expect(await runPipeline({ file: file(), out: quiet, err: (l) => lines.push(l) })).toBe(0);
    expect(lines.filter((l) => l.startsWith('pipeline: running'))).toEqual([
      'pipeline: running stage build (dependency changed: src)',
      'pipeline: running stage greet (dependency changed: dist)',
    ]);
    expect(read('runs/greeting.txt')).toBe('bonjour\n');
  });

  test('a dist/ that does not match the sources is rebuilt, and what was built from the same sources is not re-run', async () => {
    expect(await runPipeline({ file: file(), out: quiet, err: quiet })).toBe(0);
    write('dist/greet.js', "console.log('from some other checkout');\n");
    expect(await plan()).toEqual(['run  build (output changed: dist)', 'run  greet (after build)']);
    const lines: string[] = [];
    expect(await runPipeline({ file: file(), out: quiet, err: (l) => lines.push(l) })).toBe(0);
    expect(lines).toContain('pipeline: running stage build (output changed: dist)');
    expect(lines).toContain('pipeline: stage greet is up to date, skipped'); // the rebuilt dist/ is the one greet ran
    expect(read('dist/greet.js')).toBe("console.log('hello');\n");
  });

  test('a failing build stops the pipeline: nothing runs the old code, and the next run builds again', async () => {
    expect(await runPipeline({ file: file(), out: quiet, err: quiet })).toBe(0);
    write('src/greet.js', "BROKEN\nconsole.log('hi');\n");
    const lines: string[] = [];
    expect(await runPipeline({ file: file(), out: quiet, err: (l) => lines.push(l) })).toBe(1);
    expect(lines).toContain(`pipeline: error: stage build failed (exit 1): ! grep -q BROKEN src/greet.js && mkdir -p dist && cp src/greet.js dist/greet.js`);
    expect(lines.some((l) => l.includes('stage greet'))).toBe(false);
    expect(await plan()).toEqual(['run  build (dependency changed: src)', 'run  greet (after build)']);
  });

  test('--force rebuilds and re-runs everything', async () => {
    expect(await runPipeline({ file: file(), out: quiet, err: quiet })).toBe(0);
    const lines: string[] = [];
    await runPipeline({ file: file(), dry: true, force: true, out: (l) => lines.push(l), err: quiet });
    expect(plainPlan(lines)).toEqual(['run  build (forced)', 'run  greet (forced)']);
  });
});

describe('the runner records what ran, and refuses a stage that would hide its code', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'compactlm-record-'));
    writeFileSync(join(dir, 'input.txt'), 'one\n');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test('dependencies are hashed before the command: an edit made while a stage runs re-runs it next time', async () => {
    writeFileSync(join(dir, 'dvc.yaml'), `stages:
  copy:
    cmd: cp input.txt runs/a.txt && echo two >> input.txt
    deps: [input.txt]
    outs: [runs/a.txt]
`);
    expect(await runPipeline({ file: join(dir, 'dvc.yaml'), out: () => {}, err: () => {} })).toBe(0);
    expect(readFileSync(join(dir, 'runs', 'a.txt'), 'utf8')).toBe('one\n');
    const { pipeline, plan } = planStages({ file: join(dir, 'dvc.yaml') });
    expect(plan.map((x) => x.reason)).toEqual(['dependency changed: input.txt']);
    expect(existsSync(join(pipeline.root, LOCK_FILE))).toBe(true);
  });

  test('a stage that runs compactlm with only some source files as dependencies is an error', () => {
    writeFileSync(join(dir, 'dvc.yaml'), `stages:
  pretrain:
    cmd: compactlm pretrain --train runs/tokens --out runs/model
    deps: [runs/tokens, src/model/bert.ts, src/train/trainer.ts]
    outs: [runs/model]
`);
    expect(() => loadPipeline(join(dir, 'dvc.yaml'))).toThrow(
      /stage "pretrain": runs compactlm but does not depend on "dist" \(the built code it runs\), so a code change would not re-run it$/,
    );
  });
});
