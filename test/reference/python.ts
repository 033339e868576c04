/**
 * Finds the Python the reference suite compares against (torch, transformers, tokenizers, safetensors, onnx,
 * onnxruntime — what .ci/run installs into .venv-ref/). In order:
 *   1. $COMPACTLM_PYTHON — when set it must be usable: a broken explicit choice is an error, not a skip;
 *   2. <repo>/.venv-ref/bin/python (made by .ci/run);
 *   3. python3 on PATH, if it has those packages.
 * Users never need Python; CI does. Without one the suite prints one line and is skipped — except under CI=true,
 * where that is a failing test instead (so .ci/run cannot pass without the reference checks).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const REFERENCE_MODULES = ['torch', 'transformers', 'tokenizers', 'safetensors', 'onnx', 'onnxruntime'];
const NONE = 'no Python with torch+transformers';
export const SKIP_LINE = `reference tests skipped: ${NONE}; set COMPACTLM_PYTHON`;

/** The modules `python` lacks ([] = usable), or null when it does not run at all. Cheap: finds, does not import. */
export function missingModules(python: string): string[] | null {
  const probe = 'import importlib.util, sys; print(" ".join(m for m in sys.argv[1:] if importlib.util.find_spec(m) is None))';
  const r = spawnSync(python, ['-c', probe, ...REFERENCE_MODULES], { encoding: 'utf8', timeout: 30_000 });
  if (r.error || r.status !== 0) return null;
  return r.stdout.trim().split(/\s+/).filter(Boolean);
}

export type PythonLookup =
  | { python: string; from: string }
  | { python: null; problem: string; explicit: boolean };

export function findReferencePython(env: NodeJS.ProcessEnv = process.env): PythonLookup {
  const explicit = env.COMPACTLM_PYTHON;
  if (explicit) {
    const missing = missingModules(explicit);
    if (missing === null) return { python: null, problem: `COMPACTLM_PYTHON=${explicit} does not run`, explicit: true };
    if (missing.length > 0) return { python: null, problem: `COMPACTLM_PYTHON=${explicit} lacks ${missing.join(', ')}`, explicit: true };
    return { python: explicit, from: 'COMPACTLM_PYTHON' };
  }
  const venv = join(REPO, '.venv-ref', 'bin', 'python');
  for (const [python, from] of [[venv, '.venv-ref'], ['python3', 'PATH']] as const) {
    if (python === venv && !existsSync(venv)) continue;
    if (missingModules(python)?.length === 0) return { python, from };
  }
  return { python: null, problem: NONE, explicit: false };
}

/**
 * `describe` for tests that need the reference Python: runs `body(python)` when there is one. Otherwise prints
 * SKIP_LINE once and skips — or, under CI=true or with a broken COMPACTLM_PYTHON, registers one failing test.
 */
export function describeWithPython(title: string, body: (python: string) => void): void {
  const found = findReferencePython();
  if (found.python !== null) {
    describe(`${title} (${found.from}: ${found.python})`, () => body(found.python));
    return;
  }
  if (found.explicit || process.env.CI === 'true') {
    describe(title, () => {
      test('a Python with the reference packages is available', () => {
        throw new Error(found.explicit ? found.problem
          : `${found.problem} (looked at $COMPACTLM_PYTHON, .venv-ref/bin/python, python3): under CI=true the reference suite must run, not be skipped; .ci/run makes .venv-ref/`);
      });
    });
    return;
  }
  process.stderr.write(`${SKIP_LINE}\n`);
  describe.skip(title, () => body(''));
}
