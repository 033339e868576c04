/**
 * CORS, off unless `serve --cors <origin>`: then requests from that origin (or any, with `*`) may read responses,
 * and browsers' preflight OPTIONS requests are answered (without a key: browsers send none on a preflight).
 */
import type { FastifyInstance } from 'fastify';

const ALLOW_HEADERS = 'authorization, content-type, x-api-key';

export function registerCors(app: FastifyInstance, allowed: string): void {
  app.addHook('onRequest', async (req, reply) => {
    const origin = req.headers.origin;
    if (origin === undefined || (allowed !== '*' && origin !== allowed)) return;
    reply.header('access-control-allow-origin', allowed === '*' ? '*' : origin).header('vary', 'Origin');
    reply.header('access-control-expose-headers', 'retry-after');
  });
  app.options('/*', { schema: { hide: true } }, async (_req, reply) => {
    reply.header('access-control-allow-methods', 'GET, POST, OPTIONS').header('access-control-allow-headers', ALLOW_HEADERS)
      .header('access-control-max-age', '600').code(204).send();
  });
}

/** A `--cors` value: `*` or an origin (scheme://host[:port], nothing after). */
export function checkOrigin(value: string): string | null {
  if (value === '*') return null;
  try {
    const u = new URL(value);
    if ((u.protocol === 'http:' || u.protocol === 'https:') && u.origin === value) return null;
  } catch {
    // fall through
  }
  return `"${value}" is not an origin: write scheme://host[:port] with nothing after it (e.g. https://app.example.com), or *`;
}
