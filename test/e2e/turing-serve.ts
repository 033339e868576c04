/**
 * `compactlm serve` as a child process for the Turing-test and feedback end-to-end tests: started with the tiny
 * shipped model (fast to load) on a free loopback port, ready when it prints its "ready at <url>" line.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { REPO } from './helpers/classifier-fixture.js';

export interface ServeProcess {
  url: string;
  child: ChildProcess;
  stderr: () => string;
  /** SIGTERM, then waits for the exit (status 0 after draining). */
  stop(): Promise<number | null>;
}

export function startServe(args: string[], cwd: string): Promise<ServeProcess> {
  const child = spawn(join(REPO, 'bin', 'compactlm'), ['serve', '--model', join(REPO, 'models', 'compactlm-tiny'), '--port', '0', '--threads', '1', ...args],
    { cwd, env: { ...process.env, CI: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /ready at (http:\/\/\S+?) /.exec(out);
      if (m) resolve({ url: m[1], child, stderr: () => err, stop: async () => (child.kill('SIGTERM'), exited) });
    });
    void exited.then((code) => reject(new Error(`compactlm serve exited (${code}) before it was ready:\n${err.slice(-2000)}`)));
  });
}
