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
//   trained   `finetune --task extractive` (BertSumExt with a Linear classifier) from compactlm-mini on CNN/DM rows
//             1–150 (training) and 151–175 (validation: the best checkpoint by ROUGE-1 + ROUGE-2), timed; then
//             `eval --task summarize` of trained, lead and centroid on the disjoint rows 176–250 (row = data row
//             of test.csv in file order), with the greedy oracle on those rows. BENCH_EXT_EPOCHS (5), BENCH_EXT_LR
//             (1e-4), batch 8, --max-length 512.
//
//   npm run bench -- summarize      env: BENCH_SUMMARIZE=rouge,int8,latency,trained  BENCH_THREADS=2  BENCH_RUNS=20
// Reads ../shared/data/summarization (skipped with a line where it is absent). Prints one JSON line per result
// ({"bench":"summarize",...}); work files under runs/bench/summarize/ (git-ignored).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';

const root = fileURLToPath(new URL('..', import.meta.url));
const cli = join(root, 'dist/cli/main.js');
const work = join(root, 'runs/bench/summarize');
const model = 'models/compactlm-mini';
const threads = Number(process.env.BENCH_THREADS ?? 2);
const runs = Number(process.env.BENCH_RUNS ?? 20);
const parts = (process.env.BENCH_SUMMARIZE ?? 'rouge,int8,latency,trained').split(',');
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

if (parts.includes('trained')) {
  const d = present.find((x) => x.name === 'cnndm');
  if (!d) {
    console.error('bench summarize: trained needs the CNN/DailyMail sample: skipped');
    out({ part: 'trained', skipped: `${datasets[0].file} is absent` });
  } else {
    const rows = parse(readFileSync(d.file), { columns: true });
    const split = { train: [0, 150], val: [150, 175], test: [175, 250] };
    const files = {};
    for (const [name, [from, to]] of Object.entries(split)) {
      files[name] = join(work, `cnndm-${name}.csv`);
      writeFileSync(files[name], stringify(rows.slice(from, to), { header: true, columns: ['id', 'article', 'summary'] }));
    }
    const extDir = join(work, 'mini-extractive');
    const epochs = Number(process.env.BENCH_EXT_EPOCHS ?? 5);
    const lr = Number(process.env.BENCH_EXT_LR ?? 1e-4);
    let started = performance.now();
    const fit = JSON.parse(compactlm(['finetune', '--task', 'extractive', '--model', model, '--train', files.train, '--val', files.val,
      '--text-column', 'article', '--summary-column', 'summary', '--out', extDir, '--epochs', epochs, '--batch-size', 8, '--max-length', 512,
      '--lr', lr, '--threads', threads, '--seed', 42, '--json']).trim().split('\n').pop());
    const trainSeconds = (performance.now() - started) / 1000;
    const test = { ...d, file: files.test };
    started = performance.now();
    const trained = JSON.parse(compactlm(evalArgs(test, extDir, ['--method', 'trained'])));
    const evalSeconds = (performance.now() - started) / 1000;
    const centroid = JSON.parse(compactlm(evalArgs(test, model, ['--method', 'centroid'])));
    const { greedyOracle } = await import('../dist/summarize/oracle.js');
    const { splitSentences } = await import('../dist/summarize/sentences.js');
    const { rougeScores } = await import('../dist/summarize/rouge.js');
    const testRows = rows.slice(...split.test);
    const oracle = { rouge1: 0, rouge2: 0, rougeL: 0, rougeLsum: 0 };
    for (const row of testRows) {
      const sents = splitSentences(row.article);
      const pick = greedyOracle(sents.map((x) => x.text), row.summary, { stem: true, maxSentences: 3 });
      const sc = rougeScores(row.summary, pick.map((i) => sents[i].text).join('\n'), { stem: true });
      for (const t of Object.keys(oracle)) oracle[t] += sc[t].f1 / testRows.length;
    }
    const r = { ...points(trained.rouge), centroid: points(centroid.rouge).centroid };
    out({ part: 'trained', dataset: 'cnndm', file: d.file, rows: { train: '1-150', val: '151-175', test: '176-250' }, n: trained.n, sentences: 3, stem: true,
      model: `${model} + finetune --task extractive`, unit: 'F1 x 100',
      training: { epochs, lr, batch_size: 8, max_length: 512, threads, steps: fit.steps, best_step: fit.best_step, seconds: +trainSeconds.toFixed(1),
        val_rouge1: +(100 * fit.val_rouge1).toFixed(2), val_rouge2: +(100 * fit.val_rouge2).toFixed(2), truncated_documents: fit.truncated, positive_rate: +fit.positive_rate.toFixed(4) },
      ...r, oracle: Object.fromEntries(Object.entries(oracle).map(([t, v]) => [t, { f1: +(100 * v).toFixed(2) }])),
      summary_words: { ...trained.lengths.summary_words, centroid: centroid.lengths.summary_words.centroid },
      goal_trained_rouge1_ge_lead: r.trained.rouge1.f1 >= r.lead.rouge1.f1, eval_seconds_trained: +evalSeconds.toFixed(1) });
  }
}
