// `compactlm infer` fill-mask on one 128-token text, as a user runs it, against the transformers.js fill-mask
// pipeline on the export of the same model, in the same run. CompactLM on a model folder projects onto the
// vocabulary only at the [MASK] rows (`masked_logits`); on an export folder it runs the export's fill-mask task
// graphs (onnx/fill_mask*.onnx, the same), fp32 and int8, where transformers.js runs onnx/model*.onnx, which has
// the logits of every position.
// Prints {"bench":"fill-mask","who","precision","p50_ms","p95_ms"} lines and the ratios against transformers.js.
// Then batched throughput: 256 texts of 25–55 words (~40 tokens), one [MASK] each, as `compactlm infer --input`
// runs them (sorted by length within windows, batches of 32 padded to their longest) against the transformers.js
// pipeline given the same texts in batches of 32 in input order, and given all 256 at once
// ({"bench":"fill-mask-batch","who","texts_per_s"}; the median of 3 passes).
// Usage: npm run build && node bench/fill-mask.mjs [model=models/compactlm-mini] [runs=30]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, loadavg } from 'node:os';
import { join, parse, relative } from 'node:path';

const { FillMask } = await import('../dist/infer/fill-mask.js');
const { hasFillMaskGraph } = await import('../dist/infer/encoder-model.js');
const { exportModel } = await import('../dist/export/export-folder.js');
const { inferBatches } = await import('../dist/infer/batches.js');
const { Rng } = await import('../dist/util/rng.js');
const { pipeline, env } = await import('@xenova/transformers');

const model = process.argv[2] ?? 'models/compactlm-mini';
const RUNS = Number(process.argv[3] ?? 30);
const root = mkdtempSync(join(tmpdir(), 'compactlm-fill-mask-bench-'));
const exportDir = join(root, 'export');

// 128 tokens with [CLS], [SEP] and one [MASK] (checked below).
const words = 'the committee said on monday that the new rules would take effect next year after a long review of the market'.split(' ');
let text = '';
for (let i = 0; text.split(' ').length < 125; i++) text += `${words[i % words.length]} `;
text = `${text.trim()} [MASK].`;

// The batch: fixed by the seed.
const rng = new Rng(11);
const batchTexts = Array.from({ length: 256 }, () => {
  const n = 25 + Math.floor(rng.next() * 31);
  const start = Math.floor(rng.next() * words.length);
  const ws = Array.from({ length: n }, (_, i) => words[(start + i) % words.length]);
  ws[Math.floor(rng.next() * n)] = '[MASK]';
  return ws.join(' ');
});
async function* asInputs(texts) {
  for (let i = 0; i < texts.length; i++) yield { line: i + 1, text: texts[i] };
}
const BATCH = 32;

/** texts/s of fn over the whole batch: the median of 3 passes after one warm-up pass. */
async function throughput(fn) {
  await fn();
  const rates = [];
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    await fn();
    rates.push(batchTexts.length / ((performance.now() - t0) / 1000));
  }
  return +rates.sort((a, b) => a - b)[1].toFixed(1);
}

const pct = (ms) => {
  const s = [...ms].sort((a, b) => a - b);
  const at = (p) => s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)];
  return { p50_ms: +at(0.5).toFixed(2), p95_ms: +at(0.95).toFixed(2) };
};

async function time(fn) {
  for (let i = 0; i < 3; i++) await fn(); // warm-up
  const ms = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    await fn();
    ms.push(performance.now() - t0);
  }
  return pct(ms);
}

