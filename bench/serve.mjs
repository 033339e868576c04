#!/usr/bin/env node
// `compactlm serve` under load, with autocannon (programmatic API) on loopback against the built CLI serving the
// shipped classifier (models/compactlm-mini-sentiment):
//
//   throughput   POST /v1/classify, one sentence per request (the bundled sentiment sentences, cycled), at 1, 16 and
//                64 connections, dynamic batching on (--max-batch-tokens 16384, --max-wait-ms 5) vs off
//                (--max-batch-tokens 0), --seconds per level and mode (two halves, in the order on, off, off, on
//                against two servers that stay up, so that a change in the machine's load falls on both):
//                requests/s, p50/p95/p99 latency (ms, from every response), non-2xx, and the mean rows per ONNX
//                Runtime run read from /metrics; then the on/off ratio at 64 (goal ≥ 3×)
//   burst        1,000 connections for --burst-s seconds (default 30) against the batching server (no rate
//                limit, so that the queue and the timeouts take the load): responses by status, connection errors,
//                whether the process survived, its peak RSS (VmHWM of /proc/<pid>/status, worker threads included),
//                and whether /health/ready says ready again afterwards
//
//   npm run bench -- serve [--seconds 10] [--burst-s 30]        env: BENCH_THREADS=2 (ORT threads of the server)
//
// The load generator runs on the same machine as the server: both share its cores (the JSON says how many and the
// load average), so compare on/off within one run rather than across machines.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { parse } from 'csv-parse/sync';

const root = fileURLToPath(new URL('..', import.meta.url));
const MODEL = 'models/compactlm-mini-sentiment';
const threads = process.env.BENCH_THREADS ?? '2';

function flag(name, fallback) {
  const i = process.argv.indexOf(name);
  if (i < 0) return fallback;
  const v = Number(process.argv[i + 1]);
  if (!(v > 0)) throw new Error(`${name} needs a positive number of seconds, got ${process.argv[i + 1]}`);
  return v;
}
const SECONDS = flag('--seconds', 10);
const BURST_S = flag('--burst-s', 30);
const CONNECTIONS = [1, 16, 64];
const BURST = 1000;

const out = (o) => console.log(JSON.stringify({ bench: 'serve', ...o }));
const machine = () => ({ cpus: cpus().length, load1: +loadavg()[0].toFixed(2) });

/** The server as a user starts it; resolves once it prints its ready line. */
function startServer(extra) {
  const proc = spawn(join(root, 'bin', 'compactlm'), ['--log-json', 'serve', '--model', `sentiment=${MODEL}`, '--port', '0', '--rate-limit', '0',
    '--threads', threads, ...extra], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, COMPACTLM_API_KEY: '' } });
  let err = '';
  proc.stderr.on('data', (d) => (err = (err + d).slice(-20000)));
  return new Promise((resolve, reject) => {
    let stdout = '';
    proc.stdout.on('data', (d) => {
      stdout += d;
      const m = /ready at (http:\/\/\S+)/.exec(stdout);
      if (m) resolve({ proc, url: m[1], stderr: () => err });
    });
    proc.on('exit', (code) => reject(new Error(`serve exited (${code}): ${err.slice(-1500)}`)));
  });
}

async function stopServer(s) {
  const exited = new Promise((r) => s.proc.on('exit', (code, signal) => r({ code, signal })));
  s.proc.kill('SIGTERM');
  return exited;
}

/** The sum of a Prometheus sample over all its label sets that include `labels`. */
function metric(text, name, labels = {}) {
  let sum = 0;
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    if (Object.entries(labels).every(([k, v]) => (m[2] ?? '').includes(`${k}="${v}"`))) sum += Number(m[3]);
  }
  return sum;
}

async function batchStats(url) {
  const text = await (await fetch(`${url}/metrics`)).text();
  return { runs: metric(text, 'compactlm_batch_size_count'), rows: metric(text, 'compactlm_batch_size_sum') };
}

const sentences = parse(readFileSync(join(root, 'datasets', 'sentiment.csv')), { columns: true }).slice(0, 256).map((r) => r.text);
const requests = sentences.map((s) => ({ method: 'POST', path: '/v1/classify', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ inputs: s }) }));

/** One autocannon run: every response's latency and status. */
async function load(url, connections, seconds, timeout = 10) {
  const times = [];
  const status = {};
  const instance = autocannon({ url, connections, duration: seconds, requests, timeout });
  instance.on('response', (_client, code, _bytes, ms) => {
    times.push(ms);
    status[code] = (status[code] ?? 0) + 1;
  });
  const r = await instance;
  return { seconds, times, status, non_2xx: r.non2xx, errors: r.errors, timeouts: r.timeouts };
}

