/**
 * `compactlm serve` as a user starts it, for the API and browser tests: the built CLI on a loopback port chosen
 * by the OS (`--port 0`), with JSON logs so the test can read the URL from the "listening" line before the models
 * are loaded (readiness tests), and the ready line on stdout.
 *
 *   const s = await startServe('main', ['--model', 'models/compactlm-tiny']);   // resolves once listening
 *   await s.ready;                                                                // the one stdout line
 *   const r = await call(s.url, '/v1/embed', { body: { inputs: 'hello' } });
 *   await s.stop();                                                                // SIGTERM → exit code
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('../../..', import.meta.url));

export interface Served {
  name: string;
  url: string;
  proc: ChildProcess;
  /** Resolves when the ready line is printed; rejects if the process exits first. */
  ready: Promise<void>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stdout(): string;
  stderr(): string;
  /** SIGTERM, then the exit. */
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function startServe(name: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Served> {
  if (!existsSync(join(REPO, 'dist', 'cli', 'main.js'))) throw new Error('dist/ is not built: run `npm run build` first');
  const proc = spawn(join(REPO, 'bin', 'compactlm'), ['--log-json', 'serve', '--port', '0', ...args], {
    cwd: REPO, env: { ...process.env, COMPACTLM_API_KEY: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => proc.on('exit', (code, signal) => res({ code, signal })));
  const ready = new Promise<void>((res, rej) => {
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('compactlm serve: ready at')) res();
    });
    void exited.then(({ code }) => rej(new Error(`${name}: serve exited (${code}) before it was ready:\n${err.slice(-2000)}`)));
  });
  ready.catch(() => undefined);
  let listening = false;
  return new Promise((resolve, reject) => {
    proc.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      const m = listening ? null : /"url":"(http:\/\/[^"]+)"/.exec(err);
      if (m) {
        listening = true;
        const url = m[1];
        // The chosen port, as the issue asks the test to print it.
        console.log(`serve e2e: ${name} listening on ${url}`);
        resolve({
          name, url, proc, ready, exited,
          stdout: () => out,
          stderr: () => err,
          async stop() {
            if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
            return exited;
          },
        });
      }
    });
    void exited.then(({ code }) => reject(new Error(`${name}: serve exited (${code}) before listening:\n${err.slice(-2000)}`)));
  });
}

export interface Answer {
  status: number;
  headers: Headers;
  json: any;
  text: string;
}

/** One HTTP request; `body` is sent as JSON unless `raw` is given. */
export async function call(url: string, path: string, o: { body?: unknown; raw?: string; headers?: Record<string, string>; method?: string } = {}): Promise<Answer> {
  const hasBody = o.body !== undefined || o.raw !== undefined;
  const res = await fetch(url + path, {
    method: o.method ?? (hasBody ? 'POST' : 'GET'),
    headers: { ...(o.body !== undefined ? { 'content-type': 'application/json' } : {}), ...o.headers },
    body: o.raw ?? (o.body !== undefined ? JSON.stringify(o.body) : undefined),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, json, text };
}

/** The sum of a Prometheus sample (`name{labels…} value`) whose labels include every pair of `labels`. */
export function metric(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  let seen = false;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) {
      sum += Number(m[3]);
      seen = true;
    }
  }
  return seen ? sum : NaN;
}
