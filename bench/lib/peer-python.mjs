// The Python that the benches' PyTorch / Hugging Face peers run on, found one way for every bench:
//   1. COMPACTLM_PYTHON (BENCH_PYTHON is an older alias), when set: that one or none;
//   2. .venv-ref/bin/python, the reference environment .ci/run makes;
//   3. .venv-bench/ (git-ignored), made here on first use: `python3 -m venv` + `pip install torch transformers`.
// Not Debian's /usr/bin/python3: its python3-torch calls whatever libblas.so.3 the system has, which is no fair peer.
// The chosen interpreter must import the needed modules, else the peer is skipped with the reason.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const BENCH_VENV = join(root, '.venv-bench');
const cache = new Map();
// What the bench venv always gets, whichever bench makes it first (the peers between them need both).
const BENCH_PACKAGES = ['torch', 'transformers'];

/** Module versions (`torch 2.13.0 transformers 5.18.0`) if `python` imports every module of `need`, else the error. */
function probe(python, need) {
  const code = `import ${need.join(', ')}\nprint(' '.join(f"{m.__name__} {getattr(m, '__version__', '?')}" for m in (${need.join(', ')},)))`;
  const r = spawnSync(python, ['-c', code], { encoding: 'utf8' });
  if (r.error) return { error: r.error.code === 'ENOENT' ? 'no such program' : r.error.message };
  if (r.status !== 0) return { error: lastLine(r.stderr) || `exit ${r.status}` };
  return { versions: r.stdout.trim() };
}

const lastLine = (s) => (s ?? '').trim().split('\n').filter(Boolean).pop() ?? '';

/**
 * Installs BENCH_PACKAGES and `need` into .venv-bench/, first making it (again, where its python does not run);
 * returns null or why it failed. pip on these machines reads local indexes listed in `pip config get
 * global.extra-index-url`: the first becomes the index and the rest extra ones (as .ci/run does), so pip never waits
 * on the unreachable default index (pip's timeout here is 180 s a try); with none configured, plain pip.
 */
function installBenchVenv(need) {
  const packages = [...new Set([...BENCH_PACKAGES, ...need])];
  const py = join(BENCH_VENV, 'bin', 'python');
  if (spawnSync(py, ['-c', '']).status !== 0) {
    rmSync(BENCH_VENV, { recursive: true, force: true });
    console.error(`peer python: creating .venv-bench/ (python3 -m venv; pip install ${packages.join(' ')}), first use only`);
    const venv = spawnSync('python3', ['-m', 'venv', BENCH_VENV], { encoding: 'utf8' });
    if (venv.error || venv.status !== 0) return `python3 -m venv .venv-bench: ${venv.error?.message ?? lastLine(venv.stderr)}`;
  } else {
    console.error(`peer python: pip install ${packages.join(' ')} into .venv-bench/`);
  }
  const urls = spawnSync(py, ['-m', 'pip', 'config', 'get', 'global.extra-index-url'], { encoding: 'utf8' });
  const [index, ...extra] = urls.status === 0 ? urls.stdout.trim().split(/\s+/).filter(Boolean) : [];
  const env = { ...process.env, ...(index ? { PIP_INDEX_URL: index, PIP_EXTRA_INDEX_URL: extra.join(' ') } : {}) };
  // pip's output goes to a file: torch's install log is long, and only its last line is news when it fails.
  const logDir = mkdtempSync(join(tmpdir(), 'peer-python-'));
  const log = join(logDir, 'pip.log');
  try {
    const pip = spawnSync(py, ['-m', 'pip', 'install', '--disable-pip-version-check', '--no-input', '--log', log, ...packages], { encoding: 'utf8', env, maxBuffer: 1 << 28 });
    if (pip.error) return `pip install ${packages.join(' ')}: ${pip.error.message}`;
    if (pip.status !== 0) {
      const why = lastLine(pip.stderr) || lastLine(existsSync(log) ? readFileSync(log, 'utf8') : '') || `exit ${pip.status}`;
      return `pip install ${packages.join(' ')}${index ? ` (index ${index})` : ''}: ${why}`;
    }
    return null;
  } finally {
    rmSync(logDir, { recursive: true, force: true });
  }
}

/**
 * The peer's interpreter: `{ python, versions, from }`, or `{ skipped }` with the reason. Prints one stderr line
 * either way. `need`: the modules the peer imports (pip names and module names coincide for torch and transformers).
 */
export function peerPython({ need = BENCH_PACKAGES } = {}) {
  const key = need.join(',');
  if (!cache.has(key)) cache.set(key, find(need));
  return cache.get(key);
}

function find(need) {
  const chosen = (python, from) => {
    const p = probe(python, need);
    if (p.error) return { error: p.error };
    console.error(`peer python: ${python} (${p.versions}; ${from})`);
    return { python, versions: p.versions, from };
  };
  const skip = (why) => {
    console.error(`peer python: none, the PyTorch peer is skipped: ${why}`);
    return { skipped: why };
  };

  const override = process.env.COMPACTLM_PYTHON ? 'COMPACTLM_PYTHON' : process.env.BENCH_PYTHON ? 'BENCH_PYTHON' : null;
  if (override) {
    const r = chosen(process.env[override], override);
    return r.error ? skip(`${override}=${process.env[override]}: ${r.error}`) : r;
  }
  const ref = join(root, '.venv-ref', 'bin', 'python');
  if (existsSync(ref)) {
    const r = chosen(ref, '.venv-ref/, as .ci/run makes it');
    if (!r.error) return r;
  }
  const bench = join(BENCH_VENV, 'bin', 'python');
  if (existsSync(bench)) {
    const r = chosen(bench, '.venv-bench/');
    if (!r.error) return r;
  }
  const failed = installBenchVenv(need);
  if (failed) return skip(failed);
  const r = chosen(bench, '.venv-bench/, just installed');
  return r.error ? skip(`.venv-bench/ was created, but its python says: ${r.error}`) : r;
}
