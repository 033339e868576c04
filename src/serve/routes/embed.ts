/**
 * POST /v1/embed — mean-pooled sentence vectors: `{"inputs": "The weather is lovely."}` → `{text, embedding, dim}`,
 * as `compactlm infer --task embed` prints it (not normalized: divide by the L2 norm for cosine similarity).
 */
import type { FastifyInstance } from 'fastify';
import type { ServeContext } from '../server.js';
import { rowTaskRoute } from './task-route.js';

export const EMBED_RESULT = {
  type: 'object',
  properties: { text: { type: 'string' }, embedding: { type: 'array', items: { type: 'number' } }, dim: { type: 'integer' } },
};

export function embedRoute(app: FastifyInstance, ctx: ServeContext): void {
  rowTaskRoute(app, ctx, { url: '/v1/embed', task: 'embed', summary: 'Sentence embeddings (mean pooling)', result: EMBED_RESULT, job: (row) => ({ task: 'embed', row }) });
}
