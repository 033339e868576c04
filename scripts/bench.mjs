#!/usr/bin/env node
// `npm run bench [-- name ... [--flag value ...]]`: runs bench/<name>.mjs (all of them by default) one after another; each prints
// JSON lines on stdout ({"bench": ..., numbers}). Set BENCH_OUT=file to also append them to a file.
import { readdirSync, appendFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { MALLOC_ENV } from '../bench/lib/malloc-env.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// Arguments from the first --flag on go to every bench run (e.g. `npm run bench -- serve --burst-s 10`).
const args = process.argv.slice(2);
const firstFlag = args.findIndex((a) => a.startsWith('--'));
const wanted = firstFlag < 0 ? args : args.slice(0, firstFlag);
const passed = firstFlag < 0 ? [] : args.slice(firstFlag);
const all = readdirSync(join(root, 'bench')).filter((f) => f.endsWith('.mjs')).map((f) => f.slice(0, -4)).sort();
const names = wanted.length ? wanted : all;
let failed = 0;
for (const name of names) {
  if (!all.includes(name)) {
    console.error(`bench: no bench/${name}.mjs (have: ${all.join(', ')})`);
    process.exit(2);
  }
  const env = { ...process.env, ...MALLOC_ENV };
  const r = spawnSync(process.execPath, [join(root, 'bench', `${name}.mjs`), ...passed], { cwd: root, env, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
  process.stdout.write(r.stdout ?? '');
  if (process.env.BENCH_OUT && r.stdout) appendFileSync(process.env.BENCH_OUT, r.stdout);
  if (r.status !== 0) {
    failed++;
    console.error(`bench: ${name} exited with ${r.status}`);
  }
}
process.exit(failed ? 1 : 0);
