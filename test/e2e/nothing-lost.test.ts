/**
 * Nothing lost: every case of the "nothing lost" contract run through the built CLI as a user would — an output
 * that is, contains or lies inside an input; --overwrite of a folder CompactLM did not write; kill -9 and SIGINT in
 * the middle of export and pretrain; damaged checkpoints; a closed or full stdout; a full disk (a 2 MB tmpfs, when
 * the tests run as root and may mount one). Each failure must exit non-zero with one line on stderr and no stack
 * trace, write nothing, and leave every input byte for byte as it was (sha256 before and after).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const cli = join(root, 'bin/compactlm');
const TINY_MODEL = join(root, 'models/compactlm-tiny');
// A tiny masked LM trains fast enough to be killed mid-run within a test's time.
const PRETRAIN = ['--preset', 'tiny', '--batch-size', '2', '--seq-len', '16', '--eval-every', '100000', '--threads', '1'];

let dir: string;

function run(args: string[], opts: { input?: string } = {}) {
  const r = spawnSync(cli, args, { cwd: dir, encoding: 'utf8', input: opts.input, env: { ...process.env, CI: '1' }, timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** sha256 of every file under `path` (a file or a folder), by relative name. */
function fingerprint(path: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (p: string) => {
    if (statSync(p).isDirectory()) for (const e of readdirSync(p)) walk(join(p, e));
    else out[relative(path, p) || '.'] = createHash('sha256').update(readFileSync(p)).digest('hex');
  };
  walk(path);
  return out;
}

/** Everything in the test folder (names only, hidden temporaries included). */
const listing = () => {
  const names: string[] = [];
  const walk = (p: string) => {
    for (const e of readdirSync(p)) {
      names.push(relative(dir, join(p, e)));
      if (statSync(join(p, e)).isDirectory()) walk(join(p, e));
    }
  };
  walk(dir);
  return names.sort();
};

/** One line on stderr, no stack trace, matching `message`. */
function expectOneLine(stderr: string, message: RegExp): void {
  const lines = stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^compactlm: error: /);
  expect(lines[0]).toMatch(message);
  expect(stderr).not.toMatch(/\n\s+at |node:internal|Error: /);
}

/** The command fails with one line, changes no input and writes nothing anywhere in the test folder. */
function expectRefused(args: string[], inputs: string[], message: RegExp, code = 2): void {
  const before = Object.fromEntries(inputs.map((p) => [p, fingerprint(join(dir, p))]));
  const files = listing();
  const r = run(args);
  expect(r.code).toBe(code);
  expectOneLine(r.stderr, message);
  for (const p of inputs) expect(fingerprint(join(dir, p))).toEqual(before[p]);
  expect(listing()).toEqual(files);
}

