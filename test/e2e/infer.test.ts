/**
 * `compactlm infer` through the built CLI on a model folder that `compactlm pretrain` just wrote: the table, the
 * --json object (documented in src/cli/infer.ts), top-k, and one-line errors. (npm test builds dist/ first.)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const cli = join(root, 'dist/cli/main.js');

function run(args: string[]) {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd: dir, encoding: 'utf8', env: { ...process.env, CI: '1' } });
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
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('compactlm infer', () => {
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
    [['infer', 'a [MASK]', '--model', 'model', '--top-k', '0'], /--top-k.*0 is outside/],
    [['infer', 'a [MASK]'], /required option '--model <dir>' not specified/],
  ])('%j → one-line error', (args, message) => {
    const r = run(args);
    expect(r.code).not.toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr.trim()).toMatch(message);
  });
});
