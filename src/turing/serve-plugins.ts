/**
 * What `compactlm serve --turing-db <file> --feedback-db <file> | --no-feedback` adds to the server (src/serve/
 * server.ts plugins): the Turing-test page and routes when a Turing database is given, and POST /v1/feedback,
 * which stores feedback with --feedback-db and otherwise answers 404 not_available (the server stays stateless).
 * The databases are opened (created if missing) before the server starts, so a wrong file is one line at start-up.
 */
import type { ServePlugin } from '../serve/server.js';
import { feedbackRoutes } from '../feedback/routes.js';
import { FeedbackStore } from '../feedback/store.js';
import { UserError } from '../util/errors.js';
import { turingRoutes } from './routes.js';
import { TuringStore } from './store.js';

export interface ServeExtrasFlags {
  turingDb?: string;
  feedbackDb?: string;
  /** false with --no-feedback. */
  feedback: boolean;
}

export interface ServeExtras {
  plugins: ServePlugin[];
  turing: boolean;
  feedback: boolean;
  close(): void;
}

export function openServeExtras(o: ServeExtrasFlags): ServeExtras {
  if (o.feedbackDb !== undefined && !o.feedback) throw new UserError('give --feedback-db <file> (feedback on) or --no-feedback (off), not both', 2);
  const turing = o.turingDb !== undefined ? TuringStore.open(o.turingDb, { create: true }) : null;
  let feedback: FeedbackStore | null = null;
  try {
    feedback = o.feedbackDb !== undefined ? FeedbackStore.open(o.feedbackDb, { create: true }) : null;
  } catch (e) {
    turing?.close();
    throw e;
  }
  const plugins: ServePlugin[] = [{ name: 'feedback', register: (app) => feedbackRoutes(app, { store: feedback }) }];
  if (turing) plugins.push({ name: 'turing', register: (app) => turingRoutes(app, { store: turing }) });
  return {
    plugins,
    turing: turing !== null,
    feedback: feedback !== null,
    close() {
      turing?.close();
      feedback?.close();
    },
  };
}
