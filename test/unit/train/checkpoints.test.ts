import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { checkpointName, Checkpoints, latestCheckpoint } from '../../../src/train/checkpoints.js';

let run: string;
beforeEach(async () => {
  run = await fsp.mkdtemp(join(tmpdir(), 'compactlm-ckpt-'));
});
afterEach(async () => {
  await fsp.rm(run, { recursive: true, force: true });
});

const files = (step: number) => ({ 'weights.bin': new Uint8Array(1000 + step).fill(step & 255), 'state.json': JSON.stringify({ step }) });

describe('Checkpoints', () => {
  test('keeps the last K plus the best by validation loss; index.json says so', async () => {
    const ckpts = new Checkpoints(run, { keep: 3 });
    const losses = [5, 4, 3.5, 3.9, 3.8, 3.7];
    for (let k = 0; k < losses.length; k++) await ckpts.save(100 * (k + 1), files(100 * (k + 1)), { score: losses[k] });
    const names = (await fsp.readdir(ckpts.dir)).sort();
    expect(names).toEqual(['index.json', 'step-000300', 'step-000400', 'step-000500', 'step-000600']);
    expect(await ckpts.index()).toEqual({
      latest: 'step-000600',
      best: 'step-000300',
      bestScore: 3.5,
      checkpoints: [
        { name: 'step-000300', step: 300, score: 3.5 },
        { name: 'step-000400', step: 400, score: 3.9 },
        { name: 'step-000500', step: 500, score: 3.8 },
        { name: 'step-000600', step: 600, score: 3.7 },
      ],
    });
    expect((await latestCheckpoint(run))!.step).toBe(600);
    expect((await new Checkpoints(run).best())!.step).toBe(300);
    // a new best replaces the old one, which then rotates out
    await ckpts.save(700, files(700), { score: 3.0 });
    expect((await ckpts.list()).map((c) => c.step)).toEqual([500, 600, 700]);
    expect((await ckpts.index())!.best).toBe('step-000700');
    // saves without a validation loss never become best
    await ckpts.save(800, files(800));
    expect((await new Checkpoints(run).best())!.step).toBe(700);
  });

  test('files come back byte for byte, with sizes in checkpoint.json', async () => {
    const info = await new Checkpoints(run).save(42, files(42), { score: 1.25 });
    expect(info.name).toBe(checkpointName(42));
    expect(info.name).toBe('step-000042');
    const latest = (await latestCheckpoint(run))!;
    expect(latest).toEqual(info);
    expect(new Uint8Array(await fsp.readFile(join(latest.dir, 'weights.bin')))).toEqual(files(42)['weights.bin']);
    expect(JSON.parse(await fsp.readFile(join(latest.dir, 'state.json'), 'utf8'))).toEqual({ step: 42 });
    expect(latest.files).toEqual({ 'weights.bin': 1042, 'state.json': '{"step":42}'.length });
  });

  test('a lazy file is made when it is written, in order, and its parts are written one after another', async () => {
    const made: string[] = [];
    const info = await new Checkpoints(run).save(43, {
      'a.bin': async () => { made.push('a'); return [Uint8Array.of(1, 2), Uint8Array.of(), Uint8Array.of(3)]; },
      'b.bin': async () => { made.push('b'); return Uint8Array.of(9); },
    });
    expect(made).toEqual(['a', 'b']);
    expect([...await fsp.readFile(join(info.dir, 'a.bin'))]).toEqual([1, 2, 3]);
    expect(info.files).toEqual({ 'a.bin': 3, 'b.bin': 1 });
    const meta = JSON.parse(await fsp.readFile(join(info.dir, 'checkpoint.json'), 'utf8'));
    expect(meta.sha256['a.bin']).toBe(createHash('sha256').update(Uint8Array.of(1, 2, 3)).digest('hex'));
  });

  test('temp folders and incomplete step folders are ignored, and the next save removes leftovers', async () => {
    const ckpts = new Checkpoints(run);
    await ckpts.save(10, files(10), { score: 2 });
    // an interrupted save: the temp folder has a partial file, no checkpoint.json
    const tmp = join(ckpts.dir, '.tmp-step-000020-12345');
    await fsp.mkdir(tmp);
    await fsp.writeFile(join(tmp, 'weights.bin'), new Uint8Array(3));
    // a step folder whose file was truncated behind our back, and one without its checkpoint.json
    await ckpts.save(30, files(30), { score: 1 });
    await fsp.truncate(join(ckpts.dir, 'step-000030', 'weights.bin'), 10);
    await fsp.mkdir(join(ckpts.dir, 'step-000040'));
    expect((await latestCheckpoint(run))!.step).toBe(10);
    expect((await new Checkpoints(run).best())!.step).toBe(10);
    await ckpts.save(50, files(50));
    expect(existsSync(tmp)).toBe(false);
    expect((await latestCheckpoint(run))!.step).toBe(50);
    expect(await latestCheckpoint(join(run, 'nothing-here'))).toBeNull();
  });

  test('re-saving a step (resumed from an earlier checkpoint) replaces it; no temp files remain', async () => {
    const ckpts = new Checkpoints(run, { keep: 2 });
    await ckpts.save(5, files(5), { score: 9 });
    await ckpts.save(5, { 'weights.bin': new Uint8Array([1, 2, 3]) }, { score: 8 });
    const latest = (await latestCheckpoint(run))!;
    expect(latest.files).toEqual({ 'weights.bin': 3 });
    expect(latest.score).toBe(8);
    expect((await fsp.readdir(ckpts.dir)).sort()).toEqual(['index.json', 'step-000005']);
    await expect(ckpts.save(6, { 'checkpoint.json': 'x' })).rejects.toThrow(/bad checkpoint file name/);
    await expect(ckpts.save(6, { '../x': 'x' })).rejects.toThrow(/bad checkpoint file name/);
  });

  test('kill -9 at random moments while saving never leaves a corrupt latest checkpoint', async () => {
    // The child runs the built module (dist/, made by `npm run build` / npm test's pretest).
    const dist = fileURLToPath(new URL('../../../dist/train/checkpoints.js', import.meta.url));
    expect(existsSync(dist)).toBe(true);
    const child = `
      import { Checkpoints } from ${JSON.stringify(pathToFileURL(dist).href)};
      const c = new Checkpoints(process.argv[1], { keep: 2 });
      for (let step = 1; ; step++) {
        await c.save(step, { 'weights.bin': new Uint8Array(1 << 20).fill(step & 255), 'state.json': JSON.stringify({ step }) }, { score: 1 / step });
        process.stdout.write(step + '\\n');
      }`;
    let lastSeen = 0;
    for (const delayMs of [0, 3, 7, 13, 29]) {
      const proc = spawn(process.execPath, ['--input-type=module', '-e', child, run], { stdio: ['ignore', 'pipe', 'inherit'] });
      await new Promise<void>((resolve) => {
        let out = '';
        proc.stdout!.on('data', (d) => {
          out += d;
          const saved = out.trim().split('\n').length;
          if (saved >= 2 && !proc.killed) setTimeout(() => proc.kill('SIGKILL'), delayMs);
        });
        proc.on('exit', () => resolve());
      });
      const latest = (await latestCheckpoint(run))!;
      expect(latest).not.toBeNull();
      expect(latest.step).toBeGreaterThanOrEqual(2);
      const weights = await fsp.readFile(join(latest.dir, 'weights.bin'));
      expect(weights.length).toBe(1 << 20);
      expect(weights.every((b) => b === (latest.step & 255))).toBe(true);
      expect(JSON.parse(await fsp.readFile(join(latest.dir, 'state.json'), 'utf8'))).toEqual({ step: latest.step });
      lastSeen = latest.step;
      await fsp.rm(join(run, 'checkpoints'), { recursive: true });
    }
    expect(lastSeen).toBeGreaterThan(0);
  });
});
