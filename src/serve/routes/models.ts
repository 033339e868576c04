/** GET /v1/models — what is loaded and which tasks each model does: `{"models": [{name, architecture, tasks, …}]}`. */
import type { FastifyInstance } from 'fastify';
import type { ServeContext } from '../server.js';

const MODEL = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    architecture: { type: 'string' },
    tasks: { type: 'array', items: { type: 'string' } },
    labels: { type: 'array', items: { type: 'string' } },
    max_input_tokens: { type: 'integer' },
    hidden_size: { type: 'integer' },
    num_hidden_layers: { type: 'integer' },
    vocab_size: { type: 'integer' },
  },
};

export function modelsRoute(app: FastifyInstance, ctx: ServeContext): void {
  app.get('/v1/models', {
    schema: { summary: 'The loaded models and their tasks', response: { 200: { type: 'object', properties: { models: { type: 'array', items: MODEL } } } } },
  }, async () => ({ models: ctx.models.all.map((m) => m.describe()) }));
}
