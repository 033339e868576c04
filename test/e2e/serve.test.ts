/**
 * `compactlm serve` over HTTP, as a client sees it: the built CLI on loopback ports (printed), three servers —
 *   main:    tiny (masked LM, with an FAQ) + the shipped sentiment classifier, no key: every route, results equal
 *            to `compactlm infer/summarize/chat --json` on the same folders, every error code, body and input
 *            limits, readiness before load, dynamic batching seen in /metrics, OpenAPI, the playground files;
 *   guarded: an API key, a rate limit, CORS for one origin, a long batching wait — then SIGTERM while a request is
 *            in flight: it completes, new ones are refused, exit 0;
 *   slow:    a 200 ms per-request timeout (503 timeout);
 * plus start-up refusals (a non-loopback host without a key, bad flags): one line, non-zero exit.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { call, metric, REPO, startServe, type Served } from './helpers/serve-process.js';

const TINY = 'models/compactlm-tiny';
const SENTIMENT = 'models/compactlm-mini-sentiment';
const KEY = 'test-key-0123456789abcdef';
const ORIGIN = 'https://app.example.com';

let dir: string;
let faq: string;
let main: Served;
let guarded: Served;
let slow: Served;
/** Whatever started, so that afterAll stops it even when another server failed to start. */
let started: Served[] = [];
/** /health/ready answers seen on `main` from the moment it listened until it was ready. */
let readyAnswers: { status: number; code?: string }[] = [];
let v1BeforeReady: { status: number; code?: string } | undefined;

