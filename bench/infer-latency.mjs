// Inference latency of an exported model, fp32 vs int8, through onnxruntime-node 1.30 directly and through
// @xenova/transformers 2.17.2 (its own onnxruntime-node 1.14) on the SAME files: one 128-token text (batch 1) and
// 32 such texts (batch 32). Mini preset, random-init weights (latency does not depend on the values).
// Prints {"bench":"infer","runtime":"ort|transformers.js","precision":"fp32|int8","batch":1|32,"p50_ms","p95_ms"},
// the int8/fp32 ratios, and ORT profiler time per op type for int8 (shows the fused DynamicQuantizeMatMul).
// Usage: npx tsc -p tsconfig.json && node bench/infer-latency.mjs [preset=mini] [runs=20]
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, parse, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MALLOC_ENV } from './lib/malloc-env.mjs';

// Big output buffers are re-mapped on every run without these (see bin/compactlm); they must be set at start-up.
if (!process.env.MALLOC_MMAP_THRESHOLD_) {
  const env = { ...process.env, ...MALLOC_ENV };
  const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], { env, stdio: 'inherit' });
  process.exit(r.status ?? 1);
}

const ort = (await import('onnxruntime-node')).default;
const { AutoModelForMaskedLM, Tensor, env } = await import('@xenova/transformers');
const { makeConfig } = await import('../dist/model/config.js');
const { initParams } = await import('../dist/model/bert.js');
const { saveModelFolder } = await import('../dist/model/checkpoint-folder.js');
const { writeTokenizerFiles } = await import('../dist/tokenizer/tokenizer-json.js');
const { loadTokenizer } = await import('../dist/tokenizer/tokenizer.js');
const { exportModel, ONNX_MODEL_FILE, ONNX_QUANTIZED_FILE } = await import('../dist/export/export-folder.js');
const { sessionOptions } = await import('../dist/runtime/session.js');
const { readCsv } = await import('../dist/data/csv.js');
const { Rng } = await import('../dist/util/rng.js');

const preset = process.argv[2] ?? 'mini';
const RUNS = Number(process.argv[3] ?? 20);
const T = 128;
const BATCHES = [1, 32];
const root = mkdtempSync(join(tmpdir(), 'compactlm-infer-bench-'));

function percentiles(ms) {
  const s = [...ms].sort((a, b) => a - b);
  const at = (p) => s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)];
  return { p50_ms: +at(0.5).toFixed(2), p95_ms: +at(0.95).toFixed(2) };
}

