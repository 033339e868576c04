/**
 * The OpenAPI 3 document of the server, built by @fastify/swagger from the JSON schemas every route declares, at
 * GET /openapi.json. Register it before the routes (it collects them as they are added).
 */
import swagger from '@fastify/swagger';
import type { FastifyInstance } from 'fastify';

export async function registerOpenApi(app: FastifyInstance, version: string): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'CompactLM API',
        version,
        description: 'Fill-mask, embeddings, classification, summaries and FAQ chat with small BERT models. ' +
          'Errors are {"error": {"code", "message"}}. Routes under /v1/ and /metrics need the API key when the server has one.',
      },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer' },
          apiKey: { type: 'apiKey', in: 'header', name: 'x-api-key' },
        },
      },
    },
    // Routes that need the key say so (the playground and health checks do not).
    transform: ({ schema, url }) => ({
      schema: url.startsWith('/v1/') || url === '/metrics' ? { ...schema, security: [{ bearer: [] }, { apiKey: [] }] } : schema,
      url,
    }),
  });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}
