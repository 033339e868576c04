/** GET /metrics — Prometheus text format (metrics.ts lists what is there). */
import type { FastifyInstance } from 'fastify';
import type { ServeContext } from '../server.js';

export function metricsRoute(app: FastifyInstance, ctx: ServeContext): void {
  app.get('/metrics', { schema: { summary: 'Prometheus metrics', produces: ['text/plain'] } }, async (_req, reply) => {
    reply.type(ctx.metrics.contentType);
    return ctx.metrics.text();
  });
}