function cli(args: string[], input?: string): string {
  const r = spawnSync(join(REPO, 'bin', 'compactlm'), args, { cwd: REPO, input, encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`compactlm ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'serve-e2e-'));
  faq = join(dir, 'faq.csv');
  writeFileSync(faq, 'question,answer\nWhere is my order?,Open Orders and press Track.\nHow do I return an item?,Print the label from Orders and post the parcel.\n' +
    'Can I pay with PayPal?,Yes: choose PayPal at checkout.\n');
  const servers = await Promise.allSettled([
    startServe('main', ['--model', `tiny=${TINY}`, '--model', `sentiment=${SENTIMENT}`, '--faq', faq, '--rate-limit', '0',
      '--max-inputs', '16', '--max-input-tokens', '64', '--max-body-bytes', '16384', '--max-wait-ms', '20', '--threads', '1']),
    startServe('guarded', ['--model', TINY, '--api-key', KEY, '--rate-limit', '2', '--cors', ORIGIN, '--max-wait-ms', '1000', '--threads', '1']),
    startServe('slow', ['--model', TINY, '--timeout-ms', '200', '--max-wait-ms', '1000', '--threads', '1']),
  ]);
  started = servers.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const failed = servers.find((s) => s.status === 'rejected');
  if (failed) throw (failed as PromiseRejectedResult).reason;
  [main, guarded, slow] = started;
  // Readiness before load: poll main from the moment it listens until it says ready.
  let sawReady = false;
  const poll = (async () => {
    while (!sawReady) {
      const r = await call(main.url, '/health/ready');
      readyAnswers.push({ status: r.status, code: r.json?.error?.code });
      if (r.status !== 200 && !v1BeforeReady) {
        const v = await call(main.url, '/v1/models');
        v1BeforeReady = { status: v.status, code: v.json?.error?.code };
      }
      if (r.status === 200) sawReady = true;
      else await new Promise((res) => setTimeout(res, 100));
    }
  })();
  await Promise.all([main.ready, guarded.ready, slow.ready]);
  await poll;
}, 180_000);

afterAll(async () => {
  await Promise.all(started.map((s) => s.stop()));
  rmSync(dir, { recursive: true, force: true });
});

describe('serve: routes (main server)', () => {
  test('readiness: 503 not_ready (error shape) while loading, /v1/ refused meanwhile; then ready with the models', async () => {
    expect(readyAnswers[0]).toEqual({ status: 503, code: 'not_ready' });
    expect(readyAnswers[readyAnswers.length - 1]).toEqual({ status: 200, code: undefined });
    expect(v1BeforeReady).toEqual({ status: 503, code: 'not_ready' });
    const r = await call(main.url, '/health/ready');
    expect(r.json).toEqual({ status: 'ready', models: ['tiny', 'sentiment'] });
    expect((await call(main.url, '/health/live')).json).toEqual({ status: 'live' });
    expect(main.stdout()).toBe(`compactlm serve: ready at ${main.url} — tiny (fill-mask, embed, summarize, chat), sentiment (classify); playground at ${main.url}/\n`);
  });

  test('GET /v1/models: each model, its architecture and tasks', async () => {
    const r = await call(main.url, '/v1/models');
    expect(r.status).toBe(200);
    expect(r.json.models.map((m: { name: string; architecture: string; tasks: string[] }) => [m.name, m.architecture, m.tasks])).toEqual([
      ['tiny', 'BertForMaskedLM', ['fill-mask', 'embed', 'summarize', 'chat']],
      ['sentiment', 'BertForSequenceClassification', ['classify']],
    ]);
    expect(r.json.models[1].labels).toEqual(['negative', 'positive']);
    expect(r.json.models[0].max_input_tokens).toBe(64);
  });

  const FM = ['Paris is the [MASK] of France.', 'The [MASK] sat on the [MASK].'];
  const TEXTS = ['What a lovely film, I would watch it again.', 'The battery died after two days.', 'Short.'];

  test('POST /v1/fill-mask: what `compactlm infer --json` prints, one object for a string, an array for an array', async () => {
    const ref = cli(['infer', '--model', TINY, '--top-k', '3', '--threads', '1'], FM.map((text) => JSON.stringify({ text })).join('\n') + '\n')
      .trim().split('\n').map((l) => JSON.parse(l));
    const one = await call(main.url, '/v1/fill-mask', { body: { inputs: FM[0], top_k: 3 } });
    expect(one.status).toBe(200);
    expect(one.headers.get('content-type')).toMatch(/^application\/json/);
    expectClose(one.json, ref[0]);
    const many = await call(main.url, '/v1/fill-mask', { body: { model: 'tiny', inputs: FM, top_k: 3 } });
    expect(many.json).toHaveLength(2);
    many.json.forEach((r: unknown, i: number) => expectClose(r, ref[i]));
    const dflt = await call(main.url, '/v1/fill-mask', { body: { inputs: FM[0] } });
    expect(dflt.json.masks[0].predictions).toHaveLength(5); // top_k defaults to 5, as in the CLI
  });

  test('POST /v1/embed and /v1/classify: equal to `compactlm infer --task embed|classify` (JSONL in, JSONL out)', async () => {
    const jsonl = TEXTS.map((text) => JSON.stringify({ text })).join('\n') + '\n';
    const emb = cli(['infer', '--task', 'embed', '--model', TINY, '--threads', '1'], jsonl).trim().split('\n').map((l) => JSON.parse(l));
    const cls = cli(['infer', '--task', 'classify', '--model', SENTIMENT, '--threads', '1'], jsonl).trim().split('\n').map((l) => JSON.parse(l));
    const e = await call(main.url, '/v1/embed', { body: { inputs: TEXTS } });
    expect(e.status).toBe(200);
    e.json.forEach((r: unknown, i: number) => expectClose(r, emb[i]));
    expect(e.json[0].dim).toBe(128);
    const c = await call(main.url, '/v1/classify', { body: { inputs: TEXTS } });
    expect(c.status).toBe(200);
    c.json.forEach((r: unknown, i: number) => expectClose(r, cls[i]));
    const one = await call(main.url, '/v1/classify', { body: { inputs: TEXTS[0], model: 'sentiment' } });
    expectClose(one.json, cls[0]);
  });

  test('POST /v1/summarize and /v1/chat: equal to `compactlm summarize --json` and `compactlm chat --json`', async () => {
    const doc = 'The council met on Tuesday. Residents asked for more trees in the park. The mayor agreed to plant them. Work starts in spring.';
    const sref = JSON.parse(cli(['summarize', doc, '--model', TINY, '--sentences', '2', '--json', '--threads', '1']));
    const s = await call(main.url, '/v1/summarize', { body: { inputs: doc, sentences: 2 } });
    expect(s.status).toBe(200);
    expectClose(s.json, sref);
    for (const x of s.json.sentences) expect(doc.slice(x.start, x.end)).toBe(x.text);
    const lead = await call(main.url, '/v1/summarize', { body: { inputs: [doc, doc], ratio: 0.5, method: 'lead' } });
    expect(lead.json.map((r: { summary: string }) => r.summary)).toEqual(Array(2).fill('The council met on Tuesday.\nResidents asked for more trees in the park.'));

    const msg = 'how can I send an item back?';
    const cref = JSON.parse(cli(['chat', msg, '--model', TINY, '--faq', faq, '--json', '--threads', '1']));
    const c = await call(main.url, '/v1/chat', { body: { inputs: msg } });
    expect(c.status).toBe(200);
    expectClose(c.json, cref);
    const withHistory = await call(main.url, '/v1/chat', { body: { inputs: 'and PayPal?', history: [{ role: 'user', text: 'can I pay by card' }, { role: 'bot', text: 'yes' }] } });
    expect(withHistory.status).toBe(200);
    expect(typeof withHistory.json.answer).toBe('string');
  });

  test('400: bad JSON, another content type, and schema errors that name the field', async () => {
    const cases: [Parameters<typeof call>[2], string, string][] = [
      [{ raw: '{"inputs": ', headers: { 'content-type': 'application/json' } }, 'invalid_json', 'body: not valid JSON'],
      [{ raw: 'inputs=hello', headers: { 'content-type': 'application/x-www-form-urlencoded' } }, 'invalid_json', 'body: content-type must be application/json'],
      [{ body: {} }, 'invalid_request', 'body.inputs: required'],
      [{ body: { inputs: 42 } }, 'invalid_request', 'body.inputs: must be string or array'],
      [{ body: { inputs: ['ok', 7] } }, 'invalid_request', 'body.inputs[1]: must be string'],
      [{ body: { inputs: [] } }, 'invalid_request', 'body.inputs: must NOT have fewer than 1 items'],
      [{ body: { inputs: 'a [MASK]', topk: 3 } }, 'invalid_request', 'body.topk: unknown field'],
      [{ body: { inputs: 'a [MASK]', top_k: 0 } }, 'invalid_request', 'body.top_k: must be >= 1'],
      [{ body: { inputs: 'a [MASK]', top_k: '3' } }, 'invalid_request', 'body.top_k: must be integer'],
    ];
    for (const [req, code, message] of cases) {
      const r = await call(main.url, '/v1/fill-mask', req);
      expect([r.status, r.json]).toEqual([400, { error: { code, message } }]);
    }
    const s = await call(main.url, '/v1/summarize', { body: { inputs: 'A b. C d.', sentences: 1, ratio: 0.5 } });
    expect([s.status, s.json.error.code]).toEqual([400, 'invalid_request']);
    const h = await call(main.url, '/v1/chat', { body: { inputs: 'hi', history: [{ role: 'agent', text: 'x' }] } });
    expect([h.status, h.json.error.code, h.json.error.message]).toEqual([400, 'invalid_request', 'body.history[0].role: must be equal to one of the allowed values']);
  });

  test('404: unknown model, unknown route; 422: no [MASK], a task the model does not do; 413: body, inputs, tokens', async () => {
    const expectError = async (path: string, body: unknown, status: number, code: string, message?: string) => {
      const r = await call(main.url, path, { body });
      expect([r.status, r.json.error.code]).toEqual([status, code]);
      if (message) expect(r.json.error.message).toBe(message);
      expect(Object.keys(r.json)).toEqual(['error']);
      expect(r.text).not.toMatch(/\bat \S+:\d+:\d+/); // never a stack trace
    };
    await expectError('/v1/classify', { inputs: 'x', model: 'big' }, 404, 'model_not_found', 'model: no model "big" (loaded: tiny, sentiment)');
    await expectError('/v1/nothing', { inputs: 'x' }, 404, 'not_found', 'POST /v1/nothing: no such route (GET /openapi.json lists them)');
    await expectError('/v1/fill-mask', { inputs: ['a [MASK] b', 'no mask here'] }, 422, 'no_mask',
      'inputs[1]: the text has no [MASK] token (write it in capitals, e.g. "Paris is the [MASK] of France.")');
    await expectError('/v1/classify', { inputs: 'x', model: 'tiny' }, 422, 'unsupported_task',
      'model: "tiny" is a BertForMaskedLM and does not do classify (models that do: sentiment)');
    await expectError('/v1/fill-mask', { inputs: 'word '.repeat(4000) + '[MASK]' }, 413, 'body_too_large', "body: larger than 16384 bytes (the server's limit)");
    await expectError('/v1/embed', { inputs: Array(17).fill('hi') }, 413, 'too_many_inputs',
      "inputs: 17 texts, more than this server's limit of 16 per request: send them in several requests");
    await expectError('/v1/embed', { inputs: ['short', 'word '.repeat(70)] }, 413, 'input_too_long',
      "inputs[1]: 72 tokens, more than this server's limit of 64 ([CLS] and [SEP] included): send a shorter text");
    await expectError('/v1/summarize', { inputs: '   ' }, 422, 'invalid_input', 'the text is empty');
  });

  test('dynamic batching: concurrent requests are merged into one ONNX Runtime run (the batch-size histogram), results unchanged', async () => {
    const before = await call(main.url, '/metrics');
    const runs0 = metric(before.text, 'compactlm_batch_size_count', { model: 'sentiment' });
    const rows0 = metric(before.text, 'compactlm_batch_size_sum', { model: 'sentiment' });
    const texts = Array.from({ length: 16 }, (_, i) => `${TEXTS[i % 3]} (${i})`);
    const alone: unknown[] = [];
    for (const t of texts.slice(0, 3)) alone.push((await call(main.url, '/v1/classify', { body: { inputs: t } })).json);
    const mid = await call(main.url, '/metrics');
    expect(metric(mid.text, 'compactlm_batch_size_count', { model: 'sentiment' }) - runs0).toBe(3); // one run each
    const together = await Promise.all(texts.map((t) => call(main.url, '/v1/classify', { body: { inputs: t } })));
    expect(together.every((r) => r.status === 200)).toBe(true);
    together.slice(0, 3).forEach((r, i) => expectClose(r.json, alone[i], 1e-5)); // padding leaves each row's result unchanged
    const after = await call(main.url, '/metrics');
    const runs = metric(after.text, 'compactlm_batch_size_count', { model: 'sentiment' }) - runs0 - 3;
    const rows = metric(after.text, 'compactlm_batch_size_sum', { model: 'sentiment' }) - rows0 - 3;
    expect(rows).toBe(16);
    expect(runs).toBeLessThan(16); // some run held more than one request
    const single = metric(after.text, 'compactlm_batch_size_bucket', { model: 'sentiment', le: '1' }) - metric(before.text, 'compactlm_batch_size_bucket', { model: 'sentiment', le: '1' });
    expect(single).toBeLessThan(3 + 16);
  });

  test('GET /metrics: requests and latency per route and status, batches, queue depth, load time, process memory', async () => {
    const m = (await call(main.url, '/metrics')).text;
    expect(metric(m, 'compactlm_http_requests_total', { route: '/v1/fill-mask', status: '200' })).toBeGreaterThan(0);
    expect(metric(m, 'compactlm_http_requests_total', { route: '/v1/fill-mask', status: '400' })).toBeGreaterThan(0);
    expect(metric(m, 'compactlm_http_requests_total', { route: 'unmatched', status: '404' })).toBeGreaterThan(0);
    expect(metric(m, 'compactlm_http_request_duration_seconds_count', { route: '/v1/classify', status: '200' })).toBeGreaterThan(0);
    expect(metric(m, 'compactlm_inference_duration_seconds_count', { model: 'tiny', task: 'embed' })).toBeGreaterThan(0);
    expect(metric(m, 'compactlm_queue_depth', { model: 'tiny' })).toBe(0);
    expect(metric(m, 'compactlm_model_load_seconds', { model: 'sentiment' })).toBeGreaterThan(0);
    expect(metric(m, 'compactlm_ready')).toBe(1);
    expect(metric(m, 'process_resident_memory_bytes')).toBeGreaterThan(10e6);
  });

  test('GET /openapi.json: every route with its schemas; GET /: the playground; safe headers; no CORS by default', async () => {
    const doc = (await call(main.url, '/openapi.json')).json;
    expect(doc.openapi).toBe('3.0.3');
    for (const p of ['/v1/fill-mask', '/v1/embed', '/v1/classify', '/v1/summarize', '/v1/chat']) {
      expect(doc.paths[p].post.requestBody.content['application/json'].schema.required).toEqual(['inputs']);
      expect(doc.paths[p].post.security).toEqual([{ bearer: [] }, { apiKey: [] }]);
    }
    for (const p of ['/v1/models', '/health/live', '/health/ready', '/metrics']) expect(doc.paths[p].get).toBeDefined();
    expect(doc.paths['/']).toBeUndefined();
    const page = await call(main.url, '/', { headers: { origin: 'https://elsewhere.example' } });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.text).toContain('role="tablist"');
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    expect(page.headers.get('access-control-allow-origin')).toBeNull();
    for (const f of ['app.js', 'style.css']) expect((await call(main.url, `/playground/${f}`)).status).toBe(200);
  });
});

describe('serve: keys, rate limit, CORS, drain (guarded server)', () => {
  test('401 without a key or with a wrong one (/v1/ and /metrics); Bearer or x-api-key pass; health and the page stay open', async () => {
    const none = await call(guarded.url, '/v1/models');
    expect([none.status, none.json.error.code, none.headers.get('www-authenticate')]).toEqual([401, 'unauthorized', 'Bearer']);
    expect(none.json.error.message).toBe('an API key is needed: send it as "Authorization: Bearer <key>" or "x-api-key: <key>"');
    const wrong = await call(guarded.url, '/v1/embed', { body: { inputs: 'x' }, headers: { authorization: `Bearer ${KEY}x` } });
    expect([wrong.status, wrong.json.error]).toEqual([401, { code: 'unauthorized', message: 'the API key is not valid' }]);
    expect((await call(guarded.url, '/metrics')).status).toBe(401);
    expect((await call(guarded.url, '/v1/models', { headers: { authorization: `Bearer ${KEY}` } })).status).toBe(200);
    expect((await call(guarded.url, '/metrics', { headers: { 'x-api-key': KEY } })).status).toBe(200);
    for (const p of ['/health/live', '/health/ready', '/', '/openapi.json']) expect((await call(guarded.url, p)).status).toBe(200);
  });

  test('rate limit: past the burst, 429 rate_limited with Retry-After; health is not limited', async () => {
    await new Promise((r) => setTimeout(r, 2100)); // a full bucket (4 = 2 × 2/s)
    const answers = await Promise.all(Array.from({ length: 8 }, () => call(guarded.url, '/v1/models', { headers: { 'x-api-key': KEY } })));
    const limited = answers.filter((r) => r.status === 429);
    expect(answers.filter((r) => r.status === 200).length).toBeGreaterThanOrEqual(4);
    expect(limited.length).toBeGreaterThanOrEqual(2);
    for (const r of limited) {
      expect(r.json.error.code).toBe('rate_limited');
      expect(Number(r.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    }
    expect((await call(guarded.url, '/health/ready')).status).toBe(200);
  });

  test('CORS for --cors <origin> only: its responses carry Access-Control-Allow-Origin; the preflight is answered', async () => {
    const pre = await call(guarded.url, '/v1/embed', { method: 'OPTIONS', headers: { origin: ORIGIN, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' } });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expect(pre.headers.get('access-control-allow-headers')).toContain('authorization');
    const from = await call(guarded.url, '/health/live', { headers: { origin: ORIGIN } });
    expect(from.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    const other = await call(guarded.url, '/health/live', { headers: { origin: 'https://evil.example' } });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });

  test('SIGTERM: not ready at once, the in-flight request completes, new ones are refused, exit 0', async () => {
    await new Promise((r) => setTimeout(r, 2100)); // tokens for the requests below
    const headers = { 'x-api-key': KEY };
    // It waits up to --max-wait-ms 1000 in the batcher: in flight when the signal comes.
    const inflight = call(guarded.url, '/v1/fill-mask', { body: { inputs: 'Paris is the [MASK] of France.', top_k: 2 }, headers });
    await new Promise((r) => setTimeout(r, 300));
    guarded.proc.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 200));
    const late = await call(guarded.url, '/v1/models', { headers }).catch((e: Error) => ({ refused: e.message }));
    // Either refused on a connection still open (503 shutting_down) or no longer accepted at all.
    if ('refused' in late) expect(late.refused).toMatch(/fetch failed/);
    else expect([late.status, late.text]).toEqual([503, JSON.stringify({ error: { code: 'shutting_down', message: 'the server is shutting down: retry on another replica' } })]);
    const r = await inflight;
    expect(r.status).toBe(200);
    expect(r.json.masks[0].predictions).toHaveLength(2);
    expect(await guarded.exited).toEqual({ code: 0, signal: null });
    expect(guarded.stderr()).toContain('draining in-flight requests');
    expect(guarded.stderr()).toContain('serve: stopped');
  });
});

describe('serve: per-request timeout, start-up refusals', () => {
  test('a request past --timeout-ms is a 503 timeout with Retry-After', async () => {
    const r = await call(slow.url, '/v1/embed', { body: { inputs: 'hello' } });
    expect([r.status, r.json.error.code, r.headers.get('retry-after')]).toEqual([503, 'timeout', '1']);
    expect(r.json.error.message).toBe("the request took longer than 200 ms (the server's --timeout-ms): retry, or send fewer inputs");
    expect(slow.stderr()).not.toMatch(/"level":50/); // a timeout is not a server error
  });

  test('a non-loopback host without a key, a bad origin, a missing folder: one line, non-zero exit, nothing served', () => {
    const run = (args: string[], env: NodeJS.ProcessEnv = {}) => spawnSync(join(REPO, 'bin', 'compactlm'), ['serve', '--model', TINY, ...args],
      { cwd: REPO, encoding: 'utf8', timeout: 60_000, env: { ...process.env, COMPACTLM_API_KEY: '', ...env } });
    const open = run(['--host', '0.0.0.0', '--port', '0']);
    expect(open.status).toBe(2);
    expect(open.stderr).toBe('compactlm: error: --host 0.0.0.0 is not a loopback address and no API key is set: anyone on the network could use the server; ' +
      'set --api-key <key> or COMPACTLM_API_KEY, or serve on 127.0.0.1\n');
    const cors = run(['--cors', 'https://app.example.com/path']);
    expect(cors.status).toBe(2);
    expect(cors.stderr).toMatch(/^compactlm: error: --cors "https:\/\/app.example.com\/path" is not an origin/);
    const missing = spawnSync(join(REPO, 'bin', 'compactlm'), ['serve', '--model', join(dir, 'nope')], { cwd: REPO, encoding: 'utf8' });
    expect(missing.status).toBe(1);
    expect(missing.stderr).toBe(`compactlm: error: --model ${join(dir, 'nope')}: model folder not found\n`);
    const dup = spawnSync(join(REPO, 'bin', 'compactlm'), ['serve', '--model', TINY, '--model', TINY], { cwd: REPO, encoding: 'utf8' });
    expect(dup.stderr).toBe(`compactlm: error: --model: two models are named "compactlm-tiny": name them, e.g. --model a=${TINY}\n`);
  });
});

/** Same JSON up to float rounding: numbers within `tol`, everything else equal. */
function expectClose(got: unknown, want: unknown, tol = 1e-6, path = '$'): void {
  if (typeof want === 'number') {
    expect(typeof got).toBe('number');
    if (Math.abs((got as number) - want) > tol) throw new Error(`${path}: ${got} vs ${want}`);
    return;
  }
  if (Array.isArray(want)) {
    expect(Array.isArray(got)).toBe(true);
    expect((got as unknown[]).length).toBe(want.length);
    want.forEach((w, i) => expectClose((got as unknown[])[i], w, tol, `${path}[${i}]`));
    return;
  }
  if (want !== null && typeof want === 'object') {
    expect(Object.keys(got as object)).toEqual(Object.keys(want));
    for (const [k, w] of Object.entries(want)) expectClose((got as Record<string, unknown>)[k], w, tol, `${path}.${k}`);
    return;
  }
  expect(got).toEqual(want);
}