try {
  const modelDir = join(root, 'model');
  const outDir = join(root, 'export');
  const config = makeConfig(preset);
  await saveModelFolder(modelDir, config, initParams(config, new Rng(0)), { writeExtraFiles: writeTokenizerFiles });
  const summary = await exportModel({ modelDir, outDir, samples: 16, seed: 0 });
  console.log(JSON.stringify({ bench: 'infer-export', preset, fp32_mb: +(summary.files.find((f) => f.path === ONNX_MODEL_FILE).bytes / 1e6).toFixed(1),
    int8_mb: +(summary.files.find((f) => f.path === ONNX_QUANTIZED_FILE).bytes / 1e6).toFixed(1), size_ratio: +summary.sizeRatio.toFixed(3) }));

  // 32 prose passages of at least 128 tokens, cut to exactly 128 ([CLS] … [SEP]).
  const tok = await loadTokenizer(outDir);
  const csv = await readCsv(fileURLToPath(new URL('../datasets/prose.csv', import.meta.url)));
  const rows = [];
  for await (const { record } of csv.rows) {
    const ids = tok.encode(record.text, null, T).input_ids;
    if (ids.length === T) rows.push(ids);
    if (rows.length === 32) break;
  }
  const inputs = (B) => {
    const ids = BigInt64Array.from(rows.slice(0, B).flat(), BigInt);
    return { ids, mask: new BigInt64Array(B * T).fill(1n), types: new BigInt64Array(B * T) };
  };

  // Four runners (2 runtimes × 2 precisions), timed round-robin so that load drift on a shared machine hits them
  // alike. onnxruntime-node 1.30 with CompactLM's session options (graph optimization 'all', default threads);
  // transformers.js through its model call (what its pipelines run) on the same files, its onnxruntime-node 1.14.
  env.allowRemoteModels = false;
  env.localModelPath = parse(outDir).root;
  const name = relative(parse(outDir).root, outDir);
  const runners = [];
  for (const [precision, file, quantized] of [['fp32', ONNX_MODEL_FILE, false], ['int8', ONNX_QUANTIZED_FILE, true]]) {
    const session = await ort.InferenceSession.create(join(outDir, file), sessionOptions({}));
    runners.push({ runtime: 'ort', precision, close: () => session.release(), run: (x, B) => session.run({
      input_ids: new ort.Tensor('int64', x.ids, [B, T]), attention_mask: new ort.Tensor('int64', x.mask, [B, T]),
      token_type_ids: new ort.Tensor('int64', x.types, [B, T]) }) });
    const model = await AutoModelForMaskedLM.from_pretrained(name, { quantized, local_files_only: true });
    runners.push({ runtime: 'transformers.js', precision, close: () => model.dispose(), run: (x, B) => model({
      input_ids: new Tensor('int64', x.ids, [B, T]), attention_mask: new Tensor('int64', x.mask, [B, T]),
      token_type_ids: new Tensor('int64', x.types, [B, T]) }) });
  }
  const results = {};
  for (const B of BATCHES) {
    const x = inputs(B);
    const runs = B === 1 ? RUNS * 2 : RUNS;
    const ms = runners.map(() => []);
    for (const r of runners) for (let i = 0; i < 3; i++) await r.run(x, B); // warm-up: allocations, weight pre-packing
    for (let i = 0; i < runs; i++) {
      for (let k = 0; k < runners.length; k++) {
        const j = (i + k) % runners.length; // rotate the order every round
        const t = performance.now();
        await runners[j].run(x, B);
        ms[j].push(performance.now() - t);
      }
    }
    runners.forEach((r, j) => {
      const p = percentiles(ms[j]);
      results[`${r.runtime}/${r.precision}/${B}`] = p;
      console.log(JSON.stringify({ bench: 'infer', runtime: r.runtime, precision: r.precision, batch: B, seq: T, runs, ...p }));
    });
  }
  for (const r of runners) await r.close();

  for (const B of BATCHES) {
    const r = (k) => results[k].p50_ms;
    console.log(JSON.stringify({ bench: 'infer-ratio', batch: B,
      int8_over_fp32_ort: +(r(`ort/int8/${B}`) / r(`ort/fp32/${B}`)).toFixed(3),
      int8_over_fp32_transformers_js: +(r(`transformers.js/int8/${B}`) / r(`transformers.js/fp32/${B}`)).toFixed(3),
      ort_over_transformers_js_fp32: +(r(`ort/fp32/${B}`) / r(`transformers.js/fp32/${B}`)).toFixed(3) }));
  }

  // ORT profiler: kernel time per op type, one batch-1 run after warm-up, for both precisions.
  for (const [precision, file] of [['fp32', ONNX_MODEL_FILE], ['int8', ONNX_QUANTIZED_FILE]]) {
    const dir = join(root, `profile-${precision}`);
    mkdirSync(dir);
    const session = await ort.InferenceSession.create(join(outDir, file), { ...sessionOptions({}), enableProfiling: true, profileFilePrefix: join(dir, 'p') });
    const x = inputs(1);
    const feeds = { input_ids: new ort.Tensor('int64', x.ids, [1, T]), attention_mask: new ort.Tensor('int64', x.mask, [1, T]),
      token_type_ids: new ort.Tensor('int64', x.types, [1, T]) };
    for (let i = 0; i < 5; i++) await session.run(feeds);
    session.endProfiling();
    await session.release();
    const events = JSON.parse(readFileSync(join(dir, readdirSync(dir)[0]), 'utf8'));
    const us = {};
    for (const e of events) if (e.cat === 'Node' && e.name.endsWith('_kernel_time')) us[e.args.op_name] = (us[e.args.op_name] ?? 0) + e.dur;
    const ops = Object.fromEntries(Object.entries(us).sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, +(v / 5000).toFixed(2)]));
    console.log(JSON.stringify({ bench: 'infer-profile', runtime: 'ort', precision, batch: 1, seq: T, ms_per_run_by_op: ops }));
  }
} finally {
  rmSync(root, { recursive: true, force: true });
}
