import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tinyModel } from '../unit/export/tiny-model.js';

// Drives the built CLI (npm test builds dist/ first; or run `npx tsc -p tsconfig.json`).
const root = fileURLToPath(new URL('../..', import.meta.url));
const cli = join(root, 'bin/compactlm');

function run(args: string[], cwd: string) {
  const r = spawnSync(cli, args, { cwd, encoding: 'utf8', env: { ...process.env, CI: '1' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

let dir: string;
beforeAll(async () => {
  if (!existsSync(join(root, 'dist/cli/main.js'))) throw new Error('dist/ is missing: build first (npx tsc -p tsconfig.json)');
  dir = mkdtempSync(join(tmpdir(), 'export-e2e-'));
  await tinyModel(join(dir, 'model'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Non-zero exit, one line on stderr, nothing new in the folder. */
function expectCleanFailure(args: string[], message: RegExp) {
  const before = readdirSync(dir).sort();
  const r = run(args, dir);
  expect(r.code).not.toBe(0);
  expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(r.stderr).toMatch(message);
  expect(readdirSync(dir).sort()).toEqual(before);
}

test('export --json: fp32 + int8 folder, summary on stdout', () => {
  const r = run(['export', '--model', 'model', '--out', 'exp', '--samples', '16', '--json', '--log-json'], dir);
  expect(r.code).toBe(0);
  const s = JSON.parse(r.stdout);
  expect(s).toMatchObject({ opset: 17, irVersion: 8, quantize: 'int8', outDir: join(dir, 'exp') });
  expect(s.files.map((f: { path: string }) => f.path)).toEqual(['config.json', 'tokenizer.json', 'tokenizer_config.json', 'vocab.txt',
    'special_tokens_map.json', 'onnx/model.onnx', 'onnx/model_quantized.onnx', 'onnx/fill_mask.onnx', 'onnx/fill_mask_quantized.onnx']);
  expect(s.sizeRatio).toBeLessThanOrEqual(0.35);
  expect(s.verification.fp32MaxAbsDiff).toBeLessThanOrEqual(1e-4);
  expect(s.verification.fp32HiddenMaxAbsDiff).toBeLessThanOrEqual(1e-4);
  expect(s.verification.int8.top1Agreement).toBeGreaterThan(0.8);
  expect(s.taskGraphs.fp32MaxAbsDiff).toBeLessThanOrEqual(1e-4);
  expect(s.taskGraphs.int8Top1Agreement).toBeGreaterThan(0.8);
  for (const f of s.files) expect(existsSync(join(dir, 'exp', f.path))).toBe(true);
  // logs went to stderr as JSON lines
  for (const line of r.stderr.trim().split('\n')) expect(() => JSON.parse(line)).not.toThrow();
});

test('infer --task embed on the export folder (fp32 and --int8) equals the model folder\'s embedding', () => {
  // needs the 'exp' folder written by the first test
  const text = 'The weather is lovely today.';
  const embed = (...args: string[]) => {
    const r = run(['infer', text, '--task', 'embed', ...args], dir);
    expect(r.code).toBe(0);
    return JSON.parse(r.stdout) as { text: string; embedding: number[]; dim: number };
  };
  const ref = embed('--model', 'model');
  const fp32 = embed('--model', 'exp');
  const int8 = embed('--model', 'exp', '--int8');
  expect(ref.dim).toBe(32);
  for (const e of [fp32, int8]) {
    expect(e.text).toBe(text);
    expect(e.dim).toBe(32);
  }
  fp32.embedding.forEach((v, h) => expect(Math.abs(v - ref.embedding[h])).toBeLessThanOrEqual(1e-4));
  const cos = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i], 0) /
    Math.sqrt(a.reduce((s, x) => s + x * x, 0) * b.reduce((s, x) => s + x * x, 0));
  expect(cos(int8.embedding, ref.embedding)).toBeGreaterThan(0.99);
  expect(int8.embedding).not.toEqual(fp32.embedding); // really the int8 model
});

test('--quantize none writes only the fp32 models', () => {
  // the model folder as the first argument: the short form of --model
  const r = run(['export', 'model', '--out', 'fp32', '--quantize', 'none', '--samples', '4', '--seq-len', '32', '--json'], dir);
  expect(r.code).toBe(0);
  expect(readdirSync(join(dir, 'fp32', 'onnx')).sort()).toEqual(['fill_mask.onnx', 'model.onnx']);
  expect(JSON.parse(r.stdout).verification.int8).toBeUndefined();
  expect(JSON.parse(r.stdout).taskGraphs.int8Top1Agreement).toBeUndefined();
});

test('fill-mask on the task graph answers as on the full graph; --no-task-graphs writes the full graphs only', () => {
  // needs the 'exp' folder written by the first test
  const r = run(['export', 'model', '--out', 'full-only', '--no-task-graphs', '--samples', '4', '--json'], dir);
  expect(r.code).toBe(0);
  expect(readdirSync(join(dir, 'full-only', 'onnx')).sort()).toEqual(['model.onnx', 'model_quantized.onnx']);
  expect(JSON.parse(r.stdout).taskGraphs).toBeUndefined();
  const text = 'The weather is [MASK] today, and the [MASK] is warm.';
  const fill = (...args: string[]) => {
    const out = run(['infer', text, '--json', '--top-k', '10', ...args], dir);
    expect(out.code).toBe(0);
    return JSON.parse(out.stdout) as { masks: { position: number; predictions: { token_id: number; score: number }[] }[] };
  };
  const task = fill('--model', 'exp');
  const full = fill('--model', 'full-only');
  expect(task.masks.map((m) => m.position)).toEqual(full.masks.map((m) => m.position));
  task.masks.forEach((m, i) => m.predictions.forEach((p, k) => {
    expect(p.token_id).toBe(full.masks[i].predictions[k].token_id);
    expect(Math.abs(p.score - full.masks[i].predictions[k].score)).toBeLessThanOrEqual(1e-6);
  }));
  // int8: the head's activation scale comes from the masked rows only, so close, not equal
  const int8Task = fill('--model', 'exp', '--int8');
  const int8Full = fill('--model', 'full-only', '--int8');
  int8Task.masks.forEach((m, i) => expect(m.predictions[0].token_id).toBe(int8Full.masks[i].predictions[0].token_id));
});

test('bad input: one line, no output', () => {
  expectCleanFailure(['export', '--model', 'nope', '--out', 'x'], /^compactlm: error: .*nope: model folder not found$/m);
  expectCleanFailure(['export', 'nope', '--out', 'x'], /^compactlm: error: .*nope: model folder not found$/m);
  expectCleanFailure(['export', '--out', 'x'], /^compactlm: error: export: which model\? pass --model <dir>/);
  expectCleanFailure(['export', 'model', '--model', 'other', '--out', 'x'], /^compactlm: error: give the model folder once: --model other or model, not both$/m);
  expectCleanFailure(['export', '--model', 'model', '--out', 'x', '--opset', '16'], /^compactlm: error: option '--opset <n>' argument '16' is invalid\. 16 is outside \[17, 21\]\.$/m);
  expectCleanFailure(['export', '--model', 'model', '--out', 'x', '--quantize', 'int4'], /int4/);
  expectCleanFailure(['export', '--model', 'model', '--out', 'x', '--seq-len', '2'], /--seq-len <n>' argument '2' is invalid/);
  expectCleanFailure(['export', '--model', 'model', '--out', 'exp'], /exists and is not empty \(an export folder of `compactlm export`\): pass --overwrite to replace it/);
  // --overwrite must never replace the model folder itself (or a folder holding it)
  expectCleanFailure(['export', '--model', 'model', '--out', 'model', '--overwrite'], /^compactlm: error: --out model is the model folder model: choose another output \(a command never overwrites its input\)/);
  expectCleanFailure(['export', '--model', 'model', '--out', '.', '--overwrite'], /^compactlm: error: --out \. contains the model folder model/);
  writeFileSync(join(dir, 'v.csv'), 'a\n1\n');
  expectCleanFailure(['export', '--model', 'model', '--out', 'x', '--val', 'v.csv'], /v\.csv.*text/);
  rmSync(join(dir, 'v.csv'));
});

test('--help shows an example', () => {
  const r = run(['export', '--help'], dir);
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/Example:\n\s+\$ compactlm export --model /);
  expect(r.stdout).toMatch(/--seq-len <n>/);
  expect(r.stdout).not.toMatch(/--max-length/);
});

test('--overwrite replaces an existing export only when the new one is complete', () => {
  // --max-length: the old name of --seq-len, still accepted with a warning
  const r = run(['export', '--model', 'model', '--out', 'exp', '--overwrite', '--quantize', 'none', '--samples', '4', '--max-length', '32'], dir);
  expect(r.stderr).toMatch(/--max-length is deprecated: use --seq-len/);
  expect(r.code).toBe(0);
  expect(readdirSync(join(dir, 'exp', 'onnx')).sort()).toEqual(['fill_mask.onnx', 'model.onnx']);
  expect(readdirSync(dir).filter((f) => f.startsWith('.'))).toEqual([]);
});
