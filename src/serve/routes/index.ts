/** Every built-in route, in registration order: adding a route is one file and one line here. */
import type { FastifyInstance } from 'fastify';
import type { ServeContext } from '../server.js';
import { chatRoute } from './chat.js';
import { classifyRoute } from './classify.js';
import { embedRoute } from './embed.js';
import { fillMaskRoute } from './fill-mask.js';
import { healthRoutes } from './health.js';
import { metricsRoute } from './metrics.js';
import { modelsRoute } from './models.js';
import { playgroundRoutes } from './playground.js';
import { summarizeRoute } from './summarize.js';

export const ROUTES: ((app: FastifyInstance, ctx: ServeContext) => void)[] = [
  healthRoutes,
  metricsRoute,
  modelsRoute,
  fillMaskRoute,
  embedRoute,
  classifyRoute,
  summarizeRoute,
  chatRoute,
  playgroundRoutes,
];
