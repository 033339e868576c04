/**
 * `compactlm pretrain` through the built CLI: a tiny BERT trains and leaves a complete model folder; a run killed
 * with SIGKILL mid-training and resumed with --resume ends with the same model.safetensors bytes as an
 * uninterrupted run; bad flags and inputs fail with one line. (npm test builds dist/ first.)
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const cli = join(root, 'dist/cli/main.js');
const fixture = join(root, 'test/fixtures/pretrain-small.csv');
const env = { ...process.env, CI: '1', MALLOC_MMAP_THRESHOLD_: '2147483647', MALLOC_TRIM_THRESHOLD_: '8589934592' };

function run(args: string[]) {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd: dir, encoding: 'utf8', env });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

let dir: string;
let tinyArgs: string[];
beforeAll(() => {
  if (!existsSync(cli)) throw new Error(`${cli} is missing: build first (npx tsc -p tsconfig.json)`);
  dir = mkdtempSync(join(tmpdir(), 'pretrain-e2e-'));
  writeFileSync(join(dir, 'tiny.json'), JSON.stringify({ hidden_size: 32, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 64 }));
  tinyArgs = ['pretrain', '--train', fixture, '--config', 'tiny.json', '--steps', '40', '--batch-size', '4', '--seq-len', '16', '--lr', '5e-3',
    '--eval-every', '10', '--save-every', '5', '--threads', '1', '--seed', '3'];
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const withoutTiming = (text: string) => text.trim().split('\n').map((l) => {
  const { tokens_per_s: _, ...rest } = JSON.parse(l);
  return rest;
});

describe('compactlm pretrain', () => {
  test('trains a tiny BERT and writes the model folder, metrics, checkpoints and artifacts', () => {
    const r = run([...tinyArgs, '--out', 'whole', '--json']);
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary).toMatchObject({ out: 'whole', steps: 40, resumedFrom: null });
    expect(summary.val_ppl).toBeCloseTo(Math.exp(summary.val_loss), 6);
    for (const f of ['config.json', 'model.safetensors', 'tokenizer.json', 'vocab.txt', 'metrics.jsonl', 'artifacts/model.onnx', 'training_state/trainer.json']) {
      expect(existsSync(join(dir, 'whole', f))).toBe(true);
    }
    const rows = readFileSync(join(dir, 'whole/metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(rows.filter((x) => 'val_loss' in x).map((x) => x.step)).toEqual([10, 20, 30, 40]);
    expect(readdirSync(join(dir, 'whole/checkpoints')).filter((n) => n.startsWith('step-')).length).toBeGreaterThanOrEqual(3);
  });

  test('kill -9 mid-run, then --resume: same weights as the uninterrupted run', async () => {
    const out = join(dir, 'killed');
    const child = spawn(process.execPath, [cli, ...tinyArgs, '--out', 'killed'], { cwd: dir, env, stdio: ['ignore', 'ignore', 'pipe'] });
    let childErr = '';
    child.stderr!.on('data', (d) => (childErr += d));
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    // Kill as soon as the first checkpoint is complete (a few steps in), whatever it is writing at that moment.
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        const names = existsSync(join(out, 'checkpoints')) ? readdirSync(join(out, 'checkpoints')) : [];
        if (names.some((n) => /^step-\d+$/.test(n)) || child.exitCode !== null) {
          clearInterval(timer);
          child.kill('SIGKILL');
          resolve();
        }
      }, 5);
    });
    const signal = await exited;
    if (signal !== 'SIGKILL') throw new Error(`the training run was not killed (it ended first): ${childErr.slice(-2000)}`);
    expect(existsSync(join(out, 'model.safetensors'))).toBe(false); // it really was interrupted

    const r = run([...tinyArgs, '--out', 'killed', '--resume', '--json']);
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary.resumedFrom).toBeGreaterThanOrEqual(5);
    expect(summary.resumedFrom).toBeLessThan(40);
    expect(readFileSync(join(out, 'model.safetensors')).equals(readFileSync(join(dir, 'whole/model.safetensors')))).toBe(true);
    expect(withoutTiming(readFileSync(join(out, 'metrics.jsonl'), 'utf8'))).toEqual(withoutTiming(readFileSync(join(dir, 'whole/metrics.jsonl'), 'utf8')));
  });

  test.each([
    [['--seq-len', '1024'], /--seq-len.*1024 is outside \[8, 512\]/],
    [['--preset', 'huge'], /--preset.*"huge" is not one of: tiny, mini/],
    [['--config', 'bad.json'], /bad\.json: hidden_size: must be divisible by num_attention_heads/],
    [['--config', 'missing.json'], /missing\.json: file not found/],
    [['--resume'], /nothing to resume \(no checkpoint in .*; start without --resume\)/],
    [['--text-column', 'body'], /pretrain-small\.csv.*body/],
    [['--loss', 'mse'], /--loss.*"mse" is not one of: ce, focal/],
    [['--device', 'tpu'], /--device.*"tpu" is not one of: cpu, cuda, webgpu/],
    // every range the library's training code assumes is checked by the CLI, before any work
    [['--lr', '0'], /^compactlm: error: option '--lr <x>' argument '0' is invalid\. 0 is outside \(0, 10\]\.$/m],
    [['--weight-decay', '-0.1'], /--weight-decay <x>' argument '-0\.1' is invalid\. -0\.1 is outside \[0, 10\]/],
    [['--dropout', '1'], /--dropout <p>' argument '1' is invalid\. 1 is outside \[0, 1\)/],
    [['--steps', '0'], /--steps <n>' argument '0' is invalid/],
    [['--batch-size', '1.5'], /--batch-size <n>' argument '1\.5' is invalid\. "1\.5" is not a whole number/],
    [['--grad-accum', '0'], /--grad-accum <k>' argument '0' is invalid/],
    [['--eval-every', '0'], /--eval-every <n>' argument '0' is invalid/],
    [['--save-every', '-1'], /--save-every <n>' argument '-1' is invalid/],
    [['--threads', '0'], /--threads <n>' argument '0' is invalid/],
    [['--seq-len', '4'], /--seq-len <n>' argument '4' is invalid\. 4 is outside \[8, 512\]/],
    [['--warmup', '2.5'], /--warmup <x>' argument '2\.5' is invalid\. 2\.5 is ≥ 1, so it counts steps and must be a whole number/],
    [['--warmup', '50'], /^compactlm: error: --warmup 50 is 50 steps, longer than --steps 2$/m],
    [['--preset', 'tiny', '--config', 'bad.json'], /^compactlm: error: give either --preset or --config, not both$/m],
    [['--config', 'short.json'], /^compactlm: error: --seq-len 16 exceeds the max_position_embeddings \(8\) of --config short\.json$/m],
    [['--config', 'vocab.json'], /^compactlm: error: --config vocab\.json: vocab_size is 100 but the tokenizer \(bert-base-uncased\) has 30522 tokens$/m],
  ])('bad input %j → one-line error', (extra, message) => {
    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ hidden_size: 30, num_attention_heads: 4 }));
    writeFileSync(join(dir, 'short.json'), JSON.stringify({ hidden_size: 32, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 64, max_position_embeddings: 8 }));
    writeFileSync(join(dir, 'vocab.json'), JSON.stringify({ hidden_size: 32, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 64, vocab_size: 100 }));
    const base = ['--train', fixture, '--out', 'bad-run', '--steps', '2', '--batch-size', '2', '--seq-len', '16'];
    const r = run(['pretrain', ...base, ...extra]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n').filter((l) => /error/i.test(l))).toHaveLength(1);
    expect(existsSync(join(dir, 'bad-run/model.safetensors'))).toBe(false);
  });

  test('an --out with checkpoints needs --resume; --resume cannot go back before the latest checkpoint (checked by the CLI)', () => {
    const again = run([...tinyArgs, '--out', 'whole']);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/^compactlm: error: --out whole: already has checkpoints \(latest step-0000\d\d\); pass --resume to continue that run or choose another --out\n$/);
    const back = run([...tinyArgs.map((a, i) => (tinyArgs[i - 1] === '--steps' ? '20' : a)), '--out', 'whole', '--resume']);
    expect(back.code).toBe(2);
    expect(back.stderr).toMatch(/^compactlm: error: --resume: the latest checkpoint \(.*step-000040\) is at step 40, beyond --steps 20\n$/);
  });

  test('--out that is the --train folder is refused', () => {
    const r = run(['pretrain', '--train', dir, '--out', dir, '--steps', '2']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^compactlm: error: --out .* is --train .*: choose another output/);
  });

  test('--train that does not exist', () => {
    const r = run(['pretrain', '--train', 'nope.csv', '--out', 'x']);
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim()).toBe('compactlm: error: nope.csv: file or folder not found');
  });
});
