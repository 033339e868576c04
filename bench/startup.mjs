// Start-up: `compactlm infer "Paris is the [MASK] of France."` end to end (process start to answer, as a user types
// it; default model models/compactlm-mini, its graph cached after the first run), against the same answer from the
// Hugging Face `fill-mask` pipeline in a fresh Python process on the same folder (the peer Python of
// bench/lib/peer-python.mjs: COMPACTLM_PYTHON, .venv-ref/, or .venv-bench/ made on first use; skipped with a line
// where pip cannot install torch and transformers). Also `compactlm --version` (the floor: Node plus the CLI's entry).
// Prints {"bench":"startup","who","p50_s","min_s","peak_rss_mb"} lines and the ratio. Usage: npm run build && node bench/startup.mjs [runs=5]
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { peerPython } from './lib/peer-python.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const RUNS = Number(process.argv[2] ?? 5);
const TEXT = 'Paris is the [MASK] of France.';
const MODEL = join(root, 'models/compactlm-mini');

/** Wall time and peak RSS of one run of a command, via GNU time when it is there. */
function once(cmd, args) {
  const time = existsSync('/usr/bin/time');
  const t0 = performance.now();
  const r = time
    ? spawnSync('/usr/bin/time', ['-f', '%M', cmd, ...args], { cwd: root, encoding: 'utf8' })
    : spawnSync(cmd, args, { cwd: root, encoding: 'utf8' });
  const s = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.status}: ${r.stderr.slice(-500)}`);
  const kb = time ? Number(r.stderr.trim().split('\n').pop()) : NaN;
  return { s, rss_mb: kb / 1024, stdout: r.stdout };
}

function measure(who, cmd, args) {
  once(cmd, args); // warm: file cache, the graph cache
  const runs = Array.from({ length: RUNS }, () => once(cmd, args));
  const s = runs.map((r) => r.s).sort((a, b) => a - b);
  const row = {
    bench: 'startup', who, runs: RUNS, load1: +loadavg()[0].toFixed(2),
    p50_s: +s[Math.floor((s.length - 1) / 2)].toFixed(3), min_s: +s[0].toFixed(3),
    peak_rss_mb: +Math.max(...runs.map((r) => r.rss_mb)).toFixed(0),
  };
  console.log(JSON.stringify(row));
  return row;
}

const cli = join(root, 'bin/compactlm');
measure('compactlm --version', cli, ['--version']);
const ours = measure('compactlm infer (fill-mask, compactlm-mini)', cli, ['infer', TEXT]);

const peerScript = `
import sys
from transformers import pipeline
p = pipeline("fill-mask", model=sys.argv[1], device="cpu")
print(p(sys.argv[2], top_k=5)[0]["token_str"])
`;
const { python, skipped } = peerPython({ need: ['torch', 'transformers'] });
if (!python) {
  console.log(JSON.stringify({ bench: 'startup', who: 'transformers pipeline (PyTorch)', skipped }));
} else {
  const peer = measure('transformers pipeline (PyTorch, same folder)', python, ['-c', peerScript, MODEL, TEXT]);
  console.log(JSON.stringify({ bench: 'startup', summary: true, infer_vs_pytorch_pipeline: +(ours.p50_s / peer.p50_s).toFixed(3), goal: 'compactlm infer "text" <= 0.6 s end to end' }));
}
