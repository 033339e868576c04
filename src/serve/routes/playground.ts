/**
 * GET / — the web playground: plain HTML, CSS and JS from src/serve/playground/ (in the package, next to dist/;
 * tsc does not copy them), read once at start-up and served from memory. No CDN: it works offline.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { PACKAGE_ROOT } from '../../model/default-model.js';

export const PLAYGROUND_DIR = join(PACKAGE_ROOT, 'src', 'serve', 'playground');

const FILES: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/playground/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/playground/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
};

export function playgroundRoutes(app: FastifyInstance): void {
  for (const [url, { file, type }] of Object.entries(FILES)) {
    const body = readFileSync(join(PLAYGROUND_DIR, file));
    app.get(url, { schema: { hide: true } }, async (_req, reply) => reply.type(type).header('cache-control', 'no-cache').send(body));
  }
}
