/**
 * The HTTP server behind `compactlm serve`: fastify with pino (src/util/log.ts) as its logger and a JSON schema on
 * every route.
 *
 *   const server = await buildServer(settings, { plugins: [turingPlugin] });
 *   const url = await server.listen();          // /health/* answer at once; /v1/* say 503 not_ready until…
 *   await server.load();                        // …every model is loaded and warmed up
 *   process.once('SIGTERM', () => server.shutdown().then(() => process.exit(0)));
 *
 * Every response that is not a success is `{"error": {"code", "message"}}` (errors.ts). Before a route runs, each
 * request goes through, in order: draining (503 shutting_down), the API key (401, routes under /v1/ and
 * /metrics), the rate limit (429 with Retry-After, /v1/ only), readiness (503 not_ready, /v1/ only).
 *
 * Extra routes (the Turing test, feedback) come as plugins: `{ name, register(app, context) }`, registered after
 * the built-in routes and under the same rules (put API routes under /v1/ to get the key and the rate limit);
 * they throw `apiError(status, code, message)` for errors.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import type { Device } from '../runtime/session.js';
import { PACKAGE_ROOT } from '../model/default-model.js';
import { log } from '../util/log.js';
import { ApiKeys } from './auth.js';
import { registerCors } from './cors.js';
import { apiError, sendError, toApiError } from './errors.js';
import { ServeMetrics } from './metrics.js';
import { ModelRegistry, type CheckedModelSpec } from './models.js';
import { registerOpenApi } from './openapi.js';
import { RateLimiter } from './rate-limit.js';
import { ROUTES } from './routes/index.js';

/** The checked settings the CLI builds (src/cli/serve.ts). */
export interface ServeSettings {
  models: CheckedModelSpec[];
  host: string;
  port: number;
  apiKeys: string[];
  maxBatchTokens: number;
  maxWaitMs: number;
  maxQueue: number;
  session: { device?: Device; threads?: number; int8: boolean };
  faq?: string;
  cors?: string;
  /** Requests per second per key (bursts of twice that); 0 = no limit. */
  rateLimit: number;
  timeoutMs: number;
  maxBodyBytes: number;
  maxInputs: number;
  maxInputTokens: number;
}

export type Phase = 'loading' | 'ready' | 'draining';

export interface ServerState {
  phase: Phase;
  /** Set when a model worker died: /health/live then fails, so an orchestrator restarts the process. */
  failure: string | null;
}

/** What routes and plugins get. */
export interface ServeContext {
  settings: Readonly<ServeSettings>;
  models: ModelRegistry;
  metrics: ServeMetrics;
  state: ServerState;
}

export interface ServePlugin {
  name: string;
  register(app: FastifyInstance, context: ServeContext): void | Promise<void>;
}

export interface CompactLmServer {
  app: FastifyInstance;
  context: ServeContext;
  /** Starts listening; resolves with the URL (the port actually bound, for --port 0). */
  listen(): Promise<string>;
  /** Loads and warms up every model, then marks the server ready. */
  load(): Promise<void>;
  /** Not ready, no new connections, in-flight requests finish, workers stop. */
  shutdown(): Promise<void>;
}

const VERSION = (JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version;

/** Served with every response: the playground runs only its own files; nothing is framed or sniffed. */
const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'content-security-policy': "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
};

/** Connections get this long past the request timeout to finish when shutting down, then are cut. */
const DRAIN_GRACE_MS = 5000;

