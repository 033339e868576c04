import { join } from 'node:path';
import { PACKAGE_ROOT } from '../model/default-model.js';

/** Defaults that make the card's examples work as written (resolved from the package root, not the cwd). */

/** The bundled prose corpus (datasets/README.md): what `distill` trains on without --train. */
export const BUNDLED_PROSE = join(PACKAGE_ROOT, 'datasets', 'prose.csv');

/** The text column of every command, unless --text-column says otherwise. */
export const DEFAULT_TEXT_COLUMN = 'text';

/** Where `distill` writes without --out: runs/distill/<student>-from-<teacher>/ (under the cwd, like every run). */
export const DISTILL_RUNS_DIR = join('runs', 'distill');