try {
  await exportModel({ modelDir: model, outDir: exportDir, samples: 8 });
  const results = [];
  const emit = (r) => {
    results.push(r);
    console.log(JSON.stringify({ bench: 'fill-mask', model, runs: RUNS, load1: +loadavg()[0].toFixed(2), ...r }));
  };

  const folder = await FillMask.load(model, { threads: 2 });
  const ids = folder.tokenizer.encode(text).input_ids;
  if (ids.length !== 128) throw new Error(`bench text has ${ids.length} tokens, not 128`);
  emit({ who: 'compactlm', source: 'model folder (masked rows only)', precision: 'fp32', tokens: ids.length, ...(await time(() => folder.predict(text, 5))) });
  const batchRuns = [];
  const emitBatch = (r) => {
    batchRuns.push(r);
    console.log(JSON.stringify({ bench: 'fill-mask-batch', model, texts: batchTexts.length, load1: +loadavg()[0].toFixed(2), ...r }));
  };
  const meanTokens = batchTexts.reduce((n, t) => n + folder.tokenizer.encode(t).input_ids.length, 0) / batchTexts.length;
  emitBatch({ who: 'compactlm', source: 'model folder (masked rows only)', precision: 'fp32', batch: BATCH, mean_tokens: +meanTokens.toFixed(1),
    texts_per_s: await throughput(async () => {
      for await (const _ of inferBatches(folder.task(5), asInputs(batchTexts), 'bench', { batchSize: BATCH }));
    }) });
  await folder.close();
  for (const int8 of [false, true]) {
    const fm = await FillMask.load(exportDir, { threads: 2, int8 });
    const source = hasFillMaskGraph(exportDir, int8) ? 'export (fill-mask task graph)' : 'export (all positions)';
    emit({ who: 'compactlm', source, precision: int8 ? 'int8' : 'fp32', ...(await time(() => fm.predict(text, 5))) });
    await fm.close();
  }

  env.allowRemoteModels = false;
  env.localModelPath = parse(exportDir).root;
  for (const quantized of [false, true]) {
    const unmasker = await pipeline('fill-mask', relative(parse(exportDir).root, exportDir), { quantized });
    emit({ who: 'transformers.js 2.17.2', source: 'export (all positions)', precision: quantized ? 'int8' : 'fp32', ...(await time(() => unmasker(text, { topk: 5 }))) });
    if (!quantized) {
      emitBatch({ who: 'transformers.js 2.17.2', source: 'export (all positions)', precision: 'fp32', batch: BATCH,
        texts_per_s: await throughput(async () => {
          for (let i = 0; i < batchTexts.length; i += BATCH) await unmasker(batchTexts.slice(i, i + BATCH), { topk: 5 });
        }) });
      emitBatch({ who: 'transformers.js 2.17.2', source: 'export (all positions)', precision: 'fp32', batch: batchTexts.length,
        texts_per_s: await throughput(() => unmasker(batchTexts, { topk: 5 })) });
    }
    await unmasker.dispose();
  }

  const peer = (precision) => results.find((r) => r.who.startsWith('transformers.js') && r.precision === precision).p50_ms;
  const ours = (source, precision) => results.find((r) => r.who === 'compactlm' && r.source.startsWith(source) && r.precision === precision).p50_ms;
  console.log(JSON.stringify({
    bench: 'fill-mask', summary: true,
    folder_fp32_vs_transformers_js_fp32: +(ours('model folder', 'fp32') / peer('fp32')).toFixed(3),
    export_fp32_vs_transformers_js_fp32: +(ours('export', 'fp32') / peer('fp32')).toFixed(3),
    export_int8_vs_transformers_js_int8: +(ours('export', 'int8') / peer('int8')).toFixed(3),
    export_int8_vs_export_fp32: +(ours('export', 'int8') / ours('export', 'fp32')).toFixed(3),
    batch_texts_per_s_vs_best_transformers_js: +(batchRuns[0].texts_per_s / Math.max(...batchRuns.slice(1).map((r) => r.texts_per_s))).toFixed(3),
    goal: 'fill-mask p50 <= 0.3x the transformers.js pipeline; int8 <= 0.5x fp32; batched texts/s >= 2x transformers.js',
  }));
} finally {
  rmSync(root, { recursive: true, force: true });
}
