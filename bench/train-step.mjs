#!/usr/bin/env node
// Train-step and forward speed of the compiled BERT artifacts (dist/model/step-compiler.js) on onnxruntime-node, CPU.
// BERT-mini (H256 L4 A4 I1024 V30522), B=16, T=128, M=20 masked slots per sequence, dropout on, AdamW in-graph,
// 2 threads, graph optimization 'all'. Like the real trainer, each step fills fresh dropout keep-masks and feeds
// the previous step's new.* outputs back as inputs, writing them into the inputs' own buffers where the step allows it
// (StateTensor.inPlace, as the trainer does; elsewhere two buffer sets used in turn), so a step allocates nothing.
// Median of 10 steps after 3 warm-up steps.
//
//   npm run bench -- train-step                 (sets MALLOC_MMAP_THRESHOLD_/MALLOC_TRIM_THRESHOLD_)
//   node bench/train-step.mjs --profile         (also prints ORT's per-op-type time, from enableProfiling)
//   env: BENCH_PRESET=tiny|mini|...  BENCH_THREADS=2  BENCH_STEPS=10  BENCH_PROFILE_NODES=N (with --profile: slowest N nodes)
//        BENCH_DEVICE=cpu|webgpu|cuda (the one execution provider the sessions list; default cpu; bench/gpu.sh sets it)
//        BENCH_SPIN=0 (ORT intra-op threads do not spin)
//        BENCH_B=16 BENCH_T=128 BENCH_M=20 (batch, sequence length, masked slots per sequence)  BENCH_DROPOUT (default: the preset's, 0.1)
//        BENCH_PYTORCH=0 (skip the PyTorch baseline)  COMPACTLM_PYTHON=/path/to/python (alias BENCH_PYTHON; see bench/lib/peer-python.mjs)
//
// Then, in the same run, the PyTorch baseline bench/pytorch-step.py (same model, batch, loss, AdamW, clipping, dropout,
// threads) prints {"bench":"pytorch_step",...} — or {"bench":"pytorch_step","skipped":...} without a Python that has torch.
// It inherits this environment (MALLOC_*, and LD_LIBRARY_PATH if you point torch's libblas.so.3 at another BLAS).
//
// Prints JSON lines: {"bench":"train_step",...,"ms_per_step","tokens_per_s","peak_rss_mb"} and {"bench":"forward",...}.
// With --profile both also carry "nodes" (graph nodes per execution provider, from ORT's profiler) and "cpu_ops" (on a
// GPU device, the op types that fell back to CPUExecutionProvider; [] on cpu).
// load_avg is the machine's 1-minute load when the run ended: on a shared 2-core machine, timings with a load well
// above the thread count measure the neighbours too.
import ort from 'onnxruntime-node';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { makeConfig } from '../dist/model/config.js';
import { compileStep } from '../dist/model/step-compiler.js';
import { fillKeepMask } from '../dist/train/dropout-masks.js';
import { checkDevice, explainSessionError, sessionOptions as trainerSessionOptions } from '../dist/runtime/session.js';
import { initParams } from '../dist/model/bert.js';
import { Rng } from '../dist/util/rng.js';
import { peerPython } from './lib/peer-python.mjs';

const preset = process.env.BENCH_PRESET ?? 'mini';
const threads = Number(process.env.BENCH_THREADS ?? 2);
const steps = Number(process.env.BENCH_STEPS ?? 10);
const warmup = 3;
const profile = process.argv.includes('--profile');
const [B, T, M] = [['B', 16], ['T', 128], ['M', 20]].map(([k, d]) => Number(process.env[`BENCH_${k}`] ?? d));
const device = process.env.BENCH_DEVICE ?? 'cpu';

const config = (() => {
  try {
    const c = makeConfig(preset);
    const p = process.env.BENCH_DROPOUT === undefined ? undefined : Number(process.env.BENCH_DROPOUT);
    return p === undefined ? c : { ...c, hidden_dropout_prob: p, attention_probs_dropout_prob: p };
  } catch (e) {
    console.error(`train-step: BENCH_PRESET=${preset}: ${e.message}`);
    process.exit(2);
  }
})();
const rng = new Rng(1234);
const sessionOptions = trainerSessionOptions({ threads, device }); // exactly what the trainer uses
// BENCH_SPIN=0: ORT's intra-op threads sleep instead of spinning between ops (session config entry).
if (process.env.BENCH_SPIN === '0') sessionOptions.extra = { session: { intra_op: { allow_spinning: '0' } } };
const profiled = (prefix) => ({ ...sessionOptions, enableProfiling: profile, profileFilePrefix: `/tmp/${prefix}` });
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const shapeSize = (s) => s.reduce((a, b) => a * b, 1);
const i64 = (data, dims) => new ort.Tensor('int64', data, dims);

