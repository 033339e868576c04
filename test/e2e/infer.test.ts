/**
 * `compactlm infer` through the built CLI on a model folder that `compactlm pretrain` just wrote and on its export
 * (`compactlm export`): the table, the --json object (documented in src/cli/infer.ts), top-k, many texts from
 * --input or stdin (plain lines and JSONL → JSONL in order, equal to one-text runs), embed, --int8, and one-line
 * errors. (npm test builds dist/ first.)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_MODEL_NAME, installedDefaultModel } from '../../src/model/default-model.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const cli = join(root, 'dist/cli/main.js');

function run(args: string[], input?: string) {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd: dir, encoding: 'utf8', input, env: { ...process.env, CI: '1' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

let dir: string;
beforeAll(() => {
  if (!existsSync(cli)) throw new Error(`${cli} is missing: build first (npx tsc -p tsconfig.json)`);
  dir = mkdtempSync(join(tmpdir(), 'infer-e2e-'));
  writeFileSync(join(dir, 'tiny.json'), JSON.stringify({ hidden_size: 32, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 64 }));
  const r = run(['pretrain', '--train', join(root, 'test/fixtures/pretrain-small.csv'), '--out', 'model', '--config', 'tiny.json',
    '--steps', '20', '--batch-size', '8', '--seq-len', '32', '--lr', '1e-2', '--threads', '1']);
  if (r.code !== 0) throw new Error(`pretrain failed: ${r.stderr}`);
  const e = run(['export', '--model', 'model', '--out', 'export', '--samples', '4', '--threads', '1']);
  if (e.code !== 0) throw new Error(`export failed: ${e.stderr}`);
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('compactlm infer', () => {
  test(`the card's \`compactlm infer "text"\`: the default model (${DEFAULT_MODEL_NAME}), or one line on how to get a model`, () => {
    const r = run(['infer', 'The capital of France is [MASK].']);
    if (installedDefaultModel()) {
      // the default model is installed: the fill-mask table, as with --model
      expect(r.stderr).not.toMatch(/error/i);
      expect(r.code).toBe(0);
      const lines = r.stdout.trimEnd().split('\n');
      expect(lines[0]).toMatch(/^\[MASK\] 1 of 1 \(token position \d+\)$/);
      expect(lines[1]).toMatch(/rank\s+token\s+token_id\s+score/);
      expect(lines).toHaveLength(2 + 5);
    } else {
      expect(r.code).not.toBe(0);
      expect(r.stdout).toBe('');
      expect(r.stderr).toBe(`compactlm: error: no model: ${DEFAULT_MODEL_NAME} is not installed; pass --model <dir> ` +
        '(a folder from `compactlm pretrain`, `distill` or `export`)\n');
    }
  });

  test('--json: one object with the predictions of every [MASK], probabilities in descending order', () => {
    const text = 'The President spoke to the [MASK] of the United [MASK].';
    const r = run(['infer', text, '--model', 'model', '--json']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.text).toBe(text);
    expect(out.tokens[0]).toBe('[CLS]');
    expect(out.tokens[out.tokens.length - 1]).toBe('[SEP]');
    expect(out.masks).toHaveLength(2);
    for (const m of out.masks) {
      expect(out.tokens[m.position]).toBe('[MASK]');
      expect(m.predictions).toHaveLength(5);
      let prev = 1;
      for (const p of m.predictions) {
        expect(Object.keys(p)).toEqual(['token', 'token_id', 'score']);
        expect(p.score).toBeLessThanOrEqual(prev);
        expect(p.score).toBeGreaterThan(0);
        prev = p.score;
      }
      const total = m.predictions.reduce((s: number, p: { score: number }) => s + p.score, 0);
      expect(total).toBeLessThan(1);
    }
    // After a little training on prose, the most frequent words lead.
    expect(out.masks[0].predictions.map((p: { token: string }) => p.token)).toEqual(expect.arrayContaining(['the']));
  });

  test('the default output is a table; --top-k changes the count', () => {
    const r = run(['infer', 'I went to the [MASK].', '--model', 'model', '--top-k', '3']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^\[MASK\] 1 of 1 \(token position 5\)$/);
    expect(lines[1]).toMatch(/rank\s+token\s+token_id\s+score/);
    expect(lines).toHaveLength(2 + 3);
    expect(lines[2]).toMatch(/^\s+1\s+\S+\s+\d+\s+0\.\d{6}$/);
  });

  test.each([
    [['infer', 'no mask here', '--model', 'model'], /^compactlm: error: the text has no \[MASK\] token/],
    [['infer', 'a [MASK]', '--model', 'nowhere'], /^compactlm: error: nowhere: model folder not found/],
    [['infer', 'a [MASK]', '--model', 'model', '--top-k', '0'], /^compactlm: error: option '--top-k <k>' argument '0' is invalid\. 0 is outside/],
    [['infer', 'a [MASK]', '--model', 'model', '--input', 'x.txt'], /^compactlm: error: give either a text argument or --input <file>, not both$/],
  ])('%j → one-line error', (args, message) => {
    const r = run(args);
    expect(r.code).not.toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr.trim()).toMatch(message);
  });
});

interface Pred { token: string; token_id: number; score: number }
interface FillMaskOut { text: string; tokens: string[]; masks: Array<{ position: number; predictions: Pred[] }> }

function jsonl(stdout: string): unknown[] {
  return stdout.trimEnd().split('\n').map((l) => JSON.parse(l));
}

function expectSame(a: FillMaskOut, b: FillMaskOut, tol: number): void {
  expect(a.text).toBe(b.text);
  expect(a.tokens).toEqual(b.tokens);
  a.masks.forEach((m, j) => {
    expect(m.predictions.map((p) => p.token)).toEqual(b.masks[j].predictions.map((p) => p.token));
    m.predictions.forEach((p, k) => expect(Math.abs(p.score - b.masks[j].predictions[k].score)).toBeLessThanOrEqual(tol));
  });
}

const TEXTS = ['The President spoke to the [MASK].', 'We [MASK] the people of the United States, in order to form a more perfect union.', 'a [MASK] b'];

describe('compactlm infer: many texts', () => {
  test('--input with plain and JSONL lines (blank skipped) → JSONL in order, equal to one-text --json runs (1e-5)', () => {
    const single = TEXTS.map((t) => JSON.parse(run(['infer', t, '--model', 'model', '--json', '--threads', '1']).stdout) as FillMaskOut);
    writeFileSync(join(dir, 'texts.txt'), `${TEXTS[0]}\n\n${JSON.stringify({ text: TEXTS[1], id: 2 })}\r\n${TEXTS[2]}\n`);
    const r = run(['infer', '--input', 'texts.txt', '--model', 'model', '--batch-size', '2', '--threads', '1']);
    expect(r.code).toBe(0);
    const out = jsonl(r.stdout) as FillMaskOut[];
    expect(out).toHaveLength(3);
    out.forEach((o, i) => expectSame(o, single[i], 1e-5));
  });

  test('stdin without a text argument: same JSONL as --input', () => {
    const input = TEXTS.join('\n');
    writeFileSync(join(dir, 'same.txt'), input);
    const piped = run(['infer', '--model', 'model', '--threads', '1'], input);
    expect(piped.code).toBe(0);
    expect(piped.stdout).toBe(run(['infer', '--input', 'same.txt', '--model', 'model', '--threads', '1']).stdout);
  });

  test('export folder: fp32 agrees with the model folder (same tokens, 1e-4); --int8 runs one text per run', () => {
    writeFileSync(join(dir, 'e.txt'), TEXTS.join('\n'));
    const model = jsonl(run(['infer', '--input', 'e.txt', '--model', 'model']).stdout) as FillMaskOut[];
    const fp32 = run(['infer', '--input', 'e.txt', '--model', 'export']);
    expect(fp32.code).toBe(0);
    (jsonl(fp32.stdout) as FillMaskOut[]).forEach((o, i) => expectSame(o, model[i], 1e-4));
    const int8 = run(['infer', '--input', 'e.txt', '--model', 'export', '--int8', '--top-k', '3']);
    expect(int8.code).toBe(0);
    const q = jsonl(int8.stdout) as FillMaskOut[];
    expect(q.map((o) => o.text)).toEqual(TEXTS);
    const one = JSON.parse(run(['infer', TEXTS[1], '--model', 'export', '--int8', '--top-k', '3', '--json']).stdout) as FillMaskOut;
    expectSame(q[1], one, 0);
  });

  test('--task embed: {text, embedding, dim} for one text and JSONL for many, batch = single', () => {
    const one = run(['infer', TEXTS[0], '--model', 'model', '--task', 'embed']);
    expect(one.code).toBe(0);
    const e = JSON.parse(one.stdout);
    expect(Object.keys(e)).toEqual(['text', 'embedding', 'dim']);
    expect(e.dim).toBe(32);
    expect(e.embedding).toHaveLength(32);
    const many = run(['infer', '--model', 'model', '--task', 'embed'], TEXTS.join('\n'));
    expect(many.code).toBe(0);
    const es = jsonl(many.stdout) as Array<{ embedding: number[] }>;
    expect(es).toHaveLength(3);
    es[0].embedding.forEach((v, h) => expect(Math.abs(v - e.embedding[h])).toBeLessThan(1e-5));
  });

  test('a text over 512 tokens: a warning naming the line, the result still written', () => {
    writeFileSync(join(dir, 'long.txt'), `short [MASK]\n[MASK] ${'word '.repeat(600)}\n`);
    const r = run(['infer', '--input', 'long.txt', '--model', 'model', '--top-k', '1']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/long\.txt:2: the text is longer than 512 tokens/);
    expect((jsonl(r.stdout) as FillMaskOut[])[1].tokens).toHaveLength(512);
  });

  test.each([
    ['bad.jsonl', 'a [MASK]\n{"text": "b [MASK]"\n', [], /^compactlm: error: bad\.jsonl:2: not valid JSON/],
    ['nomask.txt', 'a [MASK]\n\nno mask here\n', [], /^compactlm: error: nomask\.txt:3: the text has no \[MASK\] token/],
    ['ok.txt', 'a [MASK]\n', ['--int8'], /^compactlm: error: --int8 needs an export folder .*model is a model folder/],
  ])('%s → one-line error naming the line', (file, content, extra, message) => {
    writeFileSync(join(dir, file), content);
    const r = run(['infer', '--input', file, '--model', 'model', ...(extra as string[])]);
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr.trim()).toMatch(message);
  });

  test('a text argument and --input together, or a missing --input file: one-line errors', () => {
    const both = run(['infer', 'a [MASK]', '--input', 'ok.txt', '--model', 'model']);
    expect(both.stderr.trim()).toMatch(/^compactlm: error: give either a text argument or --input <file>, not both$/);
    const missing = run(['infer', '--input', 'missing.txt', '--model', 'model']);
    expect(missing.stderr.trim()).toMatch(/^compactlm: error: missing\.txt: file not found$/);
    expect(missing.code).not.toBe(0);
  });
});