/** Runs pooled: requests/s and p50/p95/p99 over every response (autocannon's own histogram has no p95). */
function summary(runs) {
  const times = runs.flatMap((r) => r.times).sort((a, b) => a - b);
  const at = (p) => (times.length ? +times[Math.min(times.length - 1, Math.ceil(p * times.length) - 1)].toFixed(1) : null);
  const status = {};
  for (const r of runs) for (const [k, v] of Object.entries(r.status)) status[k] = (status[k] ?? 0) + v;
  const sum = (k) => runs.reduce((n, r) => n + r[k], 0);
  return {
    requests_per_s: +(times.length / sum('seconds')).toFixed(1), p50_ms: at(0.5), p95_ms: at(0.95), p99_ms: at(0.99),
    responses: times.length, status, non_2xx: sum('non_2xx'), errors: sum('errors'), timeouts: sum('timeouts'),
  };
}

function vm(pid, key) {
  const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? +(Number(m[1]) / 1024).toFixed(0) : null;
}

// Both servers stay up and take turns (on, off, off, on at each level), so that a change in the machine's load
// during the run falls on both alike.
const servers = {
  on: await startServer(['--max-batch-tokens', '16384', '--max-wait-ms', '5']),
  off: await startServer(['--max-batch-tokens', '0']),
};
const rps = {};
try {
  for (const s of Object.values(servers)) await load(s.url, 16, 2); // warm: JIT, ORT arenas
  for (const connections of CONNECTIONS) {
    const runs = { on: [], off: [] };
    const before = { on: await batchStats(servers.on.url), off: await batchStats(servers.off.url) };
    for (const mode of ['on', 'off', 'off', 'on']) runs[mode].push(await load(servers[mode].url, connections, SECONDS / 2));
    for (const mode of ['on', 'off']) {
      const after = await batchStats(servers[mode].url);
      const n = after.runs - before[mode].runs;
      const r = summary(runs[mode]);
      out({ route: '/v1/classify', model: MODEL, batching: mode, connections, seconds: SECONDS, threads: Number(threads), ...r,
        mean_rows_per_run: n ? +((after.rows - before[mode].rows) / n).toFixed(2) : null, ...machine() });
      rps[`${mode}/${connections}`] = r.requests_per_s;
    }
  }
} finally {
  await stopServer(servers.off);
}
const ratio = rps['off/64'] ? +(rps['on/64'] / rps['off/64']).toFixed(2) : null;
out({ summary: 'batching', connections: 64, requests_per_s_on: rps['on/64'], requests_per_s_off: rps['off/64'], ratio, goal: 3, met: ratio !== null && ratio >= 3 });

// The burst: 1,000 connections at once, on the batching server (the defaults but the rate limit).
const s = servers.on;
try {
  const pid = s.proc.pid;
  const rssBefore = vm(pid, 'VmRSS');
  let peakRss = rssBefore;
  const sampler = setInterval(() => {
    const v = vm(pid, 'VmRSS');
    if (v !== null) peakRss = Math.max(peakRss, v);
  }, 250);
  const r = summary([await load(s.url, BURST, BURST_S, 40)]);
  clearInterval(sampler);
  const alive = s.proc.exitCode === null && s.proc.signalCode === null;
  const hwm = alive ? vm(pid, 'VmHWM') : null;
  let readyAfter = false;
  const t = performance.now();
  while (alive && performance.now() - t < 30_000) {
    const res = await fetch(`${s.url}/health/ready`).catch(() => null);
    if (res?.status === 200) {
      readyAfter = true;
      break;
    }
    await new Promise((res2) => setTimeout(res2, 250));
  }
  const fiveXx = Object.entries(r.status).filter(([code]) => code >= 500 && code !== '503').reduce((n, [, c]) => n + c, 0);
  out({
    summary: 'burst', route: '/v1/classify', connections: BURST, seconds: BURST_S, ...r, crashed: !alive,
    unexpected_5xx: fiveXx, rss_before_mb: rssBefore, peak_rss_sampled_mb: peakRss, peak_rss_vmhwm_mb: hwm,
    ready_after: readyAfter, ready_after_s: readyAfter ? +((performance.now() - t) / 1000).toFixed(2) : null, ...machine(),
  });
} finally {
  await stopServer(s);
}