/** Resolves when `check` holds (polled), or fails after `ms`. */
async function waitFor(check: () => boolean, ms: number, what: string): Promise<void> {
  const t0 = Date.now();
  while (!check()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const exited = (p: ChildProcess) => new Promise<{ code: number | null; signal: string | null }>((resolve) => p.on('exit', (code, signal) => resolve({ code, signal })));

beforeAll(() => {
  if (!existsSync(join(root, 'dist/cli/main.js'))) throw new Error('build first (npm run build)');
  dir = mkdtempSync(join(tmpdir(), 'nothing-lost-'));
  const rows = ['text,label,group'];
  for (let i = 0; i < 300; i++) rows.push(`"review ${i}: the ${i % 2 ? 'food was great' : 'service was slow'}, we ${i % 3 ? 'will' : 'will not'} return",${i % 2},${i % 4 ? 'a' : 'b'}`);
  writeFileSync(join(dir, 'in.csv'), `${rows.join('\n')}\n`);
  mkdirSync(join(dir, 'd'));
  cpSync(join(dir, 'in.csv'), join(dir, 'd/train.csv'));
  mkdirSync(join(dir, 'sub'));
  symlinkSync('in.csv', join(dir, 'link.csv'));
  cpSync(TINY_MODEL, join(dir, 'teacher'), { recursive: true });
  mkdirSync(join(dir, 'mine'));
  writeFileSync(join(dir, 'mine/notes.txt'), 'my own notes\n');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('an output that is, contains or lies inside an input is refused before any work', () => {
  test.each([
    ['plot over its CSV', ['plot', 'in.csv', '--column', 'label', '-o', 'in.csv'], ['in.csv'], /-o in\.csv is the input in\.csv/],
    ['split into the folder of its input', ['split', 'd/train.csv', '--out', 'd'], ['d'], /--out d\/train\.csv is the input d\/train\.csv/],
    ['preprocess over its input', ['preprocess', 'in.csv', '-o', 'in.csv'], ['in.csv'], /-o in\.csv is the input in\.csv/],
    ['preprocess through a symbolic link', ['preprocess', 'in.csv', '-o', 'link.csv'], ['in.csv'], /-o link\.csv is the input in\.csv/],
    ['preprocess through ..', ['preprocess', 'in.csv', '-o', 'sub/../in.csv'], ['in.csv'], /is the input in\.csv/],
    ['augment over its input', ['augment', 'in.csv', '-o', 'in.csv'], ['in.csv'], /-o in\.csv is the input in\.csv/],
    ['bias-report weights over its input', ['bias-report', 'in.csv', '--protected', 'group', '--label', 'label', '--privileged', 'a', '--favorable', '1', '--weights', 'in.csv'], ['in.csv'], /--weights in\.csv is the input/],
    ['distill over its teacher', ['distill', '--teacher', 'teacher', '--out', 'teacher', '--train', 'in.csv', '--steps', '1'], ['teacher'], /--out teacher is --teacher teacher/],
    ['distill inside its teacher', ['distill', '--teacher', 'teacher', '--out', 'teacher/student', '--train', 'in.csv', '--steps', '1'], ['teacher'], /--out teacher\/student lies inside --teacher teacher/],
    ['pretrain into a folder around its data', ['pretrain', '--train', 'd/train.csv', '--out', 'd', '--steps', '1'], ['d'], /--out d contains --train d\/train\.csv/],
    ['export over its model', ['export', 'teacher', '--out', 'teacher', '--overwrite'], ['teacher'], /--out teacher is the model folder teacher/],
    ['finetune inside its model', ['finetune', '--model', 'teacher', '--train', 'in.csv', '--label-column', 'label', '--out', 'teacher/ft'], ['teacher'], /lies inside --model teacher/],
    ['eval report inside its model', ['eval', '--model', 'teacher', '--task', 'mlm', '--test', 'in.csv', '--report', 'teacher/eval.json'], ['teacher'], /lies inside --model teacher/],
  ])('%s', (_name, args, inputs, message) => expectRefused(args, inputs, message));

  test('--overwrite never deletes a folder CompactLM did not write as that kind of output', () => {
    expectRefused(['export', 'teacher', '--out', 'mine', '--overwrite'], ['mine', 'teacher'], /--overwrite replaces only an export folder.*did not write it/);
    expectRefused(['export', 'teacher', '--out', 'mine'], ['mine'], /exists and is not empty \(not a folder CompactLM wrote\)/);
    expectRefused(['pretrain', '--train', 'in.csv', '--out', 'mine', '--steps', '1'], ['mine'], /--out mine: exists and is not empty/);
  });

  test('a file where a folder goes, and a folder where a file goes, are one line each', () => {
    expectRefused(['pretrain', '--train', 'in.csv', '--out', 'in.csv', '--steps', '1'], ['in.csv'], /in\.csv/);
    expectRefused(['preprocess', 'in.csv', '-o', 'mine'], ['mine', 'in.csv'], /mine: is a folder/, 1);
  });
});

describe('kills and signals', () => {
  test('kill -9 during export leaves a temporary folder that the next export of the same output removes', async () => {
    const p = spawn(cli, ['export', 'teacher', '--out', 'ex'], { cwd: dir, stdio: 'ignore' });
    await waitFor(() => readdirSync(dir).some((e) => e.startsWith('.ex.tmp-')), 90_000, 'the export to start writing');
    p.kill('SIGKILL');
    await exited(p);
    expect(existsSync(join(dir, 'ex'))).toBe(false);
    const r = run(['export', 'teacher', '--out', 'ex', '--quantize', 'none']);
    expect(r.code).toBe(0);
    expect(readdirSync(dir).filter((e) => e.startsWith('.ex.'))).toEqual([]);
    // the folder is now an export of CompactLM's: --overwrite may replace it
    expect(run(['export', 'teacher', '--out', 'ex', '--quantize', 'none', '--overwrite']).code).toBe(0);
  }, 120_000);

  test('SIGINT during export removes its temporary folder and exits 130 with one line', async () => {
    const p = spawn(cli, ['export', 'teacher', '--out', 'ex-int'], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    p.stderr!.on('data', (b) => (stderr += b));
    await waitFor(() => readdirSync(dir).some((e) => e.startsWith('.ex-int.tmp-')), 90_000, 'the export to start writing');
    p.kill('SIGINT');
    const { code } = await exited(p);
    expect(code).toBe(130);
    expect(stderr.trimEnd().split('\n').pop()).toBe('compactlm: error: interrupted (SIGINT); temporary files removed');
    expect(readdirSync(dir).filter((e) => e.startsWith('.ex-int') || e === 'ex-int')).toEqual([]);
  }, 60_000);

  test('kill -9 during a fresh pretrain: infer refuses the folder, --resume finishes it', async () => {
    const args = ['pretrain', '--train', 'in.csv', '--out', 'run', '--steps', '400', '--save-every', '2', ...PRETRAIN];
    const p = spawn(cli, args, { cwd: dir, stdio: 'ignore' });
    const saved = () => (existsSync(join(dir, 'run/checkpoints')) ? readdirSync(join(dir, 'run/checkpoints')).filter((e) => /^step-/.test(e)).length : 0);
    await waitFor(() => saved() >= 2, 60_000, 'two checkpoints');
    p.kill('SIGKILL');
    await exited(p);
    const infer = run(['infer', '--model', 'run', 'hello [MASK]']);
    expect(infer.code).toBe(1);
    expectOneLine(infer.stderr, /run: training did not finish: resume with --resume/);
    expectOneLine(run(['export', 'run', '--out', 'run-ex']).stderr, /training did not finish/);
    const again = run(['pretrain', '--train', 'in.csv', '--out', 'run', '--steps', '400', ...PRETRAIN]);
    expectOneLine(again.stderr, /already has checkpoints .*--resume/);

    // Damage the newest checkpoint without changing its size: the resume names it and falls back.
    const ckpts = readdirSync(join(dir, 'run/checkpoints')).filter((e) => /^step-/.test(e)).sort();
    const newest = join(dir, 'run/checkpoints', ckpts[ckpts.length - 1], 'model.safetensors');
    const bytes = readFileSync(newest);
    bytes[bytes.length - 5] ^= 0xff;
    writeFileSync(newest, bytes);
    const stepOf = (name: string) => Number(name.slice(5));
    const target = stepOf(ckpts[ckpts.length - 1]) + 2;
    const resumed = run(['pretrain', '--train', 'in.csv', '--out', 'run', '--steps', String(target), '--save-every', '2', ...PRETRAIN, '--resume']);
    expect(resumed.stderr).not.toMatch(/error/);
    expect(resumed.code).toBe(0);
    expect(resumed.stderr).toMatch(new RegExp(`WARN: checkpoint run/checkpoints/${ckpts[ckpts.length - 1]} is damaged \\(model\\.safetensors does not match its sha256\\): resuming from step ${stepOf(ckpts[ckpts.length - 2])}`));
    expect(run(['infer', '--model', 'run', 'hello [MASK]']).code).toBe(0);

    // Every checkpoint damaged: an error, not a silent fresh start.
    for (const c of readdirSync(join(dir, 'run/checkpoints')).filter((e) => /^step-/.test(e))) writeFileSync(join(dir, 'run/checkpoints', c, 'trainer.json'), '{not json');
    const none = run(['pretrain', '--train', 'in.csv', '--out', 'run', '--steps', String(target + 2), ...PRETRAIN, '--resume']);
    expect(none.code).toBe(1);
    expect(none.stderr.trimEnd().split('\n').pop()).toMatch(/^compactlm: error: run: no whole checkpoint to resume from \(\d+ damaged, the newest run\/checkpoints\/step-\d+: trainer\.json has 9 bytes/);
  }, 180_000);
});

describe('stdout', () => {
  test('a closed pipe ends quietly with exit 0, as cat does', () => {
    writeFileSync(join(dir, 'texts.txt'), Array.from({ length: 400 }, (_, i) => `line ${i} with a few words`).join('\n'));
    const r = spawnSync('bash', ['-c', `"${cli}" infer --model teacher --task embed --input texts.txt | head -c 10 >/dev/null; echo "exit \${PIPESTATUS[0]}" >&2`], { cwd: dir, encoding: 'utf8' });
    expect(r.stderr.trim()).toBe('exit 0');
  });

  test('a full stdout is one line and exit 1', () => {
    const r = spawnSync('bash', ['-c', `"${cli}" tokenize --text hi >/dev/full`], { cwd: dir, encoding: 'utf8' });
    expect(r.status).toBe(1);
    expectOneLine(r.stderr, /stdout: no space left on the device \(ENOSPC\)/);
  });
});

test('bias-report --fail-below with one group: the report, then one error line with the reason', () => {
  const rows = ['text,label,group', ...Array.from({ length: 20 }, (_, i) => `t${i},${i % 2},a`)];
  writeFileSync(join(dir, 'one-group.csv'), `${rows.join('\n')}\n`);
  const r = run(['bias-report', 'one-group.csv', '--protected', 'group', '--label', 'label', '--privileged', 'a', '--favorable', '1', '--fail-below', '0.8']);
  expect(r.code).toBe(3);
  expect(r.stdout).toMatch(/disparate impact/);
  expectOneLine(r.stderr, /one-group\.csv: disparate impact is undefined \(the unprivileged group is empty\), so --fail-below 0\.8 cannot pass/);
});

// A full disk: a 2 MB tmpfs mounted for this test (root only; skipped with a line otherwise).
describe('a full disk', () => {
  let disk: string | null = null;
  beforeAll(() => {
    const mnt = join(dir, 'disk');
    mkdirSync(mnt);
    const r = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', mnt], { encoding: 'utf8' });
    if (r.status === 0) disk = mnt;
    else console.log(`nothing-lost: full-disk cases skipped: cannot mount a tmpfs here (${(r.stderr || r.error?.message || '').trim()})`);
  });
  afterAll(() => {
    if (disk) spawnSync('umount', [disk]);
  });

  test('preprocess onto a full disk: one line naming the output, no temporary left', () => {
    if (!disk) return;
    const big = ['text', ...Array.from({ length: 40_000 }, (_, i) => `row ${i} of a file that does not fit on this small disk at all`)].join('\n');
    writeFileSync(join(dir, 'big.csv'), `${big}\n`);
    const r = run(['preprocess', 'big.csv', '-o', 'disk/out.csv']);
    expect(r.code).toBe(1);
    expectOneLine(r.stderr, /disk\/out\.csv: no space left on the device \(ENOSPC\)/);
    expect(readdirSync(disk)).toEqual([]);
  });

  test('pretrain whose checkpoint does not fit: one line naming it, no half checkpoint left', () => {
    if (!disk) return;
    const r = run(['pretrain', '--train', 'in.csv', '--out', 'disk/run', '--steps', '2', '--save-every', '1', ...PRETRAIN]);
    expect(r.code).toBe(1);
    expect(r.stderr.trimEnd().split('\n').pop()).toMatch(/^compactlm: error: disk\/run\/checkpoints\/step-000001: no space left on the device \(ENOSPC\)$/);
    expect(readdirSync(join(disk, 'run/checkpoints')).filter((e) => e.startsWith('.'))).toEqual([]);
  });
});