export async function buildServer(settings: Readonly<ServeSettings>, o: { plugins?: readonly ServePlugin[] } = {}): Promise<CompactLmServer> {
  const state: ServerState = { phase: 'loading', failure: null };
  const metrics: ServeMetrics = new ServeMetrics(() => models.depths());
  const models: ModelRegistry = new ModelRegistry(settings.models, settings, metrics);
  const context: ServeContext = { settings, models, metrics, state };
  models.onWorkerDeath((name, e) => {
    state.failure = `the inference worker of model ${name} stopped (${e.message}): restart the server`;
    metrics.setReady(false);
    log().error({ model: name, err: e.message }, 'serve: a model worker died');
  });

  const app = Fastify({
    loggerInstance: log(),
    logController: new LogController({ disableRequestLogging: true }), // one debug line per request instead (onResponse)
    bodyLimit: settings.maxBodyBytes,
    requestTimeout: settings.timeoutMs,
    return503OnClosing: false,
    forceCloseConnections: 'idle',
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: true, allErrors: false, allowUnionTypes: true } },
  }) as unknown as FastifyInstance; // typed with pino's Logger; routes and plugins take the plain instance
  // Plain JSON.stringify: responses are byte-for-byte what `compactlm infer --json` prints (schemas document them).
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  app.setErrorHandler((err, req, reply) => {
    const e = toApiError(err, { bodyLimit: settings.maxBodyBytes });
    if (e.status >= 500 && e.code === 'internal') req.log.error({ err, url: req.url }, 'serve: internal error');
    return sendError(reply, e);
  });
  app.setNotFoundHandler((req, reply) => sendError(reply, apiError(404, 'not_found', `${req.method} ${req.url.split('?')[0]}: no such route (GET /openapi.json lists them)`)));

  if (settings.cors !== undefined) registerCors(app, settings.cors);
  const keys = new ApiKeys(settings.apiKeys);
  const limiter = settings.rateLimit > 0 ? new RateLimiter(settings.rateLimit, Math.max(1, 2 * settings.rateLimit)) : null;
  app.addHook('onRequest', async (req, reply) => {
    if (req.method === 'OPTIONS' && settings.cors !== undefined) return;
    const path = req.url.split('?')[0];
    if (state.phase === 'draining' && !path.startsWith('/health/')) {
      return sendError(reply, apiError(503, 'shutting_down', 'the server is shutting down: retry on another replica', { 'retry-after': '1' }));
    }
    const api = path.startsWith('/v1/');
    if (!api && path !== '/metrics') return;
    let who = `ip:${req.ip}`;
    if (keys.enabled) {
      const key = ApiKeys.fromHeaders(req.headers);
      const index = keys.indexOf(key);
      if (index < 0) {
        return sendError(reply, apiError(401, 'unauthorized', key === undefined
          ? 'an API key is needed: send it as "Authorization: Bearer <key>" or "x-api-key: <key>"' : 'the API key is not valid'),
        { 'www-authenticate': 'Bearer' });
      }
      who = `key:${index}`;
    }
    if (!api) return;
    const take = limiter?.take(who);
    if (take && !take.ok) {
      return sendError(reply, apiError(429, 'rate_limited', `more than ${settings.rateLimit} requests per second: retry in ${take.retryAfterSeconds} s`),
        { 'retry-after': String(take.retryAfterSeconds) });
    }
    if (state.phase !== 'ready') {
      return sendError(reply, apiError(503, 'not_ready', `loading models (${context.models.loaded} of ${settings.models.length} ready): retry shortly`, { 'retry-after': '1' }));
    }
  });
  app.addHook('onSend', async (_req, reply) => {
    // A route may set its own (a plugin's page, its own CSP); these are the defaults.
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) if (!reply.hasHeader(k)) reply.header(k, v);
    // While draining, keep-alive connections close after their response, so the listener can finish closing.
    if (state.phase === 'draining') reply.header('connection', 'close');
  });
  app.addHook('onResponse', async (req, reply) => {
    metrics.request(req.method, req.routeOptions.url ?? 'unmatched', reply.statusCode, reply.elapsedTime / 1000);
    req.log.debug({ method: req.method, url: req.url, status: reply.statusCode, ms: +reply.elapsedTime.toFixed(1) }, 'request');
  });

  await registerOpenApi(app, VERSION);
  for (const route of ROUTES) route(app, context);
  for (const p of o.plugins ?? []) await app.register(async (scope) => p.register(scope, context));

  return {
    app,
    context,
    async listen() {
      return app.listen({ host: settings.host, port: settings.port });
    },
    async load() {
      await context.models.load();
      if (state.phase === 'loading') {
        state.phase = 'ready';
        metrics.setReady(true);
      }
    },
    async shutdown() {
      state.phase = 'draining';
      metrics.setReady(false);
      const cut = setTimeout(() => app.server.closeAllConnections(), settings.timeoutMs + DRAIN_GRACE_MS);
      try {
        await app.close();
        await context.models.idle();
      } finally {
        clearTimeout(cut);
        await context.models.close();
      }
    },
  };
}
