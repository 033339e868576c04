/**
 * `compactlm pretrain --init <model folder>`: training continues from that folder's config and weights (here the
 * shipped compactlm-tiny) instead of a random init; with a vanishing learning rate the result equals the start.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readSafetensors } from '../../src/model/safetensors.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const cli = join(root, 'dist/cli/main.js');
const fixture = join(root, 'test/fixtures/pretrain-small.csv');
const model = join(root, 'models/compactlm-tiny');
const env = { ...process.env, CI: '1' };

let dir: string;
beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'pretrain-init-')); });
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const run = (args: string[]) => spawnSync(process.execPath, [cli, ...args], { cwd: dir, encoding: 'utf8', env });

test('starts from the folder\'s weights and config', async () => {
  const r = run(['pretrain', '--train', fixture, '--init', model, '--out', 'more', '--steps', '1', '--batch-size', '2', '--seq-len', '32',
    '--lr', '1e-12', '--warmup', '0', '--dropout', '0', '--threads', '1', '--json']);
  expect(r.stderr).not.toMatch(/error/);
  expect(r.status).toBe(0);
  const config = JSON.parse(readFileSync(join(dir, 'more', 'config.json'), 'utf8'));
  const shipped = JSON.parse(readFileSync(join(model, 'config.json'), 'utf8'));
  expect([config.hidden_size, config.num_hidden_layers]).toEqual([shipped.hidden_size, shipped.num_hidden_layers]);
  const [after, before] = [await readSafetensors(join(dir, 'more', 'model.safetensors')), await readSafetensors(join(model, 'model.safetensors'))];
  for (const [name, t] of before.tensors) {
    const a = after.tensors.get(name)!.data;
    let worst = 0;
    for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - t.data[i]));
    expect([name, worst < 1e-6]).toEqual([name, true]);
  }
}, 120_000);

test('--init with --preset, or a folder that is not a model, is one line and exit 2', () => {
  const both = run(['pretrain', '--train', fixture, '--init', model, '--preset', 'tiny', '--out', 'x']);
  expect(both.status).toBe(2);
  expect(both.stderr.trim().split('\n')).toHaveLength(1);
  const none = run(['pretrain', '--train', fixture, '--init', dir, '--out', 'y']);
  expect(none.status).toBe(2);
  expect(none.stderr).toMatch(/--init .*: not a model folder \(no config\.json\)/);
});
