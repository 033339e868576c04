/**
 * GET /health/live (the process answers and every model worker runs) and GET /health/ready (every model loaded and
 * warmed up, not shutting down): 200 `{"status": …}`, else 503 with the error shape saying why.
 */
import type { FastifyInstance } from 'fastify';
import { apiError, ERROR_SCHEMA } from '../errors.js';
import type { ServeContext } from '../server.js';

const STATUS = { type: 'object', properties: { status: { type: 'string' }, models: { type: 'array', items: { type: 'string' } } } };

export function healthRoutes(app: FastifyInstance, ctx: ServeContext): void {
  app.get('/health/live', { schema: { summary: 'Liveness', response: { 200: STATUS, 503: ERROR_SCHEMA } } }, async () => {
    const failure = ctx.state.failure;
    if (failure) throw apiError(503, 'failed', failure);
    return { status: 'live' };
  });
  app.get('/health/ready', { schema: { summary: 'Readiness', response: { 200: STATUS, 503: ERROR_SCHEMA } } }, async () => {
    const { phase, failure } = ctx.state;
    if (phase === 'draining') throw apiError(503, 'shutting_down', 'the server is shutting down');
    if (failure) throw apiError(503, 'failed', failure);
    if (phase !== 'ready') throw apiError(503, 'not_ready', `loading models (${ctx.models.loaded} of ${ctx.models.specs.length} ready)`);
    return { status: 'ready', models: ctx.models.all.map((m) => m.name) };
  });
}