// A batch: random tokens (ids ≥ 1000 avoid the special ids), some padding, M masked slots per sequence.
function batch() {
  const ids = new BigInt64Array(B * T);
  const mask = new BigInt64Array(B * T);
  const positions = new BigInt64Array(B * M);
  const labels = new BigInt64Array(B * M);
  for (let b = 0; b < B; b++) {
    const len = T - rng.int(T / 4);
    for (let t = 0; t < T; t++) {
      ids[b * T + t] = t < len ? BigInt(1000 + rng.int(config.vocab_size - 1000)) : 0n;
      mask[b * T + t] = t < len ? 1n : 0n;
    }
    const picks = rng.shuffle(Array.from({ length: len - 2 }, (_, i) => i + 1)).slice(0, M).sort((x, y) => x - y);
    picks.forEach((t, j) => {
      positions[b * M + j] = BigInt(b * T + t);
      labels[b * M + j] = ids[b * T + t];
      ids[b * T + t] = 103n; // [MASK]
    });
  }
  return {
    input_ids: i64(ids, [B, T]), attention_mask: i64(mask, [B, T]), token_type_ids: i64(new BigInt64Array(B * T), [B, T]),
    masked_positions: i64(positions, [B * M]), masked_labels: i64(labels, [B * M]),
  };
}

// A device that cannot start (unknown name, no provider, no GPU adapter) ends the bench with one line, exit 2.
async function createSession(bytes, options) {
  try {
    checkDevice(device);
    return await ort.InferenceSession.create(bytes, options);
  } catch (e) {
    const err = explainSessionError(device, e);
    if (err.name !== 'UserError' && device === 'cpu') throw err;
    const why = err.name === 'UserError' ? err.message.replace(/^--device \S+: /, '') : `the session could not start (${err.message.split('\n')[0]})`;
    console.error(`train-step: BENCH_DEVICE=${device}: ${why}`);
    process.exit(2);
  }
}

// onnxruntime-node's endProfiling() writes <prefix>_<date>.json and returns nothing: find the file.
// Returns the graph's nodes per execution provider (each Node event's args.provider) and, off cpu, the op types that
// fell back to the CPU provider.
function summarizeProfile(session, label) {
  session.endProfiling();
  const name = readdirSync('/tmp').find((f) => f.startsWith(`compactlm-prof-${label}-${process.pid}_`) && f.endsWith('.json'));
  const file = `/tmp/${name}`;
  const events = JSON.parse(readFileSync(file, 'utf8'));
  const byOp = new Map();
  const byNode = new Map();
  const providerOf = new Map(); // node name → provider
  let runs = 0;
  for (const e of events) {
    if (e.cat === 'Session' && e.name === 'model_run') runs++;
    if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time')) continue;
    const op = e.args?.op_name ?? '?';
    const r = byOp.get(op) ?? { us: 0, n: 0 };
    r.us += e.dur;
    r.n++;
    byOp.set(op, r);
    const shape = (e.args?.output_type_shape ?? []).map((o) => Object.values(o)[0]?.join('x')).join(',');
    const nd = byNode.get(e.name) ?? { op, shape, us: 0 };
    nd.us += e.dur;
    byNode.set(e.name, nd);
    providerOf.set(e.name, { provider: e.args?.provider ?? '?', op });
  }
  const total = [...byOp.values()].reduce((s, r) => s + r.us, 0);
  for (const [op, r] of [...byOp].sort((a, b) => b[1].us - a[1].us).slice(0, 25)) {
    console.error(`${label} ${op.padEnd(28)} ${(r.us / 1000 / runs).toFixed(1).padStart(8)} ms/run ${(100 * r.us / total).toFixed(1).padStart(5)}%  ${r.n / runs} nodes`);
  }
  const topNodes = Number(process.env.BENCH_PROFILE_NODES ?? 0); // also list the slowest single nodes
  for (const [name, r] of [...byNode].sort((a, b) => b[1].us - a[1].us).slice(0, topNodes)) {
    console.error(`${label} node ${(r.us / 1000 / runs).toFixed(2).padStart(7)} ms  ${r.op.padEnd(18)} ${r.shape.padEnd(22)} ${name.replace(/_kernel_time$/, '')}`);
  }
  rmSync(file, { force: true });
  const nodes = {};
  const cpuOps = new Map();
  for (const { provider, op } of providerOf.values()) {
    nodes[provider] = (nodes[provider] ?? 0) + 1;
    if (provider === 'CPUExecutionProvider' && device !== 'cpu') cpuOps.set(op, (cpuOps.get(op) ?? 0) + 1);
  }
  console.error(`${label} nodes per provider: ${JSON.stringify(nodes)}`);
  if (cpuOps.size > 0) {
    console.error(`${label} on CPU: ${[...cpuOps].sort((a, b) => b[1] - a[1]).map(([op, n]) => `${op}×${n}`).join(' ')}`);
  }
  return { nodes, cpu_ops: [...cpuOps.keys()].sort() };
}

// ---- train step --------------------------------------------------------------------------------------------------
let t0 = performance.now();
const spec = compileStep({ kind: 'train', config, shape: { batchSize: B, seqLen: T, maxPredictions: M } });
const buildMs = performance.now() - t0;
t0 = performance.now();
const session = await createSession(spec.bytes, profiled(`compactlm-prof-train_step-${process.pid}`));
const sessionMs = performance.now() - t0;

