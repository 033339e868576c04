import type { Command } from 'commander';
import { basename, resolve } from 'node:path';
import { statSync } from 'node:fs';
import { DEFAULT_MODEL_NAME } from '../model/default-model.js';
import { DEVICES, type Device } from '../runtime/session.js';
import { API_KEY_ENV, apiKeysFrom, refuseOpenHost } from '../serve/auth.js';
import { checkOrigin } from '../serve/cors.js';
import { readModelSpecs, type ModelSpec } from '../serve/models.js';
import { buildServer, type ServeSettings } from '../serve/server.js';
import { openServeExtras, type ServeExtrasFlags } from '../turing/serve-plugins.js';
import { MODEL_MAX_LENGTH } from '../tokenizer/truncate.js';
import { UserError } from '../util/errors.js';
import { log } from '../util/log.js';
import { modelDir } from './infer.js';
import { choice, example, float, frozen, int, nonEmpty, usageError } from './options.js';

interface ServeFlags extends ServeExtrasFlags {
  model: string[];
  host: string;
  port: number;
  apiKey: string[];
  maxBatchTokens: number;
  maxWaitMs: number;
  int8: boolean;
  cors?: string;
  rateLimit: number;
  timeoutMs: number;
  faq?: string;
  maxBodyBytes: number;
  maxInputs: number;
  maxInputTokens: number;
  maxQueue: number;
  threads?: number;
  device: Device;
}

const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** `name=<dir>` or `<dir>` (named after the folder). */
export function parseModelSpec(value: string): ModelSpec {
  const eq = value.indexOf('=');
  if (eq > 0 && MODEL_NAME.test(value.slice(0, eq))) return { name: value.slice(0, eq), dir: value.slice(eq + 1) };
  const name = basename(resolve(value));
  if (!MODEL_NAME.test(name)) throw usageError(`--model ${value}: cannot name it after its folder ("${name}"): write --model <name>=${value}`);
  return { name, dir: value };
}

/** The checked, frozen settings `serve` runs with (model folders are read: config.json must be there). */
export async function serveSettings(o: ServeFlags, env: NodeJS.ProcessEnv = process.env): Promise<Readonly<ServeSettings>> {
  const specs = (o.model.length > 0 ? o.model : [modelDir(undefined)]).map(parseModelSpec);
  const names = new Set<string>();
  for (const s of specs) {
    if (names.has(s.name)) throw usageError(`--model: two models are named "${s.name}": name them, e.g. --model a=${s.dir}`);
    names.add(s.name);
    const st = statSync(s.dir, { throwIfNoEntry: false });
    if (!st || !st.isDirectory()) throw new UserError(`--model ${s.dir}: model folder not found`);
  }
  const apiKeys = apiKeysFrom(o.apiKey, env[API_KEY_ENV]);
  const refused = refuseOpenHost(o.host, apiKeys);
  if (refused) throw usageError(refused);
  if (o.cors !== undefined) {
    const bad = checkOrigin(o.cors);
    if (bad) throw usageError(`--cors ${bad}`);
  }
  if (o.faq !== undefined) {
    const st = statSync(o.faq, { throwIfNoEntry: false });
    if (!st || !st.isFile()) throw new UserError(`--faq ${o.faq}: file not found`);
  }
  for (const k of apiKeys) if (k.length < 16) log().warn('an API key shorter than 16 characters is easy to guess: use a long random one (e.g. `openssl rand -hex 24`)');
  return frozen({
    models: await readModelSpecs(specs),
    host: o.host,
    port: o.port,
    apiKeys,
    maxBatchTokens: o.maxBatchTokens,
    maxWaitMs: o.maxWaitMs,
    maxQueue: o.maxQueue,
    session: frozen({ device: o.device, int8: o.int8, ...(o.threads !== undefined ? { threads: o.threads } : {}) }),
    ...(o.faq !== undefined ? { faq: o.faq } : {}),
    ...(o.cors !== undefined ? { cors: o.cors } : {}),
    rateLimit: o.rateLimit,
    timeoutMs: o.timeoutMs,
    maxBodyBytes: o.maxBodyBytes,
    maxInputs: o.maxInputs,
    maxInputTokens: o.maxInputTokens,
  });
}

const collect = (v: string, all: string[]) => [...all, v];

/**
 * `compactlm serve`: the HTTP API (/v1/fill-mask, /v1/embed, /v1/classify, /v1/summarize, /v1/chat, /v1/models),
 * health, metrics, OpenAPI and the web playground at /, over one or more model folders (library: src/serve/).
 * Prints one line with the URL once every model is loaded and warmed up; SIGTERM/SIGINT drain and exit 0.
 */
