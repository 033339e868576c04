#!/usr/bin/env node
// Extractive summarization (issue "Summaries and a customer-service chatbot"), through the real CLI and library:
//
//   rouge     `compactlm eval --task summarize` with models/compactlm-mini on the shared samples: CNN/DailyMail
//             (3-sentence summaries) and XSum (1 sentence; abstractive references, so every extractive method
//             scores low), centroid next to lead, Porter-stemmed, × 100, with 95% bootstrap intervals; for
//             CNN/DM also the greedy ROUGE oracle (3 sentences: the ceiling of any sentence picker) and the
//             published full-test-set numbers. The papers' "ROUGE-L" is summary-level: compare it with rougeLsum.
//   int8      centroid on CNN/DM with the int8 export of compactlm-mini (exported to a temporary folder)
//   latency   summarizing the CNN/DM article closest to 600 words (3 sentences, centroid), p50/p95 over
//             BENCH_RUNS runs with BENCH_THREADS threads: the model folder (fp32), its export fp32 and int8;
//             lead (no model) for scale
//
//   npm run bench -- summarize      env: BENCH_SUMMARIZE=rouge,int8,latency  BENCH_THREADS=2  BENCH_RUNS=20
// Reads ../shared/data/summarization (skipped with a line where it is absent). Prints one JSON line per result
// ({"bench":"summarize",...}); work files under runs/bench/summarize/ (git-ignored).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';

const root = fileURLToPath(new URL('..', import.meta.url));
const cli = join(root, 'dist/cli/main.js');
const work = join(root, 'runs/bench/summarize');
const model = 'models/compactlm-mini';
const threads = Number(process.env.BENCH_THREADS ?? 2);
const runs = Number(process.env.BENCH_RUNS ?? 20);
const parts = (process.env.BENCH_SUMMARIZE ?? 'rouge,int8,latency').split(',');
const data = join(root, '..', 'shared', 'data', 'summarization');
const datasets = [
  { name: 'cnndm', file: join(data, 'frank-cnndm', 'test.csv'), sentences: 3 },
  { name: 'xsum', file: join(data, 'frank-xsum', 'test.csv'), sentences: 1 },
];
// Full CNN/DM test set (11,490 articles), ROUGE-1.5.5 F1 × 100; "rougeL" there is summary-level (our rougeLsum).
const PUBLISHED = {
  lead3: { rouge1: 40.34, rouge2: 17.70, rougeL: 36.57, source: 'See et al. 2017' },
  bertsumext: { rouge1: 43.23, rouge2: 20.24, rougeL: 39.63, source: 'Liu & Lapata 2019 (PreSumm README)' },
};

const out = (o) => console.log(JSON.stringify({ bench: 'summarize', ...o }));
const env = { ...process.env, CI: '1' };
function compactlm(args) {
  const r = spawnSync(process.execPath, [cli, ...args.map(String)], { cwd: root, encoding: 'utf8', env, maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`compactlm ${args.join(' ')} failed (${r.status}): ${r.stderr.trim().split('\n').pop()}`);
  return r.stdout;
}
const points = (rouge) => Object.fromEntries(Object.entries(rouge).map(([m, s]) => [m, Object.fromEntries(Object.entries(s).map(([t, v]) =>
  [t, { f1: +(100 * v.f1).toFixed(2), ci95: v.f1_ci95.map((x) => +(100 * x).toFixed(2)) }]))]));
const evalArgs = (d, modelDir, extra = []) => ['eval', '--task', 'summarize', '--model', modelDir, '--test', d.file, '--text-column', 'article',
  '--reference-column', 'summary', '--stem', '--sentences', d.sentences, '--seed', 42, '--json', ...extra];

const present = datasets.filter((d) => existsSync(d.file));
if (present.length === 0) {
  console.error(`bench summarize: ${data} is absent: skipped (the shared CNN/DailyMail and XSum samples are read from there)`);
  out({ skipped: `${data} is absent` });
  process.exit(0);
}
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });
const exportDir = join(work, 'mini-export');
const needExport = parts.includes('int8') || parts.includes('latency');
if (needExport) compactlm(['export', '--model', model, '--out', exportDir, '--samples', 32, '--threads', threads]);