const params = initParams(config, rng);
// Params and moments: step k reads set k%2 and writes set (k+1)%2; in-place state has one buffer in both sets.
const first = new Map(spec.io.state.map((t) => [t.name, new ort.Tensor('float32', t.role === 'param' ? params.get(t.name) : new Float32Array(shapeSize(t.shape)), t.shape)]));
const second = new Map(spec.io.state.map((t) => [t.name, t.inPlace ? first.get(t.name) : new ort.Tensor('float32', new Float32Array(shapeSize(t.shape)), t.shape)]));
const sets = [first, second];
const masks = spec.io.dropout.map((d) => ({ ...d, data: new Uint8Array(shapeSize(d.shape)) }));
const feeds = { ...batch(), lr: new ort.Tensor('float32', Float32Array.of(1e-4), []) };

const stepMs = [];
const maskMs = [];
let loss = NaN;
for (let k = 0; k < warmup + steps; k++) {
  const [cur, next] = [sets[k % 2], sets[(k + 1) % 2]];
  const t1 = performance.now();
  for (const m of masks) feeds[m.name] = new ort.Tensor('bool', fillKeepMask(rng, m.data, m.keepProb), m.shape);
  const t2 = performance.now();
  for (const [name, t] of cur) feeds[name] = t;
  feeds.step = new ort.Tensor('float32', Float32Array.of(k + 1), []);
  const fetches = Object.fromEntries([...next].map(([name, t]) => [`new.${name}`, t]));
  for (const o of ['loss', 'grad_norm', 'mlm_correct', 'mlm_count']) fetches[o] = null;
  const out = await session.run(feeds, fetches);
  const t3 = performance.now();
  loss = out.loss.data[0];
  if (k >= warmup) {
    stepMs.push(t3 - t1);
    maskMs.push(t2 - t1);
  }
}
const trainProviders = profile ? summarizeProfile(session, 'train_step') : {};
const msStep = median(stepMs);
console.log(JSON.stringify({
  bench: 'train_step', device, preset, batch: B, seq: T, masked_per_seq: M, threads, dropout: config.hidden_dropout_prob, ms_per_step: +msStep.toFixed(1),
  min_ms: +Math.min(...stepMs).toFixed(1), mask_fill_ms: +median(maskMs).toFixed(1), tokens_per_s: Math.round((B * T) / (msStep / 1000)),
  peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024), loss: +loss.toFixed(4), graph_mb: +(spec.bytes.length / 1e6).toFixed(2),
  build_ms: Math.round(buildMs), session_ms: Math.round(sessionMs), load_avg: +loadavg()[0].toFixed(2), ...trainProviders,
}));
await session.release();

// ---- forward (eval graph: encoder + MLM head at the masked slots + loss, no dropout) ------------------------------
const evalSpec = compileStep({ kind: 'eval', config, shape: { batchSize: B, seqLen: T, maxPredictions: M } });
const evalSession = await createSession(evalSpec.bytes, profiled(`compactlm-prof-forward-${process.pid}`));
const evalFeeds = { ...batch() };
for (const [name] of params) evalFeeds[name] = sets[0].get(name);
const fwdMs = [];
for (let k = 0; k < warmup + steps; k++) {
  const t1 = performance.now();
  await evalSession.run(evalFeeds);
  if (k >= warmup) fwdMs.push(performance.now() - t1);
}
const forwardProviders = profile ? summarizeProfile(evalSession, 'forward') : {};
console.log(JSON.stringify({
  bench: 'forward', device, preset, batch: B, seq: T, masked_per_seq: M, threads, ms: +median(fwdMs).toFixed(1),
  min_ms: +Math.min(...fwdMs).toFixed(1), tokens_per_s: Math.round((B * T) / (median(fwdMs) / 1000)),
  peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024), load_avg: +loadavg()[0].toFixed(2), ...forwardProviders,
}));

// ---- PyTorch baseline, same run --------------------------------------------------------------------------------------
if (process.env.BENCH_PYTORCH !== '0') {
  const script = new URL('./pytorch-step.py', import.meta.url).pathname;
  const peer = peerPython();
  if (peer.skipped) {
    console.log(JSON.stringify({ bench: 'pytorch_step', skipped: peer.skipped }));
  } else {
    const env = {
      ...process.env, BENCH_THREADS: String(threads), BENCH_STEPS: String(steps), BENCH_PRESET: preset,
      BENCH_B: String(B), BENCH_T: String(T), BENCH_M: String(M), BENCH_CONFIG: JSON.stringify(config),
    };
    const r = spawnSync(peer.python, [script], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    const line = (r.stdout ?? '').split('\n').find((l) => l.startsWith('{'));
    console.log(line ?? JSON.stringify({ bench: 'pytorch_step', skipped: r.error ? `${peer.python}: ${r.error.message}` : `exit ${r.status}, no result` }));
  }
}