export function registerServe(program: Command): void {
  const cmd = program
    .command('serve')
    .description('Serve models over HTTP: a JSON API with dynamic batching, health checks, Prometheus metrics, ' +
      'an OpenAPI document and a web playground at /.')
    .option('--model <dir|name=dir>', `a model folder or export folder, optionally named (repeat for several); default: ${DEFAULT_MODEL_NAME}`, collect, [])
    .option('--host <address>', 'address to listen on (anything but loopback needs an API key)', nonEmpty, '127.0.0.1')
    .option('--port <n>', 'port (0: any free port)', int(0, 65535), 8080)
    .option('--api-key <key>', `key clients must send (Authorization: Bearer or x-api-key); repeat for several; default: $${API_KEY_ENV} (comma-separated)`, collect, [])
    .option('--max-batch-tokens <n>', 'padded tokens (rows × longest) per merged run; 0 turns dynamic batching off', int(0, 2 ** 24), 16384)
    .option('--max-wait-ms <ms>', 'how long the first input of a batch waits for others', int(0, 1000), 5)
    .option('--int8', 'export folders: run onnx/model_quantized.onnx (one input per run: its activation scales are per batch)', false)
    .option('--cors <origin>', 'let web pages from this origin (or *) call the API; default: no CORS', nonEmpty)
    .option('--rate-limit <n>', 'requests per second per API key (per client address without keys), bursts of 2×; 0: no limit', float(0, 1e6), 50)
    .option('--timeout-ms <ms>', 'per-request time limit (503 timeout past it)', int(100, 600_000), 30_000)
    .option('--faq <file>', 'FAQ for /v1/chat (masked-LM models answer from it)', nonEmpty)
    .option('--max-body-bytes <n>', 'largest request body', int(1024, 2 ** 30), 1024 * 1024)
    .option('--max-inputs <n>', 'most texts per request', int(1, 4096), 64)
    .option('--max-input-tokens <n>', `most tokens per text, [CLS] and [SEP] included (413 past it)`, int(3, MODEL_MAX_LENGTH), MODEL_MAX_LENGTH)
    .option('--max-queue <n>', 'most inputs waiting per model (503 overloaded past it)', int(1, 1_000_000), 1024)
    .option('--threads <n>', 'ONNX Runtime intra-op threads per model (default: one per core)', int(1, 1024))
    .option('--device <name>', `execution provider: ${DEVICES.join(' | ')}`, choice(DEVICES), 'cpu')
    .option('--turing-db <file>', 'Turing-test database (`compactlm turing import`): turns on the judging page /turing and /v1/turing/*', nonEmpty)
    .option('--feedback-db <file>', 'feedback database (created if missing): POST /v1/feedback appends to it', nonEmpty)
    .option('--no-feedback', 'no feedback store: POST /v1/feedback answers 404 not_available and the server keeps no state (the default without --feedback-db)')
    .action(async (flags: ServeFlags) => {
      const settings = await serveSettings(flags);
      const extras = openServeExtras(flags);
      const server = await buildServer(settings, { plugins: extras.plugins });
      const url = await server.listen();
      log().info({ url, models: settings.models.map((m) => m.name) }, `serve: listening on ${url}, loading ${settings.models.length} model(s)`);

      let stopping: Promise<void> | null = null;
      const stop = (signal: string) => {
        if (stopping) {
          log().warn(`serve: ${signal} again: exiting without waiting`);
          process.exit(1);
        }
        log().info(`serve: ${signal}: not ready, draining in-flight requests`);
        stopping = server.shutdown();
        return stopping;
      };
      const stopped = new Promise<void>((done, fail) => {
        for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => void stop(signal).then(done, fail));
      });
      try {
        await server.load();
      } catch (e) {
        await server.app.close();
        await server.context.models.close();
        extras.close();
        throw e;
      }
      if (!stopping) {
        const models = server.context.models.all.map((m) => `${m.name} (${m.tasks.join(', ')})`).join(', ');
        process.stdout.write(`compactlm serve: ready at ${url} — ${models}; playground at ${url}/${extras.turing ? `; Turing test at ${url}/turing` : ''}\n`);
      }
      await stopped;
      extras.close();
      log().info('serve: stopped');
    });
  example(
    cmd,
    `compactlm serve                                               # ${DEFAULT_MODEL_NAME} on http://127.0.0.1:8080`,
    'compactlm serve --model mini=models/compactlm-mini --model sentiment=models/compactlm-mini-sentiment',
    `${API_KEY_ENV}=$(openssl rand -hex 24) compactlm serve --host 0.0.0.0 --port 8080 --model runs/sentiment-export --int8`,
    'curl -s localhost:8080/v1/fill-mask -H "content-type: application/json" -d \'{"inputs": "Paris is the [MASK] of France."}\'',
  );
}