if (parts.includes('rouge')) {
  const { greedyOracle } = await import('../dist/summarize/oracle.js');
  const { splitSentences } = await import('../dist/summarize/sentences.js');
  const { rougeScores } = await import('../dist/summarize/rouge.js');
  for (const d of present) {
    const started = performance.now();
    const r = JSON.parse(compactlm(evalArgs(d, model)));
    const line = { part: 'rouge', dataset: d.name, file: d.file, n: r.n, sentences: d.sentences, stem: true, model, unit: 'F1 x 100',
      ...points(r.rouge), summary_words: r.lengths.summary_words, seconds: +((performance.now() - started) / 1000).toFixed(1) };
    if (d.name === 'cnndm') {
      // the greedy ROUGE oracle (BertSumExt's labels): what a perfect 3-sentence picker could reach here
      const rows = parse(readFileSync(d.file), { columns: true });
      const acc = { rouge1: 0, rouge2: 0, rougeL: 0, rougeLsum: 0 };
      for (const row of rows) {
        const sents = splitSentences(row.article);
        const pick = greedyOracle(sents.map((s) => s.text), row.summary, { stem: true, maxSentences: d.sentences });
        const s = rougeScores(row.summary, pick.map((i) => sents[i].text).join('\n'), { stem: true });
        for (const t of Object.keys(acc)) acc[t] += s[t].f1 / rows.length;
      }
      line.oracle = Object.fromEntries(Object.entries(acc).map(([t, v]) => [t, { f1: +(100 * v).toFixed(2) }]));
      line.published_full_test_set = PUBLISHED;
      line.note = 'published ROUGE-L is summary-level (ROUGE-1.5.5 on sentence-split summaries): compare with rougeLsum';
    }
    out(line);
  }
}

if (parts.includes('int8')) {
  const d = present.find((x) => x.name === 'cnndm') ?? present[0];
  const started = performance.now();
  const r = JSON.parse(compactlm(evalArgs(d, exportDir, ['--int8', '--method', 'centroid'])));
  out({ part: 'int8', dataset: d.name, n: r.n, sentences: d.sentences, model: `${model} export, onnx/model_quantized.onnx`, unit: 'F1 x 100',
    centroid: points(r.rouge).centroid, seconds: +((performance.now() - started) / 1000).toFixed(1) });
}

if (parts.includes('latency')) {
  const { loadSummarizer } = await import('../dist/summarize/summarizer.js');
  const file = (present.find((x) => x.name === 'cnndm') ?? present[0]).file;
  const rows = parse(readFileSync(file), { columns: true });
  const words = (t) => t.split(/\s+/).filter(Boolean).length;
  const article = rows.map((r) => r.article).sort((a, b) => Math.abs(words(a) - 600) - Math.abs(words(b) - 600))[0];
  const runners = [
    { name: 'model folder fp32', method: 'centroid', s: await loadSummarizer(model, { threads }) },
    { name: 'export fp32', method: 'centroid', s: await loadSummarizer(exportDir, { threads }) },
    { name: 'export int8', method: 'centroid', s: await loadSummarizer(exportDir, { threads, int8: true }) },
    { name: 'lead (no model)', method: 'lead', s: await loadSummarizer(model, { threads }) },
  ];
  const ms = runners.map(() => []);
  let sentences = 0;
  for (const r of runners) for (let i = 0; i < 3; i++) sentences = (await r.s.summarize(article, { method: r.method, sentences: 3 })).num_sentences;
  for (let i = 0; i < runs; i++) {
    for (let k = 0; k < runners.length; k++) {
      const j = (i + k) % runners.length; // rotate the order: load drift on a shared machine hits every runner alike
      const t = performance.now();
      await runners[j].s.summarize(article, { method: runners[j].method, sentences: 3 });
      ms[j].push(performance.now() - t);
    }
  }
  const pct = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return +s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)].toFixed(1); };
  const res = runners.map((r, j) => ({ runner: r.name, p50_ms: pct(ms[j], 0.5), p95_ms: pct(ms[j], 0.95) }));
  out({ part: 'latency', article_words: words(article), article_sentences: sentences, summary_sentences: 3, threads, runs, results: res,
    int8_over_fp32_export: +(res[2].p50_ms / res[1].p50_ms).toFixed(3) });
  for (const r of runners) await r.s.close();
}
